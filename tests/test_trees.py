"""Tree sources on real git repositories: reading, whole-word grep, choosing the tree."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from series_tool.errors import BadInput
from series_tool.model import word_pattern
from series_tool.replay import DirTree, GitTree, GrepHit, NoTree, open_tree, scan_text

MakeRepo = Callable[[Path, dict[str, str]], Path]

FILES = {
    "a.c": "int foo(void);\nint foo_bar;\n/* foo */ x = foo(1);\n",
    "dir/b.h": "#define FOO foo\nbarfoo\n",
    "sp ace/é.c": "call(foo);\n",
    "other.txt": "nothing here\n",
}


def _git_grep_rev(repo: Path, rev: str, *symbols: str) -> list[GrepHit]:
    """What plain `git grep -n -w` says at `rev`, parsed independently of trees.py."""
    args = ["grep", "-n", "-w", "-I", "-z"]
    for s in symbols:
        args += ["-e", s]
    proc = subprocess.run(
        ["git", "-C", str(repo), *args, rev, "--"], capture_output=True, check=False
    )
    hits = []
    for rec in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        path, line, text = rec.split("\0", 2)
        hits.append(GrepHit(path.removeprefix(f"{rev}:"), int(line), text))
    return sorted(hits, key=lambda h: (h.path, h.line))


# --------------------------------------------------------------------------- GitTree


def test_git_tree_reads_blobs(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, {**FILES, "bad.c": "caf\udce9\n"})
    tree = GitTree(str(repo), "HEAD")
    assert tree.kind == "git" and tree.base == git(repo, "rev-parse", "HEAD").strip()
    assert tree.read("a.c") == FILES["a.c"]
    assert tree.read("sp ace/é.c") == FILES["sp ace/é.c"]
    assert tree.read("bad.c") == "caf\udce9\n"  # invalid UTF-8 survives (surrogateescape)
    assert tree.read("missing.c") is None
    assert tree.read("dir") is None  # a directory is not a file
    assert tree.exists("dir/b.h") and not tree.exists("nope")
    many = tree.read_many(["dir/b.h", "missing.c", "a.c", "dir", "a.c"])
    assert many == {
        "dir/b.h": FILES["dir/b.h"],
        "missing.c": None,
        "a.c": FILES["a.c"],
        "dir": None,
    }


def test_git_tree_reads_the_base_not_the_worktree(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.c").write_text("changed\n")
    git(repo, "commit", "-qam", "second")
    (repo / "a.c").write_text("worktree\n")
    assert GitTree(str(repo), first).read("a.c") == FILES["a.c"]
    assert GitTree(str(repo), "HEAD").read("a.c") == "changed\n"


def test_grep_whole_words_sorted(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    hits = GitTree(str(repo), "HEAD").grep_words(["foo"])
    assert hits == _git_grep_rev(repo, "HEAD", "foo")
    assert [(h.path, h.line) for h in hits] == [
        ("a.c", 1),
        ("a.c", 3),
        ("dir/b.h", 1),
        ("sp ace/é.c", 1),
    ]
    both = GitTree(str(repo), "HEAD").grep_words(["foo_bar", "FOO"])
    assert [(h.path, h.line) for h in both] == [("a.c", 2), ("dir/b.h", 1)]
    assert GitTree(str(repo), "HEAD").grep_words([]) == []


def test_grep_symbols_are_literal(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, {"x.c": "a.b\naxb\n"})
    assert [h.line for h in GitTree(str(repo), "HEAD").grep_words(["a.b"])] == [1]


def test_grep_on_head_ignores_worktree_and_index_changes(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    repo = make_repo(tmp_path, FILES)
    expected = _git_grep_rev(repo, "HEAD", "foo")
    (repo / "a.c").write_text("no match now\n")  # hit removed in the worktree
    (repo / "other.txt").write_text("foo added\n")  # hit added in the worktree
    (repo / "dir/b.h").unlink()  # deleted in the worktree
    (repo / "untracked.c").write_text("foo\n")  # untracked
    (repo / "staged.c").write_text("foo\n")
    git(repo, "add", "staged.c")  # only in the index
    git(repo, "rm", "-q", "--cached", "sp ace/é.c")  # only in HEAD and the worktree
    assert GitTree(str(repo), "HEAD").grep_words(["foo"]) == expected


def test_grep_at_another_revision(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.c").write_text("foo only once\n")
    git(repo, "commit", "-qam", "second")
    assert GitTree(str(repo), first).grep_words(["foo"]) == _git_grep_rev(repo, first, "foo")
    assert GitTree(str(repo), "HEAD~1").grep_words(["foo"])[0] == GrepHit(
        "a.c", 1, "int foo(void);"
    )


def test_git_tree_leaves_the_checkout_untouched(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    (repo / "a.c").write_text("dirty foo\n")
    (repo / "new.c").write_text("foo\n")
    git(repo, "add", "new.c")
    git(repo, "stash", "list")
    index = repo / ".git" / "index"
    before = (
        git(repo, "status", "--porcelain"),
        git(repo, "stash", "list"),
        git(repo, "for-each-ref"),
        git(repo, "rev-parse", "HEAD"),
        index.stat().st_mtime_ns,
        index.read_bytes(),
    )
    time.sleep(0.01)
    tree = open_tree(str(repo), None, None, str(tmp_path))
    tree.grep_words(["foo"])
    tree.read_many(["a.c", "new.c"])
    GitTree(str(repo), "HEAD~0").grep_words(["foo"])
    after = (
        git(repo, "status", "--porcelain"),
        git(repo, "stash", "list"),
        git(repo, "for-each-ref"),
        git(repo, "rev-parse", "HEAD"),
        index.stat().st_mtime_ns,
        index.read_bytes(),
    )
    # git status itself may refresh the index, so compare from the first status on.
    assert after[:4] == before[:4]
    assert (repo / "a.c").read_text() == "dirty foo\n"


def test_index_untouched_by_tree_use_alone(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    (repo / "a.c").write_text("dirty\n")
    index = repo / ".git" / "index"
    mtime, data = index.stat().st_mtime_ns, index.read_bytes()
    time.sleep(0.01)
    tree = GitTree(str(repo), "HEAD")
    tree.grep_words(["foo", "bar"])
    tree.read("a.c")
    assert (index.stat().st_mtime_ns, index.read_bytes()) == (mtime, data)
    assert not list((repo / ".git").glob("*.lock"))


# --------------------------------------------------------------------------- word boundaries

_chars = st.sampled_from(list("ab_1 .(*)\t-é"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.text(_chars, max_size=12), min_size=1, max_size=6),
    sym=st.sampled_from(["a", "ab", "a_b", "b1"]),
)
def test_scan_text_agrees_with_git_grep(tmp_path: Path, lines: list[str], sym: str) -> None:
    text = "\n".join(lines) + "\n"
    (tmp_path / "f.c").write_text(text, encoding="utf-8")
    proc = subprocess.run(
        ["git", "grep", "--no-index", "-n", "-w", "-F", "-e", sym, "--", "f.c"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    expected = [int(ln.split(":", 2)[1]) for ln in proc.stdout.decode().splitlines()]
    assert [h.line for h in scan_text("f.c", text, word_pattern([sym]))] == expected


def test_scan_text_skips_binary() -> None:
    assert scan_text("x", "foo\0\nfoo\n", word_pattern(["foo"])) == []


# --------------------------------------------------------------------------- DirTree / NoTree


def test_dir_tree(tmp_path: Path) -> None:
    d = tmp_path / "plain"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "x.c").write_text("foo();\nfoobar();\n")
    (d / ".git").mkdir()
    (d / ".git" / "y.c").write_text("foo\n")
    (tmp_path / "outside.c").write_text("secret\n")
    tree = DirTree(str(d))
    assert tree.kind == "dir" and tree.base is None
    assert tree.read("sub/x.c") == "foo();\nfoobar();\n"
    assert tree.read("../outside.c") is None and tree.read("/etc/passwd") is None
    assert tree.read("sub") is None and not tree.exists("nope.c")
    assert tree.grep_words(["foo"]) == [GrepHit("sub/x.c", 1, "foo();")]


def test_no_tree() -> None:
    tree = NoTree()
    assert tree.kind == "series-only" and tree.read("a") is None and not tree.exists("a")
    assert tree.read_many(["a", "b"]) == {"a": None, "b": None}
    assert tree.grep_words(["x"]) == []


# --------------------------------------------------------------------------- open_tree


def test_open_tree_choices(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.c").write_text("second\n")
    git(repo, "commit", "-qam", "second")
    head2 = git(repo, "rev-parse", "HEAD").strip()

    t = open_tree(str(repo), None, None, "/")
    assert (t.kind, t.base) == ("git", head2)
    assert open_tree(str(repo), head[:10], None, "/").base == head
    assert open_tree(str(repo), None, head, "/").base == head  # the series' base-commit
    assert open_tree(str(repo), None, "f" * 40, "/").base == head2  # unknown base: HEAD
    assert open_tree("repo", None, None, str(tmp_path)).kind == "git"  # relative to cwd
    assert open_tree(str(repo / "dir"), None, None, "/").kind == "dir"  # nested, not a top level
    assert open_tree(None, None, None, str(repo / "dir")).path == str(repo.resolve())
    assert open_tree(None, None, None, str(tmp_path)).kind == "series-only"

    with pytest.raises(BadInput) as bad:
        open_tree(str(repo), "nosuchrev", None, "/")
    assert bad.value.where == "--base" and "unknown revision 'nosuchrev'" in bad.value.message
    with pytest.raises(BadInput) as bad:
        open_tree(str(tmp_path / "missing"), None, None, "/")
    assert bad.value.where == "--repo"
    with pytest.raises(BadInput):
        open_tree(str(repo / "dir"), "HEAD", None, "/")
    with pytest.raises(BadInput):
        open_tree(None, "HEAD", None, str(tmp_path))


def test_open_tree_bare_and_empty(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, FILES)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    t = open_tree(str(bare), None, None, "/")
    assert t.kind == "git" and t.read("a.c") == FILES["a.c"]
    assert t.grep_words(["foo"]) == _git_grep_rev(repo, "HEAD", "foo")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(BadInput, match="no commits"):
        open_tree(str(empty), None, None, "/")


# --------------------------------------------------------------------------- kernel


@pytest.mark.kernel
def test_kernel_grep_equals_git_grep(kernel_repo: Path) -> None:
    """Same hits as a plain `git grep -w` (its cost is measured in benchmarks/)."""
    sym = "pte_offset_map_nolock"
    proc = subprocess.run(
        ["git", "-C", str(kernel_repo), "grep", "-n", "-w", "-z", sym],
        capture_output=True,
        check=True,
    )
    expected = []
    for rec in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        path, line, text = rec.split("\0", 2)
        expected.append(GrepHit(path, int(line), text))
    tree = GitTree(str(kernel_repo), "HEAD")
    hits = tree.grep_words([sym])
    # The kernel checkout is clean, so the user's own worktree grep is the HEAD answer.
    assert hits == sorted(expected, key=lambda h: (h.path, h.line))


def test_kernel_builder_recipe(tmp_path: Path) -> None:
    """The builder's recipe on a tiny stand-in tarball: fixed identity, date, message."""
    from kernel import DATE, IDENT, NAME, build_kernel_repo, has_commit

    src = tmp_path / "src" / NAME
    (src / "mm").mkdir(parents=True)
    (src / "mm" / "memory.c").write_text("int x;\n")
    # Debian's tarball ignores its whole top level ("/*" in .gitignore): still committed.
    (src / ".gitignore").write_text("*.o\n/*\n!/debian/\n")
    tarball = tmp_path / "k.tar.xz"
    subprocess.run(["tar", "cJf", str(tarball), "-C", str(tmp_path / "src"), NAME], check=True)
    dest = tmp_path / "cache" / NAME
    assert build_kernel_repo(tarball, dest, min_files=2) == dest and has_commit(dest)
    assert git(dest, "ls-files").split() == [".gitignore", "mm/memory.c"]
    log = git(dest, "log", "--format=%an <%ae>|%cn <%ce>|%aI|%cI|%s")
    date = DATE.replace("Z", "+00:00")
    assert log.strip() == f"{IDENT}|{IDENT}|{date}|{date}|{NAME}"
    assert git(dest, "status", "--porcelain") == ""
    assert not [p for p in dest.parent.iterdir() if p.name != NAME]  # no temp dir left
    assert build_kernel_repo(tarball, dest, min_files=2) == dest  # already built: reused


def test_grep_fixed_at_head_answers_for_the_commit_not_the_worktree(tmp_path: Path) -> None:
    """The worktree is grepped for speed, but a dirty file, a deleted one and an untracked
    one must not change the answer: it is the commit's."""
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.c").write_text('#include "priv.h"\n')
    (repo / "b.c").write_text('#include "priv.h"\n#include "other.h"\n')
    (repo / "c.c").write_text("int c;\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    expected = {"a.c": {"priv.h"}, "b.c": {"priv.h", "other.h"}}
    tree = GitTree(str(repo))
    assert tree.grep_fixed(["priv.h", "other.h"]) == expected
    (repo / "a.c").write_text("int a;\n")  # dirty: no longer names it
    (repo / "b.c").unlink()  # deleted in the worktree
    (repo / "c.c").write_text('#include "priv.h"\n')  # dirty: names it now
    (repo / "d.c").write_text('#include "priv.h"\n')  # untracked
    assert GitTree(str(repo)).grep_fixed(["priv.h", "other.h"]) == expected

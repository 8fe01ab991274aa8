"""Workers read the callers' files themselves (replay/blobs.py): from the worktree only
where it holds the commit's content, from the commit everywhere else."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git

from series_tool.errors import BadInput
from series_tool.replay import GitTree, blob_reader, check_worktree_reads
from series_tool.replay.trees import _index_ids

MakeRepo = Callable[[Path, dict[str, str]], Path]

FILES = {
    "clean.c": "int clean = foo(1);\n",
    "edited.c": "int edited = foo(2);\n",
    "staged.c": "int staged = foo(3);\n",
    "deleted.c": "int deleted = foo(4);\n",
    "hidden.c": "int hidden = foo(5);\n",
    "sp ace/é.c": "int spaced = foo(6);\n",
}


def _committed(repo: Path, paths: list[str]) -> dict[str, bytes]:
    return {p: git(repo, "show", f"HEAD:{p}").encode("utf-8", "surrogateescape") for p in paths}


def test_reads_equal_the_commit_whatever_the_worktree_holds(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    repo = make_repo(tmp_path, FILES)
    os.symlink("clean.c", repo / "link.c")
    git(repo, "add", "link.c")
    git(repo, "commit", "-q", "-m", "link")
    # Every way the worktree can differ from HEAD without the commit changing.
    (repo / "edited.c").write_text("int edited = bar(2);\n")
    (repo / "staged.c").write_text("int staged = bar(3);\n")
    git(repo, "add", "staged.c")
    (repo / "deleted.c").unlink()
    git(repo, "update-index", "--assume-unchanged", "hidden.c")
    (repo / "hidden.c").write_text("int hidden = bar(5);\n")
    paths = [*FILES, "link.c"]

    tree = GitTree(str(repo))
    tree.grep_words(["foo"])  # the worktree grep learns which files differ from HEAD
    reader = blob_reader(tree)
    assert reader is not None and reader.worktree is not None
    assert {"edited.c", "staged.c", "deleted.c", "hidden.c"} <= reader.dirty
    assert dict(reader.read(paths)) == _committed(repo, paths)


def test_without_a_worktree_grep_everything_comes_from_the_commit(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    repo = make_repo(tmp_path, FILES)
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "clean.c").write_text("int clean = bar(1);\n")
    git(repo, "commit", "-q", "-am", "later")
    tree = GitTree(str(repo), first)  # not HEAD: the worktree is another commit
    tree.grep_words(["foo"])
    reader = blob_reader(tree)
    assert reader is not None and reader.worktree is None
    assert dict(reader.read(list(FILES)))["clean.c"] == FILES["clean.c"].encode()


def _damage(repo: Path, path: str) -> str:
    """Corrupt the loose object of HEAD:path; its id."""
    oid = git(repo, "rev-parse", f"HEAD:{path}").strip()
    obj = repo / ".git" / "objects" / oid[:2] / oid[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"not a zlib stream")
    return oid


def test_one_check_of_the_worktree_reads_names_a_broken_object_and_its_path(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    files = {f"d{i % 7}/f{i}.c": f"int v{i} = foo({i});\n" for i in range(300)}
    files["tab\there.c"] = "int t = foo(0);\n"  # a path holding a tab
    files["tab"] = "here.c\n"  # ... and one whose name is the start of it
    repo = make_repo(tmp_path, files)
    tree = GitTree(str(repo))
    tree.grep_words(["foo"])
    reader = blob_reader(tree)
    assert reader is not None and reader.worktree is not None
    paths = sorted(files)
    check_worktree_reads(tree, paths)  # all objects intact: no error
    oid = _damage(repo, "tab\there.c")
    with pytest.raises(BadInput) as err:
        check_worktree_reads(tree, paths)
    assert oid in str(err.value) and "tab\there.c" in str(err.value)
    # The workers' reads themselves no longer ask git about worktree files: a file whose
    # object is broken is still read from the worktree (the check above is the one).
    _damage(repo, "d1/f1.c")
    assert dict(reader.read(["d1/f1.c"])) == {"d1/f1.c": files["d1/f1.c"].encode()}


def test_index_ids_are_what_ls_files_says(tmp_path: Path, make_repo: MakeRepo) -> None:
    files = {"a.c": "1\n", "a\tb.c": "2\n", "b.c": "3\n", "dir/é.c": "4\n", "z": "5\n"}
    repo = make_repo(tmp_path, files)
    tree = GitTree(str(repo))
    tree.grep_words(["x"])
    staged = git(repo, "ls-files", "-s", "-v", "-z").encode("utf-8", "surrogateescape")
    for path in files:
        assert _index_ids(staged, [path]) == {path: git(repo, "rev-parse", f":{path}").strip()}
    everything = _index_ids(staged, [*reversed(list(files)), "missing.c"])
    assert set(everything) == set(files)

"""Replaying series in memory, checked against real `git am` (small repos and the kernel)."""

from __future__ import annotations

import mailbox
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, patch_from_diff

from series_tool.ingest import ingest
from series_tool.models import Patch
from series_tool.replay import GitTree, NoTree, open_tree, replay, touched_paths

MakeRepo = Callable[[Path, dict[str, str]], Path]

BASE = {
    "a.c": "".join(f"int a{i};\n" for i in range(30)),
    "b.c": "int b;\n",
    "keep.c": "int keep;\n",
}


def _series(tmp_path: Path, repo: Path) -> tuple[str, Path]:
    """Commit a 4-patch series on top of the repo; return (base sha, mbox of the series)."""
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.c").write_text(BASE["a.c"].replace("int a3;\n", "int a3_new;\n"))
    git(repo, "commit", "-qam", "one: change a.c")
    (repo / "new.c").write_text("int fresh;\n")
    git(repo, "add", "new.c")
    git(repo, "commit", "-qm", "two: add new.c")
    (repo / "new.c").write_text("int fresh;\nint more;\n")
    git(repo, "rm", "-q", "b.c")
    git(repo, "commit", "-qam", "three: grow new.c, drop b.c")
    git(repo, "mv", "a.c", "moved.c")
    (repo / "moved.c").write_text(
        (repo / "moved.c").read_text().replace("int a20;\n", "int a20_x;\n")
    )
    git(repo, "commit", "-qam", "four: rename a.c with a change")
    out = tmp_path / "series.mbox"
    mbox = git(
        repo, "format-patch", "-M", "--stdout", "--cover-letter", f"--base={base}", f"{base}..HEAD"
    )
    out.write_text(mbox)
    return base, out


def _git_am(repo: Path, base: str, mbox: Path, patches: list[Patch], work: Path) -> Path:
    """Apply exactly these patches (picked from `mbox` by position, in order) with real
    git am in a detached worktree of `repo` at `base`."""
    wt = work / "am"
    # A sparse worktree with only the touched files: checking out all of the kernel
    # would cost ~20 s per test, and git am only needs the files it patches.
    git(repo, "worktree", "add", "-q", "--no-checkout", "--detach", str(wt), base)
    git(wt, "sparse-checkout", "set", "--no-cone", *(f"/{p}" for p in touched_paths(patches)))
    git(wt, "read-tree", "-mu", "HEAD")
    picked = work / "picked.mbox"
    messages = list(mailbox.mbox(str(mbox)))
    dst = mailbox.mbox(str(picked))
    for p in patches:
        dst.add(messages[p.source_index])
    dst.flush()
    git(wt, "am", "-q", "--keep-cr", str(picked))
    return wt


def test_replay_matches_git_am(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, BASE)
    base, mbox = _series(tmp_path, repo)
    series = ingest(str(mbox)).series
    tree = GitTree(str(repo), base)
    rep = replay(series.patches, tree)
    assert [s.apply.status for s in rep.steps] == ["clean"] * 4 and rep.ok
    final = rep.steps[-1]
    wt = _git_am(repo, base, mbox, series.patches, tmp_path)
    try:
        for path, text in final.files.items():
            on_disk = wt / path
            assert (on_disk.read_text() if on_disk.exists() else None) == text, path
    finally:
        git(repo, "worktree", "remove", "--force", str(wt))
    assert final.files["a.c"] is None and final.files["b.c"] is None
    assert final.read("keep.c") == BASE["keep.c"]  # untouched: read from the tree
    assert set(rep.base) == {"a.c", "moved.c", "new.c", "b.c"}
    assert rep.base["new.c"] is None and rep.base["a.c"] == BASE["a.c"]


def test_steps_are_snapshots_sharing_unchanged_text(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, BASE)
    base, mbox = _series(tmp_path, repo)
    rep = replay(ingest(str(mbox)).series.patches, GitTree(str(repo), base))
    one, two, three = rep.steps[0], rep.steps[1], rep.steps[2]
    assert set(one.files) == {"a.c"} and "int a3_new;" in (one.files["a.c"] or "")
    assert two.files["new.c"] == "int fresh;\n" and "new.c" not in one.files
    assert three.files["new.c"] == "int fresh;\nint more;\n" and three.files["b.c"] is None
    assert two.files["a.c"] is one.files["a.c"]  # not copied: the same string
    assert one.read("b.c") == BASE["b.c"] and three.read("b.c") is None
    assert rep.before(0) is rep.base and rep.before(2) is two.files
    assert rep.step(2) is two and rep.step(9) is None


def _diff(repo: Path, path: str, old: str | None, new: str | None) -> str:
    """A git-style diff of one file, made by real git diff --no-index."""
    work = repo.parent / "diffwork"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    args = ["git", "diff", "--no-index", "--"]
    for name, text in (("a", old), ("b", new)):
        if text is None:
            args.append("/dev/null")
        else:
            (work / name / path).parent.mkdir(parents=True, exist_ok=True)
            (work / name / path).write_text(text)
            args.append(f"{name}/{path}")
    out = subprocess.run(args, cwd=work, capture_output=True, check=False).stdout.decode()
    return out.replace(f"a/a/{path}", f"a/{path}").replace(f"b/b/{path}", f"b/{path}")


def test_broken_and_failing_patches_continue(tmp_path: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(tmp_path, BASE)
    wrong = BASE["a.c"].replace("int a11;\n", "WRONG\n").replace("int a13;\n", "WRONG\n")
    patches = [
        patch_from_diff(1, "", error="hunk 1 of a.c: expected 7 lines, found 3"),
        patch_from_diff(2, _diff(repo, "a.c", wrong, wrong.replace("int a12;\n", "x\n"))),
        patch_from_diff(3, _diff(repo, "gone.c", "int g;\n", "int h;\n")),
        patch_from_diff(4, _diff(repo, "b.c", "int b;\n", "int b2;\n")),
    ]
    rep = replay(patches, open_tree(str(repo), None, None, "/"))
    statuses = [s.apply.status for s in rep.steps]
    assert statuses == ["failed", "failed", "failed", "clean"]
    assert rep.steps[0].apply.message.startswith("hunk 1 of a.c") and rep.steps[0].files == {}
    assert "context not found" in rep.steps[1].apply.message
    assert rep.steps[1].files["a.c"] == BASE["a.c"]  # the failed hunk changed nothing
    assert "no such file" in rep.steps[2].apply.message
    assert rep.steps[3].files["b.c"] == "int b2;\n" and not rep.ok


def test_series_only_builds_only_new_files(tmp_path: Path) -> None:
    patches = [
        patch_from_diff(1, _diff(tmp_path, "n.c", None, "int n;\n")),
        patch_from_diff(2, _diff(tmp_path, "n.c", "int n;\n", "int n2;\n")),
        patch_from_diff(3, _diff(tmp_path, "a.c", "int a;\n", "int b;\n")),
    ]
    rep = replay(patches, NoTree())
    assert [s.apply.status for s in rep.steps] == ["clean", "clean", "unknown"]
    assert dict(rep.steps[-1].files) == {"n.c": "int n2;\n"}
    assert rep.base == {} and rep.steps[-1].read("a.c") is None


def test_touched_paths_order() -> None:
    from series_tool.models import FileDiff

    p = patch_from_diff(1, "")
    p.files = [FileDiff("new", "old", "new", is_rename=True), FileDiff("x", "x", "x")]
    assert touched_paths([p]) == ["old", "new", "x"]


# --------------------------------------------------------------------------- kernel


@pytest.mark.kernel
@pytest.mark.parametrize("version", ["v2", "v3", "v4"])
def test_kernel_series_replay_equals_git_am(
    kernel_repo: Path, corpus: Path, tmp_path: Path, version: str
) -> None:
    mbox = corpus / "pte-nolock" / f"{version}.mbox"
    series = ingest(str(mbox)).series
    tree = GitTree(str(kernel_repo), "HEAD")
    rep = replay(series.patches, tree)
    assert all(s.apply.status in ("clean", "offset") for s in rep.steps), [
        (s.patch.number, s.apply.message) for s in rep.steps
    ]
    wt = _git_am(kernel_repo, tree.base or "HEAD", mbox, series.patches, tmp_path)
    try:
        for path, text in rep.steps[-1].files.items():
            on_disk = wt / path
            assert (
                on_disk.read_text(errors="surrogateescape") if on_disk.exists() else None
            ) == text
    finally:
        git(kernel_repo, "worktree", "remove", "--force", str(wt))
        git(kernel_repo, "worktree", "prune")

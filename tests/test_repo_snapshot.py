"""The repository snapshot the integration tests compare around every command notices
every kind of change it promises to (so its silence means something)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, make_git_repo
from repo_snapshot import repo_of, take, unchanged


def _stash(repo: Path) -> None:
    (repo / "a.c").write_text("changed\n")
    git(repo, "stash", "-q")


def _worktree_meta(repo: Path) -> None:
    git(repo, "worktree", "add", "-q", "--detach", str(repo.parent / "wt"))
    os.rename(repo.parent / "wt", repo.parent / "wt-moved")  # a missing worktree folder


CHANGES: dict[str, Callable[[Path], None]] = {
    "untracked file": lambda r: (r / "new.txt").write_text("x"),
    "ignored file": lambda r: (r / "build.o").write_bytes(b"\0"),
    "tracked file bytes": lambda r: (r / "a.c").write_text("int a;\n/* */\n"),
    "mode": lambda r: (r / "a.c").chmod(0o755),
    "temporary file created and removed": lambda r: (
        (r / "sub" / "t").write_text(""),
        (r / "sub" / "t").unlink(),
    ),
    "index": lambda r: git(r, "update-index", "--chmod=+x", "a.c"),
    "ref": lambda r: git(r, "branch", "other"),
    "stash": _stash,
    "worktree registered": _worktree_meta,
    "hook": lambda r: (r / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\n"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_snapshot_sees_each_change(tmp_path: Path, change: str) -> None:
    repo = make_git_repo(
        tmp_path, {"a.c": "int a;\n", "sub/b.c": "int b;\n", ".gitignore": "*.o\n"}
    )
    with pytest.raises(AssertionError, match="changed"), unchanged(repo):
        CHANGES[change](repo)


def test_snapshot_is_stable_and_read_only(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {"a.c": "int a;\n"})
    (repo / "a.c").touch()  # stat-dirty: a `git status` that refreshed would write the index
    first = take(repo)
    assert first.differences(take(repo)) == []


def test_repo_of_follows_the_command_line(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, {"a.c": "int a;\n"})
    (repo / "sub").mkdir()
    assert repo_of(["verify", "x", "--repo", str(repo)]) == repo
    assert repo_of(["verify", "x"], cwd=repo / "sub") == repo
    assert repo_of(["verify", "x", f"--repo={tmp_path / 'missing'}"]) is None

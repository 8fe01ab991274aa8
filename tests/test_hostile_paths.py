"""Patches naming git's metadata (.git in any spelling git refuses) fail as "invalid path",
in verify, bisect-report (with --build) and rewrite; nothing is read or written there
(issue 10, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, ring_repo
from hostile import new_file, write
from hypothesis import given
from hypothesis import strategies as st
from repo_snapshot import run_main

from series_tool.replay import invalid_path
from series_tool.replay.paths import _is_dotgit

BAD = [
    ".git/hooks/post-checkout",
    ".git/config",
    ".GIT/config",
    "src/.git/x",
    ".Git",
    ".git./config",
    ".git /config",
    "git~1/config",
    "GIT~1/config",
    ".git::$INDEX_ALLOCATION/config",
    ".g\u200cit/config",
    "src\\.git\\config",
    "a//b.c",
    "./a.c",
    "a/../b.c",
]


@pytest.mark.parametrize("path", BAD)
def test_git_apply_would_refuse_these_names(path: str) -> None:
    assert invalid_path(path) is not None


@pytest.mark.parametrize("path", ["src/a.c", ".gitignore", ".github/x", "git/x", "a.git/b", "x.c"])
def test_ordinary_names_are_fine(path: str) -> None:
    assert invalid_path(path) is None


_NAME_PARTS = st.sampled_from(
    ["/", "\\", ".", "..", "git", "GiT", "~1", ":", " ", "a", "\u200c", "\u0130", "\u212a", "x.c"]
)


@given(st.lists(_NAME_PARTS, min_size=1, max_size=8).map("".join))
def test_names_without_git_skip_only_the_dotgit_test(path: str) -> None:
    """The quick answer for names that cannot spell ".git" is the component-wise one."""
    parts = path.replace("\\", "/").split("/")
    refused = path.startswith(("/", "\\")) or any(
        c in ("", ".", "..") or _is_dotgit(c) for c in parts
    )
    assert (invalid_path(path) is not None) == refused


def findings(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run_main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


@pytest.mark.parametrize("path", [".git/hooks/post-checkout", ".GIT/config", "src/.git/x"])
def test_verify_fails_the_patch_on_an_invalid_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    repo = ring_repo(tmp_path)
    mbox = write(tmp_path, 2, new_file(path, "#!/bin/sh\ntouch /tmp/pwned\n"))
    code, rep = findings(capsys, "verify", str(mbox), "--repo", str(repo))
    assert code == 1 and rep["ok"] is False
    bad = [f for f in rep["findings"] if f["code"] == "apply-failed"]
    assert [(f["patch"], f["file"]) for f in bad] == [(2, path)]
    assert "invalid path" in bad[0]["message"]
    assert [a["status"] for a in rep["apply"]] == ["clean", "failed"] + ["clean"] * 4


def test_build_never_writes_into_git_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The temp worktree's .git file stays; the build command runs git there unharmed."""
    repo = ring_repo(tmp_path)
    mbox = write(tmp_path, 1, new_file(".git", "gitdir: /nonexistent\n"))
    code, rep = findings(
        capsys,
        "bisect-report",
        str(mbox),
        "--repo",
        str(repo),
        "--build",
        "git rev-parse --verify -q HEAD >/dev/null && test ! -e .git/config || exit 9",
    )
    assert code == 1
    assert rep["steps"][0]["apply"] == "failed"
    assert {s["build"]["status"] for s in rep["steps"]} == {"passed"}


def test_dir_tree_never_reads_git_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plain directory holding a .git folder: a patch 'modifying' .git/config fails."""
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "ring", tree)
    (tree / ".git").mkdir()
    (tree / ".git" / "config").write_text("[core]\n")
    diff = (
        "diff --git a/.git/config b/.git/config\n--- a/.git/config\n+++ b/.git/config\n"
        "@@ -1 +1,2 @@\n [core]\n+\thooksPath = /tmp\n"
    )
    mbox = write(tmp_path, 1, diff)
    code, rep = findings(capsys, "verify", str(mbox), "--repo", str(tree))
    assert code == 1
    assert any("invalid path" in f["message"] for f in rep["findings"])

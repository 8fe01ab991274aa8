"""Patches git am refuses are refused here too: a file behind a symlink, a rename onto an
existing file, a file where the tree has a directory, a file below a file; a plain
directory never leads out through a symlink (issue 10, items 6 and 8)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, git, ring_repo
from hostile import new_file, write
from repo_snapshot import run_main

RENAME_ONTO = (
    "diff --git a/src/dump.c b/src/search.c\nsimilarity index 100%\n"
    "rename from src/dump.c\nrename to src/search.c\n"
)


def json_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run_main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and code in (0, 1), err
    return code, json.loads(out)


def failed(rep: dict) -> list[tuple[int, str, str]]:  # type: ignore[type-arg]
    return [
        (f["patch"], f["file"], f["message"])
        for f in rep["findings"]
        if f["code"] == "apply-failed"
    ]


def git_am_refuses(repo: Path, mbox: Path, tmp_path: Path, upto: int) -> str:
    """What git am says about patches 1..`upto` of the series on a copy of `repo`."""
    work = tmp_path / "am-check"
    shutil.copytree(repo, work, symlinks=True)
    parts = tmp_path / "am-parts"
    parts.mkdir()
    subprocess.run(["git", "mailsplit", f"-o{parts}", str(mbox)], check=True, capture_output=True)
    mails = sorted(str(p) for p in parts.iterdir())[1 : upto + 1]  # after the cover letter
    res = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@e", "am", *mails],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode != 0, "git am accepted it"
    return res.stdout + res.stderr


@pytest.fixture
def repo_with_links(tmp_path: Path) -> Path:
    """The example repository plus a symlink into it and one leading out of it."""
    repo = ring_repo(tmp_path)
    (tmp_path / "outside").mkdir()
    os.symlink("src", repo / "srclink")
    os.symlink(str(tmp_path / "outside"), repo / "escape")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    return repo


@pytest.mark.parametrize("path", ["escape/pwn.c", "srclink/new.c"])
def test_a_file_behind_a_symlink_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_with_links: Path, path: str
) -> None:
    mbox = write(tmp_path, 2, new_file(path, "int pwned;\n"))
    assert "beyond a symbolic link" in git_am_refuses(repo_with_links, mbox, tmp_path, 2)
    code, rep = json_run(capsys, "verify", str(mbox), "--repo", str(repo_with_links))
    assert code == 1 and [(p, f) for p, f, _ in failed(rep)] == [(2, path)]
    assert "beyond a symbolic link" in failed(rep)[0][2]


def test_build_writes_nothing_through_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_with_links: Path
) -> None:
    mbox = write(tmp_path, 1, new_file("escape/pwn.c", "int pwned;\n"))
    code, rep = json_run(
        capsys, "bisect-report", str(mbox), "--repo", str(repo_with_links), "--build", "true"
    )
    assert code == 1 and rep["steps"][0]["apply"] == "failed"
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_rename_onto_an_existing_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    mbox = write(tmp_path, 2, RENAME_ONTO)
    assert "already exists" in git_am_refuses(repo, mbox, tmp_path, 2)
    code, rep = json_run(capsys, "verify", str(mbox), "--repo", str(repo))
    assert code == 1
    assert [(p, f) for p, f, _ in failed(rep)] == [(2, "src/search.c")]
    assert "already exists" in failed(rep)[0][2]


@pytest.mark.parametrize(
    ("number", "diff", "blamed"),
    [
        (1, new_file("src", "int x;\n"), (1, "src")),  # a file where the tree has a folder
        (1, new_file("src/dump.c/x.c", "int x;\n"), (1, "src/dump.c/x.c")),  # below a file
        # a symlink made by the series, then a file below it
        (
            1,
            new_file("lnk", "src", mode="120000") + new_file("lnk/x.c", "int x;\n"),
            (1, "lnk/x.c"),
        ),
    ],
)
def test_impossible_layouts_are_findings_and_builds_survive(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    number: int,
    diff: str,
    blamed: tuple[int, str],
) -> None:
    repo = ring_repo(tmp_path)
    mbox = write(tmp_path, number, diff)
    code, rep = json_run(capsys, "bisect-report", str(mbox), "--repo", str(repo), "--build", "true")
    assert code == 1
    assert rep["steps"][blamed[0] - 1]["apply"] == "failed"
    code, rep = json_run(capsys, "verify", str(mbox), "--repo", str(repo))
    assert blamed in [(p, f) for p, f, _ in failed(rep)]


def test_a_plain_directory_is_never_left_through_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "ring", tree)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.c").write_text("void leak(void) { ring_slot(0, 0, 0); }\n")
    os.symlink(str(outside), tree / "escape")
    os.symlink(str(outside / "secret.c"), tree / "src" / "secret.c")
    diff = (
        "diff --git a/escape/secret.c b/escape/secret.c\n--- a/escape/secret.c\n"
        "+++ b/escape/secret.c\n@@ -1 +1 @@\n-void leak(void) { ring_slot(0, 0, 0); }\n"
        "+void leak(void) { ring_slot_ro(0, 0, 0); }\n"
    )
    mbox = write(tmp_path, 2, diff)
    code, rep = json_run(capsys, "verify", str(mbox), "--repo", str(tree))
    assert code == 1
    assert [(p, f) for p, f, _ in failed(rep)] == [(2, "escape/secret.c")]
    assert not [r for r in rep["remaining"] if "secret" in r["file"]]

"""`series-tool bisect-report` end to end on the bundled example (real git, real gcc)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, ring_repo, snapshot
from repo_snapshot import run_main


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run_main(["bisect-report", *argv, "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def test_complete_series_every_step_safe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code, rep = report(capsys, str(EXAMPLES / "ring-slot.mbox"), "--repo", str(repo))
    assert code == 0 and rep["ok"]
    assert [s["safe"] for s in rep["steps"]] == [True] * 6
    old = [s["references"]["ring_slot"] for s in rep["steps"]]
    assert rep["base_references"]["ring_slot"] == 4
    assert old == [4, 3, 2, 1, 0, 0]
    new = [s["references"]["ring_slot_ro"] + s["references"]["ring_slot_rw"] for s in rep["steps"]]
    assert new == [0, 1, 2, 3, 4, 4]


def test_misordered_step_names_the_undefined_symbol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code, rep = report(capsys, str(EXAMPLES / "ring-slot-misordered.mbox"), "--repo", str(repo))
    assert code == 1
    first = rep["steps"][0]
    assert first["safe"] is False
    assert [(p["code"], p["symbol"], p["file"], p["function"]) for p in first["problems"]] == [
        ("undefined-symbol", "ring_slot_ro", "src/dump.c", "dump_ring")
    ]
    assert all(s["safe"] for s in rep["steps"][1:])


def test_missed_caller_makes_the_removal_step_unsafe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code, rep = report(capsys, str(EXAMPLES / "ring-slot-missed.mbox"), "--repo", str(repo))
    assert code == 1
    unsafe = [s for s in rep["steps"] if not s["safe"]]
    assert [s["patch"] for s in unsafe] == [5]
    assert [(p["code"], p["file"], p["function"]) for p in unsafe[0]["problems"]] == [
        ("removed-while-referenced", "src/compact.c", "ring_compact")
    ]


@pytest.mark.skipif(
    shutil.which("gcc") is None and shutil.which("cc") is None, reason="no C compiler"
)
def test_build_fails_exactly_at_the_broken_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    before = snapshot(repo)
    code, rep = report(
        capsys,
        str(EXAMPLES / "ring-slot-misordered.mbox"),
        "--repo",
        str(repo),
        "--build",
        "gcc -Wall -Werror -Iinclude -fsyntax-only src/*.c",
        "--jobs",
        "2",
    )
    assert code == 1
    statuses = [s["build"]["status"] for s in rep["steps"]]
    assert statuses == ["failed", "passed", "passed", "passed", "passed", "passed"]
    assert "ring_slot_ro" in rep["steps"][0]["build"]["log_tail"]
    assert snapshot(repo) == before  # byte-identical checkout, no worktree left behind


def test_html_report_is_self_contained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    out = tmp_path / "report.html"
    code = run_main(
        [
            "bisect-report",
            str(EXAMPLES / "ring-slot-missed.mbox"),
            "--repo",
            str(repo),
            "--format",
            "html",
            "-o",
            str(out),
        ]
    )
    capsys.readouterr()
    assert code == 1
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<polyline" in page
    assert not re.search(r"<script|<link|@import|url\(|https?://", page)
    assert "ring_compact" in page and "unsafe" in page


def test_markdown_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    code = run_main(
        [
            "bisect-report",
            str(EXAMPLES / "ring-slot-misordered.mbox"),
            "--repo",
            str(repo),
            "--format",
            "markdown",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    assert "| 1 | dump: dump_ring() use ring_slot_ro() |" in out
    assert "`undefined-symbol`" in out


def test_a_build_broken_on_the_base_blames_no_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code, rep = report(
        capsys, str(EXAMPLES / "ring-slot.mbox"), "--repo", str(repo), "--build", "false"
    )
    assert rep["base_build"]["status"] == "failed"
    assert all(s["safe"] for s in rep["steps"]) and code == 0


def test_a_build_command_that_cannot_run_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code = run_main(
        [
            "bisect-report",
            str(EXAMPLES / "ring-slot.mbox"),
            "--repo",
            str(repo),
            "--build",
            "no-such-command-xyz",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 2 and "--build" in err and "cannot run" in err
    assert snapshot(repo).git["worktrees"].count("worktree ") == 1  # only the main one is left


def test_ctrl_c_during_builds_removes_the_worktrees(tmp_path: Path) -> None:
    """SIGINT while steps build: exit 130, and no worktree or temporary tree is left."""
    import signal
    import subprocess
    import sys
    import time

    repo = ring_repo(tmp_path)
    before = snapshot(repo)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "series_tool.cli",
            "bisect-report",
            str(EXAMPLES / "ring-slot.mbox"),
            "--repo",
            str(repo),
            "--build",
            "sleep 5",
            "--jobs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while (
        b"worktree "
        not in subprocess.run(
            ["git", "-C", str(repo), "worktree", "list", "--porcelain"], capture_output=True
        ).stdout.split(b"\n\n", 1)[-1]
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)  # wait until a build worktree exists
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert snapshot(repo) == before


def test_builds_rewrite_only_what_a_step_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An incremental build must not see untouched files rewritten: src/compact.c keeps its
    timestamp until patch 5 changes it."""
    repo = ring_repo(tmp_path)
    code, rep = report(
        capsys,
        str(EXAMPLES / "ring-slot.mbox"),
        "--repo",
        str(repo),
        "--build",
        "stat -c %y src/compact.c",
        "--jobs",
        "1",
    )
    assert code == 0
    stamps = [s["build"]["log_tail"] for s in rep["steps"]]
    assert rep["base_build"]["log_tail"] == stamps[0] == stamps[3]
    assert stamps[4] != stamps[3] and stamps[5] == stamps[4]

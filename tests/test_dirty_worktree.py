"""A checkout with uncommitted changes: results come from the commit, and the reports say
so (`tree.dirty`, a note naming the files) (issue 10, item 7)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, git, ring_repo
from repo_snapshot import run_main

MISSED = str(EXAMPLES / "ring-slot-missed.mbox")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = run_main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


def test_uncommitted_fix_is_not_counted_and_the_report_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    compact = repo / "src" / "compact.c"
    # The user converted the missed caller by hand but has not committed it.
    compact.write_text(compact.read_text().replace("ring_slot(", "ring_slot_rw("))
    code, out = run(capsys, "verify", MISSED, "--repo", str(repo), "--format", "json")
    rep = json.loads(out)
    assert code == 1  # HEAD still has the caller: the removal breaks the build there
    assert [r["function"] for r in rep["remaining"] if r["kind"] == "call"] == ["ring_compact"]
    assert rep["tree"]["dirty"] is True
    notes = [f["message"] for f in rep["findings"] if f["code"] == "dirty-worktree"]
    assert len(notes) == 1 and "src/compact.c" in notes[0] and "uncommitted" in notes[0]
    _, out = run(capsys, "verify", MISSED, "--repo", str(repo))
    assert "uncommitted changes not included" in out
    _, out = run(capsys, "bisect-report", MISSED, "--repo", str(repo), "--format", "json")
    rep = json.loads(out)
    assert rep["tree"]["dirty"] is True and any("uncommitted" in n for n in rep["notes"])


def test_staged_changes_count_and_touched_files_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    dump = repo / "src" / "dump.c"
    os.utime(dump, (1, 1))  # stat-dirty only: the same content
    _, out = run(capsys, "verify", MISSED, "--repo", str(repo), "--format", "json")
    assert json.loads(out)["tree"]["dirty"] is False
    dump.write_text(dump.read_text() + "/* staged */\n")
    git(repo, "add", "src/dump.c")
    _, out = run(capsys, "verify", MISSED, "--repo", str(repo), "--format", "json")
    assert json.loads(out)["tree"]["dirty"] is True

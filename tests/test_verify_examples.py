"""`series-tool verify` end to end on the bundled example, in git, dir and series-only mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, ring_repo, snapshot
from repo_snapshot import run_main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def verify_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _ = run(capsys, "verify", *argv, "--format", "json")
    return code, json.loads(out)


def test_complete_series_is_safe_on_a_git_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    before = snapshot(repo)
    code, rep = verify_json(capsys, str(EXAMPLES / "ring-slot.mbox"), "--repo", str(repo))
    assert code == 0 and rep["ok"] is True
    assert rep["tree"]["kind"] == "git"
    assert rep["migration"]["old"] == ["ring_slot"]
    assert sorted(rep["migration"]["new"]) == ["ring_slot_ro", "ring_slot_rw"]
    assert rep["migration"]["introduced_in"] == {"ring_slot_ro": 1, "ring_slot_rw": 1}
    assert rep["migration"]["removed_in"] == {"ring_slot": 6}
    conv = {(c["function"], c["new"]) for c in rep["conversions"]}
    assert conv == {
        ("dump_ring", "ring_slot_ro"),
        ("ring_find", "ring_slot_ro"),
        ("ring_put", "ring_slot_rw"),
        ("ring_compact", "ring_slot_rw"),
    }
    assert [a["status"] for a in rep["apply"]] == ["clean"] * 6
    assert not [r for r in rep["remaining"] if r["kind"] in ("call", "declaration", "definition")]
    assert snapshot(repo) == before


def test_missed_caller_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    code, rep = verify_json(capsys, str(EXAMPLES / "ring-slot-missed.mbox"), "--repo", str(repo))
    assert code == 1 and rep["ok"] is False
    calls = [r for r in rep["remaining"] if r["kind"] == "call"]
    assert [(r["file"], r["function"], r["symbol"], r["at_patch"]) for r in calls] == [
        ("src/compact.c", "ring_compact", "ring_slot", 5)
    ]
    text = (repo / "src/compact.c").read_text().splitlines()
    assert "ring_slot(" in text[calls[0]["line"] - 1]
    errors = [f for f in rep["findings"] if f["severity"] == "error"]
    assert errors and all(f["code"] == "old-symbol-still-used" for f in errors)


def test_plain_directory_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, rep = verify_json(
        capsys, str(EXAMPLES / "ring-slot-missed.mbox"), "--repo", str(EXAMPLES / "ring")
    )
    assert rep["tree"]["kind"] == "dir"
    assert code == 1
    assert {(r["file"], r["function"]) for r in rep["remaining"] if r["kind"] == "call"} == {
        ("src/compact.c", "ring_compact")
    }


def test_series_only_mode_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not inside any git checkout
    code, rep = verify_json(capsys, str(EXAMPLES / "ring-slot.mbox"))
    assert rep["tree"]["kind"] == "series-only"
    assert any(f["code"] == "series-only" for f in rep["findings"])
    assert rep["migration"]["old"] == ["ring_slot"]
    assert len(rep["conversions"]) == 4
    assert code == 0


def test_misordered_series_uses_new_api_before_it_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code, rep = verify_json(
        capsys, str(EXAMPLES / "ring-slot-misordered.mbox"), "--repo", str(repo)
    )
    assert code == 1
    early = [f for f in rep["findings"] if f["code"] == "used-before-introduced"]
    assert [(f["patch"], f["function"], f["file"]) for f in early] == [
        (1, "dump_ring", "src/dump.c")
    ]


def test_markdown_and_text_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    code, out, _ = run(
        capsys,
        "verify",
        str(EXAMPLES / "ring-slot-missed.mbox"),
        "--repo",
        str(repo),
        "--format",
        "markdown",
    )
    assert code == 1
    assert "NOT OK" in out and "`src/compact.c:" in out and "| patch |" in out
    code, out, _ = run(capsys, "verify", str(EXAMPLES / "ring-slot.mbox"), "--repo", str(repo))
    assert code == 0 and "OK" in out and "dump_ring" in out


def test_old_new_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    code, rep = verify_json(
        capsys,
        str(EXAMPLES / "ring-slot.mbox"),
        "--repo",
        str(repo),
        "--old",
        "ring_slot",
        "--new",
        "ring_slot_ro",
    )
    assert rep["migration"]["new"] == ["ring_slot_ro"]
    # --new names the API; every converted site is still listed with what it became.
    assert {c["new"] for c in rep["conversions"]} == {"ring_slot_ro", "ring_slot_rw"}
    assert code == 0


def test_new_alone_keeps_the_inferred_old_symbols(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code, rep = verify_json(
        capsys,
        str(EXAMPLES / "ring-slot-missed.mbox"),
        "--repo",
        str(repo),
        "--new",
        "ring_slot_ro",
    )
    assert rep["migration"]["old"] == ["ring_slot"] and rep["migration"]["new"] == ["ring_slot_ro"]
    assert code == 1


def test_unknown_override_symbols_are_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    _, rep = verify_json(
        capsys, str(EXAMPLES / "ring-slot.mbox"), "--repo", str(repo), "--old", "no_such_symbol"
    )
    assert any(f["code"] == "old-symbol-unknown" for f in rep["findings"])


def test_series_only_verdict_is_qualified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "verify", str(EXAMPLES / "ring-slot-missed.mbox"))
    assert code == 0
    assert "OK as far as the series shows" in out and "no tree was checked" in out


def test_text_report_names_the_symbols(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    code, out, _ = run(
        capsys, "verify", str(EXAMPLES / "ring-slot-missed.mbox"), "--repo", str(repo)
    )
    assert code == 1
    assert "old: ring_slot (removed by patch 5)" in out
    assert "new: ring_slot_ro (introduced by patch 1)" in out
    assert "after patch 5: src/compact.c:13 in ring_compact(): call:" in out
    code, out, _ = run(
        capsys, "bisect-report", str(EXAMPLES / "ring-slot-missed.mbox"), "--repo", str(repo)
    )
    assert "A = code uses of ring_slot (old)" in out and "NOT OK: unsafe steps: 5" in out

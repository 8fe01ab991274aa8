"""A file calling the old API a thousand times the same way: the text report prints one
row with the count of the lines it stands for; JSON keeps every reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples_repo import ring_repo
from hostile import new_file, write
from repo_snapshot import run_main

CALLS = 1_000


def _mbox(tmp_path: Path) -> tuple[Path, Path]:
    repo = ring_repo(tmp_path)
    body = "int many(void)\n{\n" + "\tx = ring_slot(a, b, c);\n" * CALLS + "\treturn x;\n}\n"
    body += "int other(void)\n{\n\treturn ring_slot(d, e, f);\n}\n"
    return repo, write(tmp_path, 2, new_file("src/many.c", body))


def test_identical_remaining_references_are_one_text_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # rich: one report row per line
    repo, mbox = _mbox(tmp_path)
    assert run_main(["verify", str(mbox), "--repo", str(repo), "--format", "json"]) == 1
    rows = [
        r for r in json.loads(capsys.readouterr().out)["remaining"] if r["file"] == "src/many.c"
    ]
    assert len(rows) == CALLS + 1  # JSON: every reference, one by one
    assert sorted(r["line"] for r in rows)[:2] == [3, 4]

    assert run_main(["verify", str(mbox), "--repo", str(repo)]) == 1
    out = capsys.readouterr().out
    many = [ln for ln in out.splitlines() if ln.startswith("  after patch") and "many()" in ln]
    assert many == [
        f"  after patch {rows[0]['at_patch']}: src/many.c:3 in many(): call: "
        f"x = ring_slot(a, b, c); (and {CALLS - 1:,} more identical lines up to line {CALLS + 2})"
    ]
    # A reference unlike the others keeps its own row.
    assert [ln for ln in out.splitlines() if ln.startswith("  after") and "other()" in ln] == [
        f"  after patch {rows[0]['at_patch']}: src/many.c:{CALLS + 7} in other(): call: "
        "return ring_slot(d, e, f);"
    ]

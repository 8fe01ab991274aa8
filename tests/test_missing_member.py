"""A member the struct does not have (at that step) is an error, in verify and
bisect-report alike (issue 8: `.set_rv = fn` of a struct that lacks `set_rv`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_snapshot import run_main
from test_verify_shapes import series, verify

CHIP_H = "struct chip {\n\tvoid (*set)(struct chip *c, int v);\n\tint id;\n};\n"
SET_RV_H = CHIP_H.replace("\tint id;\n", "\tint (*set_rv)(struct chip *c, int v);\n\tint id;\n")
BOARD_C = (
    '#include "inc/chip.h"\n\n'
    "static void board_set(struct chip *c, int v)\n{\n\tc->id = v;\n}\n\n"
    "void board_add(struct chip *gc)\n{\n\tgc->set = board_set;\n}\n\n"
    "static struct chip board = {\n\t.set = board_set,\n};\n"
)
RV_C = (
    BOARD_C.replace("static void board_set", "static int board_set")
    .replace("\tc->id = v;\n}", "\tc->id = v;\n\treturn 0;\n}")
    .replace("gc->set = board_set", "gc->set_rv = board_set")
    .replace(".set = board_set", ".set_rv = board_set")
)


def _bisect(capsys: pytest.CaptureFixture[str], mbox: Path, repo: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run_main(["bisect-report", str(mbox), "--repo", str(repo), "--format", "json"])
    return code, json.loads(capsys.readouterr()[0])


def _member_errors(report: dict) -> list[dict]:  # type: ignore[type-arg]
    return [
        f
        for f in report["findings"]
        if f["severity"] == "error" and "struct chip::set_rv" in f["message"]
    ]


def test_member_the_tree_lacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = {"inc/chip.h": CHIP_H, "board.c": BOARD_C}
    repo, mbox = series(tmp_path, base, [("board: use set_rv", {"board.c": RV_C})])
    code, report = verify(capsys, mbox, repo)
    assert code == 1
    lines = RV_C.splitlines()
    found = {(f["file"], f["line"], f["function"]) for f in _member_errors(report)}
    assert found == {
        ("board.c", lines.index("\tgc->set_rv = board_set;") + 1, "board_add"),
        ("board.c", lines.index("\t.set_rv = board_set,") + 1, "static struct chip board"),
    }
    code, bis = _bisect(capsys, mbox, repo)
    assert code == 1
    assert json.dumps(bis).count("struct chip::set_rv") >= 2


def test_member_introduced_later_or_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"inc/chip.h": CHIP_H, "board.c": BOARD_C}
    (tmp_path / "moved").mkdir()
    repo, mbox = series(
        tmp_path / "moved",
        base,
        [("board: use set_rv", {"board.c": RV_C}), ("chip: add set_rv", {"inc/chip.h": SET_RV_H})],
    )
    code, report = verify(capsys, mbox, repo)
    assert code == 1
    # The series adds the member: the introduced-before-use check names it, once.
    late = [
        f
        for f in report["findings"]
        if f["severity"] == "error" and "set_rv" in f["message"] and f["file"] == "board.c"
    ]
    assert {(f["patch"], f["code"]) for f in late} == {(1, "used-before-introduced")}
    assert len(late) == 2
    (tmp_path / "ok").mkdir()
    repo, mbox = series(
        tmp_path / "ok",
        base,
        [("chip: add set_rv", {"inc/chip.h": SET_RV_H}), ("board: use set_rv", {"board.c": RV_C})],
    )
    code, report = verify(capsys, mbox, repo)
    assert _member_errors(report) == []
    assert code == 0, report["findings"]

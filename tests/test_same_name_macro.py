"""A `#define NAME` of another entity is not a use of the variable NAME a series removes
(found on "ARM: VDSO: remove cntvct_ok global variable": a conservative false error); a
macro whose body names NAME expands to uses, and stays one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from repo_snapshot import run_main
from test_verify_shapes import series, verify

FLAG_H = "extern int vdso_ok;\nint other(void);\n"
FLAG_C = '#include "flag.h"\n\nint vdso_ok;\n\nint other(void)\n{\n\treturn 1;\n}\n'
USER_C = '#include "flag.h"\n\nint probe(void)\n{\n\treturn vdso_ok;\n}\n'
STEPS: list[tuple[str, dict[str, str | None]]] = [
    ("user: stop reading vdso_ok", {"user.c": USER_C.replace("vdso_ok", "other()")}),
    (
        "flag: remove vdso_ok",
        {"flag.h": "int other(void);\n", "flag.c": FLAG_C.replace("int vdso_ok;\n\n", "")},
    ),
]


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], regs: str) -> tuple[int, Any]:
    base = {"flag.h": FLAG_H, "flag.c": FLAG_C, "user.c": USER_C, "drv/regs.h": regs}
    repo, mbox = series(tmp_path, base, STEPS)
    code, report = verify(capsys, mbox, repo)
    bisect = run_main(["bisect-report", str(mbox), "--repo", str(repo), "--format", "json"])
    capsys.readouterr()
    assert bisect == code  # one question, one answer
    rewrite = run_main(["rewrite", str(mbox), "--repo", str(repo), "--check", "--format", "json"])
    check = json.loads(capsys.readouterr()[0])
    assert rewrite == code and check["check"]["ok"] is (code == 0)
    return code, report


def _by_code(report: Any, code: str) -> list[tuple[str, int]]:
    return [(f["file"], f["line"]) for f in report["findings"] if f["code"] == code]


def test_a_macro_of_the_same_name_is_another_entity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _run(tmp_path, capsys, "#define vdso_ok 0x4\n")
    assert code == 0
    assert _by_code(report, "old-symbol-still-used") == []
    assert _by_code(report, "same-name-macro") == [("drv/regs.h", 1)]
    assert [r["file"] for r in report["remaining"]] == []


def test_a_macro_body_naming_it_is_a_use_and_says_what_is_not_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    regs = "#define vdso_ok 0x4\n#define vdso_ready() (vdso_ok & 1)\n"
    code, report = _run(tmp_path, capsys, regs)
    assert code == 1
    (err,) = [f for f in report["findings"] if f["code"] == "old-symbol-still-used"]
    assert (err["file"], err["line"]) == ("drv/regs.h", 2)
    # The same file #defines the name: which entity the body means is not decided.
    assert "drv/regs.h:1 #defines vdso_ok too" in err["message"]
    assert "not decided" in err["message"]
    assert _by_code(report, "same-name-macro") == [("drv/regs.h", 1)]


def test_a_self_referential_define_is_a_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _run(tmp_path, capsys, "#define vdso_ok vdso_ok\n")
    assert code == 1
    assert _by_code(report, "old-symbol-still-used") == [("drv/regs.h", 1)]

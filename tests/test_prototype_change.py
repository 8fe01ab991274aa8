"""A function whose prototype a patch changes in place (same name, other type) is an API
change: every remaining use must fit the new prototype (issue 8, signature check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from repo_snapshot import run_main
from test_verify_shapes import series, verify

CHIP_H = "struct chip {\n\tvoid (*set)(struct chip *c, int v);\n\tint id;\n};\n"
CHIP_C = (
    '#include "chip.h"\n\n'
    "static void chip_set(struct chip *c, int v)\n{\n\tc->id = v;\n}\n\n"
    "void chip_add(struct chip *gc)\n{\n\tgc->set = chip_set;\n}\n\n"
    "static struct chip board = {\n\t.set = chip_set,\n};\n"
)
INT_SET = "static int chip_set(struct chip *c, int v)\n{\n\tc->id = v;\n\treturn 0;\n}\n"


def _errors(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["code"] == code and f["severity"] == "error"]


def test_return_type_changed_while_slots_expect_the_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new_c = CHIP_C.replace(
        "static void chip_set(struct chip *c, int v)\n{\n\tc->id = v;\n}\n", INT_SET
    )
    repo, mbox = series(
        tmp_path,
        {"chip.h": CHIP_H, "chip.c": CHIP_C},
        [("chip: make chip_set return an error code", {"chip.c": new_c})],
    )
    code, report = verify(capsys, mbox, repo)
    errors = _errors(report, "incompatible-signature")
    assert code == 1
    by_line = {f["line"]: f for f in errors}
    assign = new_c.splitlines().index("\tgc->set = chip_set;") + 1
    init = new_c.splitlines().index("\t.set = chip_set,") + 1
    assert set(by_line) == {assign, init}
    assert by_line[assign]["file"] == "chip.c"
    assert by_line[assign]["function"] == "chip_add"
    assert by_line[assign]["message"].startswith(
        f"chip.c:{assign} in chip_add(): assignment to 'void (*)(struct chip *, int)' "
        "from incompatible pointer type "
        "'int (*)(struct chip *, int)'"
    )
    assert by_line[init]["message"].startswith(
        f"chip.c:{init} in static struct chip board: "
        "initialization of 'void (*)(struct chip *, int)' from incompatible pointer type "
        "'int (*)(struct chip *, int)'"
    )
    # bisect-report asks the same question: the step is unsafe there too.
    assert run_main(["bisect-report", str(mbox), "--repo", str(repo), "--format", "json"]) == 1
    capsys.readouterr()

    # The author also switched the slot's type: nothing left to complain about.
    fixed_h = CHIP_H.replace("void (*set)", "int (*set)")
    (tmp_path / "ok").mkdir()
    repo2, mbox2 = series(
        tmp_path / "ok",
        {"chip.h": CHIP_H, "chip.c": CHIP_C},
        [("chip: make chip_set return an error code", {"chip.c": new_c, "chip.h": fixed_h})],
    )
    code, report = verify(capsys, mbox2, repo2)
    assert _errors(report, "incompatible-signature") == []
    assert code == 0


# Laid out as in the kernel: a generic header, an arch override, a caller.
UPD = "include/asm-generic/upd.h"
ARM = "arch/arm64/include/asm/upd.h"
CALLER = "kernel/caller.c"
UPD_H = (
    "struct vd;\nstruct tk;\n#ifndef arch_update\n"
    "static __always_inline void arch_update(struct vd *v, struct tk *t)\n{\n}\n#endif\n"
)
ARM_H = (
    "struct vd;\nstruct tk;\n"
    "static __always_inline void arm_update(struct vd *v, struct tk *t)\n{\n}\n"
    "#define arch_update arm_update\n"
)
CALLER_C = (
    "#include <asm-generic/upd.h>\n\n"
    "void update(struct vd *v, struct tk *t)\n{\n\tarch_update(v, t);\n}\n"
)


def test_argument_dropped_while_a_caller_and_an_override_keep_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = UPD_H.replace("(struct vd *v, struct tk *t)", "(struct vd *v)")
    repo, mbox = series(
        tmp_path,
        {UPD: UPD_H, ARM: ARM_H, CALLER: CALLER_C},
        [("vd: drop the tk argument of arch_update", {UPD: one})],
    )
    code, report = verify(capsys, mbox, repo)
    errors = {(f["file"], f["line"]): f for f in _errors(report, "incompatible-signature")}
    assert code == 1
    call = errors[(CALLER, 5)]
    assert call["function"] == "update"
    assert call["message"].startswith(
        f"{CALLER}:5 in update(): too many arguments to function 'arch_update': 2 given"
    )
    override = errors[(ARM, ARM_H.splitlines().index("#define arch_update arm_update") + 1)]
    assert "arm_update" in override["message"]
    assert "'void (*)(struct vd *, struct tk *)'" in override["message"]
    assert "'void (*)(struct vd *)'" in override["message"]
    assert len(errors) == 2

    # The whole change (caller and override too): OK.
    (tmp_path / "ok").mkdir()
    repo2, mbox2 = series(
        tmp_path / "ok",
        {UPD: UPD_H, ARM: ARM_H, CALLER: CALLER_C},
        [
            (
                "vd: drop the tk argument of arch_update",
                {
                    UPD: one,
                    ARM: ARM_H.replace("(struct vd *v, struct tk *t)", "(struct vd *v)"),
                    CALLER: CALLER_C.replace("arch_update(v, t)", "arch_update(v)"),
                },
            )
        ],
    )
    code, report = verify(capsys, mbox2, repo2)
    assert _errors(report, "incompatible-signature") == []
    assert code == 0


def test_a_respelled_prototype_is_no_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"chip.h": CHIP_H + "void chip_put(struct chip *c, unsigned n);\n", "chip.c": CHIP_C}
    respelled = CHIP_C.replace(
        "static void chip_set(struct chip *c, int v)",
        "static void chip_set(struct chip *c, signed int v)",
    )
    repo, mbox = series(tmp_path, base, [("chip: spell the int out", {"chip.c": respelled})])
    code, report = verify(capsys, mbox, repo)
    assert _errors(report, "incompatible-signature") == []
    assert code == 0


def test_rewrite_lists_the_callers_a_changed_prototype_left_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found on "crash: remove an unused argument from reserve_crashkernel_generic()" with
    one arch's caller dropped: verify erred at that caller, rewrite said "bad input: no old
    symbol found" (exit 2). The caller is listed as not handled, with why (exit 1)."""
    one = UPD_H.replace("(struct vd *v, struct tk *t)", "(struct vd *v)")
    other = "kernel/other.c"
    repo, mbox = series(
        tmp_path,
        {UPD: UPD_H, CALLER: CALLER_C, other: CALLER_C.replace("update(", "update2(")},
        [
            (
                "vd: drop the tk argument of arch_update",
                {UPD: one, other: CALLER_C.replace("update(", "update2(").replace(", t)", ")")},
            )
        ],
    )
    code = run_main(["rewrite", str(mbox), "--repo", str(repo), "--format", "json"])
    report = json.loads(capsys.readouterr()[0])
    assert code == 1
    assert report["conversions"] == []
    (site,) = report["not_handled"]
    assert (site["file"], site["line"], site["function"], site["kind"]) == (
        CALLER,
        5,
        "update",
        "call",
    )
    assert "prototype of arch_update() in place" in site["why"]
    assert "too many arguments" in site["why"]


OTHER = "kernel/other.c"
OTHER_C = (
    "#include <asm-generic/upd.h>\n\n"
    "static int flush(struct vd *v, struct tk *t)\n{\n\tif (v)\n\t\tarch_update(v, t);\n"
    "\treturn 0;\n}\n"
)


def _drop_tk(caller_too: bool) -> list[tuple[str, dict[str, str | None]]]:
    files: dict[str, str | None] = {
        UPD: UPD_H.replace("(struct vd *v, struct tk *t)", "(struct vd *v)"),
        OTHER: OTHER_C.replace("arch_update(v, t)", "arch_update(v)"),
    }
    if caller_too:
        files[CALLER] = CALLER_C.replace("arch_update(v, t)", "arch_update(v)")
    return [("vd: drop the tk argument of arch_update", files)]


def test_the_callers_a_prototype_change_fits_are_its_conversions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found on "crash: remove an unused argument from reserve_crashkernel_generic()": the
    four converted arch callers were "0 conversions", and the text said "nothing to verify:
    the series removes no old symbol" beside the signature check's verdict."""
    repo, mbox = series(tmp_path, {UPD: UPD_H, CALLER: CALLER_C, OTHER: OTHER_C}, _drop_tk(True))
    code, report = verify(capsys, mbox, repo)
    assert code == 0
    # The fitted callers are listed with the change, not as the migration's conversions
    # (there is none: a prototype changed in place is not an old -> new migration).
    assert report["conversions"] == []
    (change,) = report["prototype_changes"]
    assert (change["name"], change["patch"], change["old"], change["new"]) == (
        "arch_update",
        1,
        "void (*)(struct vd *, struct tk *)",
        "void (*)(struct vd *)",
    )
    got = {
        (c["file"], c["line"], c["function"], c["old"], c["new"], c["replacement"])
        for c in change["fitted"]
    }
    assert got == {
        (CALLER, 5, "update", "arch_update", "arch_update", "arch_update(v);"),
        (OTHER, 6, "flush", "arch_update", "arch_update", "arch_update(v);"),
    }
    assert "no-migration" not in {f["code"] for f in report["findings"]}
    assert run_main(["verify", str(mbox), "--repo", str(repo)]) == 0
    text = " ".join(capsys.readouterr()[0].split())
    assert "nothing to verify" not in text
    assert "2 call(s) fitted to a prototype changed in place" in text
    assert "fits update(): arch_update(v);" in text
    assert "changed: arch_update() (prototype changed in place by patch 1" in text
    assert "OK: every use of arch_update() fits its prototype as changed in place" in text

    # One caller left with the old arity: the error, and still no "nothing to verify".
    (tmp_path / "miss").mkdir()
    repo2, mbox2 = series(
        tmp_path / "miss", {UPD: UPD_H, CALLER: CALLER_C, OTHER: OTHER_C}, _drop_tk(False)
    )
    assert run_main(["verify", str(mbox2), "--repo", str(repo2)]) == 1
    text = " ".join(capsys.readouterr()[0].split())
    assert "nothing to verify" not in text and "no old symbol found" not in text
    assert "1 call(s) fitted to a prototype changed in place" in text
    assert "NOT OK: 1 error(s)" in text


def test_rewrite_check_is_not_ok_while_a_changed_prototype_misfit_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rewrite --check` printed "check OK" (exit 1) while listing a caller of a changed
    prototype as not converted: that caller is still there, so the check fails."""
    repo, mbox = series(tmp_path, {UPD: UPD_H, CALLER: CALLER_C, OTHER: OTHER_C}, _drop_tk(False))
    assert run_main(["rewrite", str(mbox), "--repo", str(repo), "--check"]) == 1
    text = " ".join(capsys.readouterr()[0].split())
    assert "check OK" not in text
    assert "check FAILED" in text and "not converted: kernel/caller.c:5 (call)" in text
    assert run_main(["rewrite", str(mbox), "--repo", str(repo), "--check", "--format", "json"]) == 1
    check = json.loads(capsys.readouterr()[0])["check"]
    assert check["ok"] is False
    assert [(r["file"], r["line"]) for r in check["remaining"]] == [(CALLER, 5)]

    # With every caller fitted, nothing is left and the check passes.
    (tmp_path / "ok").mkdir()
    repo2, mbox2 = series(
        tmp_path / "ok", {UPD: UPD_H, CALLER: CALLER_C, OTHER: OTHER_C}, _drop_tk(True)
    )
    assert run_main(["rewrite", str(mbox2), "--repo", str(repo2), "--check"]) == 0
    text = " ".join(capsys.readouterr()[0].split())
    assert "check OK" in text

"""A global variable declared with an attribute macro after its name is the variable, and
the attribute is no API.

Found on "ARM: VDSO: remove cntvct_ok global variable" (ported to 6.12): tree-sitter
reads `bool cntvct_ok __ro_after_init;` as declaring `__ro_after_init` (cntvct_ok in an
ERROR), so `__ro_after_init` became old API and its 17,000 uses in the tree were
"remaining references" (exit 1 on a right patch), while the variable itself was only
tracked through its `extern` (without it: never checked).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verify_shapes import series, verify

from series_tool.model import CSource

CACHE_H = '#define __ro_after_init __attribute__((__section__(".data..ro_after_init")))\n'
TIMER_C = (
    '#include "include/cache.h"\n'
    "bool timer_ok __ro_after_init;\n"
    "static int __ro_after_init timer_rate;\n\n"
    "int timer_check(void)\n{\n\treturn 1;\n}\n\n"
    "void timer_init(void)\n{\n\ttimer_ok = timer_check();\n}\n\n"
    "int timer_use(void)\n{\n\tif (!timer_ok)\n\t\treturn 0;\n\treturn timer_rate;\n}\n"
)
OTHER_C = '#include "include/cache.h"\nstatic long other_limit __ro_after_init = 4;\n'


def test_both_names_next_to_an_attribute_are_candidates() -> None:
    defs = CSource.from_text("bool timer_ok __ro_after_init;\nstatic int __initdata y;\n")
    assert {"timer_ok", "__ro_after_init", "y", "__initdata"} <= set(defs.definitions())


def _converted(keep_use: bool) -> str:
    text = TIMER_C.replace("bool timer_ok __ro_after_init;\n", "")
    text = text.replace("\ttimer_ok = timer_check();\n", "")
    return text if keep_use else text.replace("if (!timer_ok)", "if (!timer_check())")


@pytest.mark.parametrize("keep_use", [False, True])
def test_the_variable_is_tracked_and_the_attribute_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keep_use: bool
) -> None:
    base = {"include/cache.h": CACHE_H, "timer.c": TIMER_C, "other.c": OTHER_C}
    if keep_use:
        # Another driver's own macro of the name: timer_ok stays tracked (only a global
        # header's macro is taken for an attribute).
        base["drv/legacy.c"] = "#define timer_ok 1\n"
    repo, mbox = series(
        tmp_path, base, [("timer: remove timer_ok", {"timer.c": _converted(keep_use)})]
    )
    code, report = verify(capsys, mbox, repo)
    assert report["migration"]["old"] == ["timer_ok"]
    assert "__ro_after_init" not in report["migration"]["removed"]
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    if keep_use:
        assert code == 1
        where = {(f["file"], f["function"], f["code"]) for f in errors}
        assert ("timer.c", "timer_use", "old-symbol-still-used") in where
    else:
        assert code == 0
        assert errors == []

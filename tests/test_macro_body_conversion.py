"""A conversion inside a #define body is a conversion (issue 8: every converted site).

Found on an enum-constant removal on the 6.12 tree (IRQ_DOMAIN_FLAG_NONCORE, used as
`#define IRQ_DOMAIN_FLAG_QCOM_PDC_WAKEUP (IRQ_DOMAIN_FLAG_NONCORE << 0)`): the patch
switching those two macros to the new constant was reported with no conversion, since
a macro body is one opaque token to tree-sitter and its names were never looked at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verify_shapes import series, verify

FLAGS_H = "enum dom_flags {\n\tDOM_FLAG_A = (1 << 0),\n\tDOM_FLAG_NONCORE = (1 << 16),\n};\n"
WITH_NEW = FLAGS_H.replace("};", "\tDOM_FLAG_IMPL_BASE = (1 << 16),\n};")
VENDOR_H = (
    '#include "flags.h"\n'
    "#define VENDOR_WAKEUP\t\t(DOM_FLAG_NONCORE << 0)\n"
    "#define VENDOR_SLEEP(n)\t\t\\\n\t((DOM_FLAG_NONCORE << 1) | (n))\n"
)
USER_C = '#include "vendor.h"\nint wakeup(void)\n{\n\treturn VENDOR_WAKEUP | VENDOR_SLEEP(2);\n}\n'


def test_conversions_in_macro_bodies_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, mbox = series(
        tmp_path,
        {"flags.h": FLAGS_H, "vendor.h": VENDOR_H, "user.c": USER_C},
        [
            ("flags: add DOM_FLAG_IMPL_BASE", {"flags.h": WITH_NEW}),
            (
                "vendor: use DOM_FLAG_IMPL_BASE",
                {"vendor.h": VENDOR_H.replace("DOM_FLAG_NONCORE", "DOM_FLAG_IMPL_BASE")},
            ),
            (
                "flags: remove DOM_FLAG_NONCORE",
                {"flags.h": WITH_NEW.replace("\tDOM_FLAG_NONCORE = (1 << 16),\n", "")},
            ),
        ],
    )
    code, report = verify(capsys, mbox, repo)
    assert code == 0
    got = {(c["file"], c["line"], c["function"], c["old"], c["new"]) for c in report["conversions"]}
    assert got == {
        ("vendor.h", 2, "#define VENDOR_WAKEUP", "DOM_FLAG_NONCORE", "DOM_FLAG_IMPL_BASE"),
        ("vendor.h", 4, "#define VENDOR_SLEEP", "DOM_FLAG_NONCORE", "DOM_FLAG_IMPL_BASE"),
    }

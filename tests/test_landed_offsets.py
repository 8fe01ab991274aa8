"""A hunk lands where its context matches; its new-file line numbers follow from where
it landed and the hunks before it that did land, not from its header alone.

Found on "floppy: Remove unused CROSS_64KB() macro from arch/ code" with one arch's
first hunk (the #define removal) left out: the second hunk's header still counted the
three lines that hunk removed, its '+' line was read three lines too early (on the
function's signature), and the conversion was reported as CROSS_64KB -> `mode` (a
parameter name), with the function "introduced by patch 1"."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verify_shapes import series, verify

FLOPPY_H = (
    "#define _CROSS(a, s, v) ((a) + (s) + (v))\n\n"
    "#define CROSS(a, s) _CROSS(a, s, 1)\n\n\n"
    "#define SW 1\n#define CSW 2\n\n"
    + "".join(f"#define FD_REG{i} {i}\n" for i in range(12))
    + "\nstatic int hard_dma_setup(char *addr, unsigned long size, int mode, int io)\n"
    "{\n#ifdef SANITY\n\tif (CROSS(addr, size)) {\n\t\treturn -1;\n\t}\n#endif\n"
    "\treturn mode + io;\n}\n"
)
CONVERTED = FLOPPY_H.replace("#define CROSS(a, s) _CROSS(a, s, 1)\n\n\n", "").replace(
    "if (CROSS(addr, size))", "if (_CROSS(addr, size, 1))"
)


def _drop_first_hunk(mbox: Path) -> None:
    """The mail without the first hunk of its diff (its other headers left stale)."""
    out: list[str] = []
    hunk = 0
    dropping = False
    for line in mbox.read_text().split("\n"):
        if line.startswith("@@ "):
            hunk += 1
            dropping = hunk == 1
        elif dropping and line[:1] not in (" ", "+", "-"):
            dropping = False
        if not dropping:
            out.append(line)
    mbox.write_text("\n".join(out))


def test_a_hunk_after_a_left_out_hunk_is_read_where_it_landed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "arch/b/include/asm/floppy.h"
    repo, mbox = series(
        tmp_path,
        {"arch/a/include/asm/floppy.h": FLOPPY_H, other: FLOPPY_H},
        [("floppy: remove CROSS()", {"arch/a/include/asm/floppy.h": CONVERTED, other: CONVERTED})],
    )
    _drop_first_hunk(mbox)  # arch/a keeps its #define; its use is still converted
    code, report = verify(capsys, mbox, repo)
    assert code == 0, report["findings"]
    got = {(c["file"], c["line"], c["function"], c["old"], c["new"]) for c in report["conversions"]}
    line_a = FLOPPY_H.splitlines().index("\tif (CROSS(addr, size)) {") + 1
    line_b = CONVERTED.splitlines().index("\tif (_CROSS(addr, size, 1)) {") + 1
    assert got == {
        ("arch/a/include/asm/floppy.h", line_a, "hard_dma_setup", "CROSS", "_CROSS"),
        (other, line_b, "hard_dma_setup", "CROSS", "_CROSS"),
    }
    assert report["migration"]["new"] == ["_CROSS"]
    assert report["migration"]["introduced"] == {}
    # arch/a keeps its unused #define: harmless to the build, said as a warning
    (left,) = [f for f in report["findings"] if f["code"] == "old-declaration-left"]
    assert (left["file"], left["line"]) == ("arch/a/include/asm/floppy.h", 3)
    assert left["severity"] == "warning" and "still defines it" in left["message"]

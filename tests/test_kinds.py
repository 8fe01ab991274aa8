"""Reference kinds and counts that say what the code is (found on real removal series on
the 6.12 tree): an enumerator used as a value, a prototype tree-sitter cannot place, a
struct tag a patch defines, conversions outside functions."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_snapshot import run_main
from test_verify_shapes import series, verify

from series_tool.model import find_references

FLAGS_H = "enum dom_flags {\n\tDOM_FLAG_A = (1 << 0),\n\tDOM_FLAG_NONCORE = (1 << 16),\n};\n"
WITH_NEW = FLAGS_H.replace("};", "\tDOM_FLAG_IMPL_BASE = (1 << 16),\n};")
VENDOR_H = '#include "flags.h"\n#define VENDOR_WAKEUP\t\t(DOM_FLAG_NONCORE << 0)\n'
USER_C = (
    '#include "vendor.h"\n'
    "static const int masks[] = {\n\tDOM_FLAG_NONCORE,\n};\n\n"
    "int wakeup(int f)\n{\n\treturn f & DOM_FLAG_NONCORE;\n}\n"
)


def _enum_series(tmp_path: Path, convert_user: bool) -> tuple[Path, Path]:
    steps: list[tuple[str, dict[str, str | None]]] = [
        ("flags: add DOM_FLAG_IMPL_BASE", {"flags.h": WITH_NEW}),
        (
            "vendor: use DOM_FLAG_IMPL_BASE",
            {"vendor.h": VENDOR_H.replace("DOM_FLAG_NONCORE", "DOM_FLAG_IMPL_BASE")},
        ),
        (
            "flags: remove DOM_FLAG_NONCORE",
            {"flags.h": WITH_NEW.replace("\tDOM_FLAG_NONCORE = (1 << 16),\n", "")},
        ),
    ]
    if convert_user:
        new_user = USER_C.replace("DOM_FLAG_NONCORE", "DOM_FLAG_IMPL_BASE")
        steps.insert(2, ("user: use DOM_FLAG_IMPL_BASE", {"user.c": new_user}))
    return series(tmp_path, {"flags.h": FLAGS_H, "vendor.h": VENDOR_H, "user.c": USER_C}, steps)


def test_enumerator_uses_are_constants_and_conversions_outside_functions_are_told_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, mbox = _enum_series(tmp_path, convert_user=True)
    code, report = verify(capsys, mbox, repo)
    assert code == 0
    assert {(c["file"], c["line"], c["kind"]) for c in report["conversions"]} == {
        ("vendor.h", 2, "constant"),
        ("user.c", 3, "constant"),
        ("user.c", 8, "constant"),
    }
    assert report["accounted"]["DOM_FLAG_NONCORE"]["base"]["constant"] == 3
    assert run_main(["verify", str(mbox), "--repo", str(repo)]) == 0
    text = " ".join(capsys.readouterr()[0].split())
    # One function; the #define body and the array initializer are not functions.
    assert (
        "3 conversions in 1 functions (1 in #define bodies, 1 in declarations or initializers)"
        in text
    )

    (tmp_path / "drop").mkdir()
    repo, mbox = _enum_series(tmp_path / "drop", convert_user=False)
    code, report = verify(capsys, mbox, repo)
    assert code == 1
    assert {(r["file"], r["line"], r["kind"]) for r in report["remaining"]} == {
        ("user.c", 3, "constant"),
        ("user.c", 8, "constant"),
    }
    errors = [f["message"] for f in report["findings"] if f["severity"] == "error"]
    assert any("a use of the enumerator" in m for m in errors)


def test_a_prototype_after_an_unknown_attribute_is_a_declaration() -> None:
    """`bitmap: remove _check_eq_u32_array`: `static bool __init f(...) __used;` is read
    by tree-sitter as an ERROR; it declares f, it does not call it."""
    text = (
        "static bool __init check_arr(const char *srcfile, unsigned int line,\n"
        "\t\tconst u32 *arr, unsigned int arr_len) __used;\n"
        "static bool __init check_arr(const char *srcfile, unsigned int line,\n"
        "\t\tconst u32 *arr, unsigned int arr_len)\n{\n\treturn true;\n}\n"
        "int test(void)\n{\n\treturn check_arr(__FILE__, __LINE__, 0, 0);\n}\n"
    )
    kinds = [(r.line, r.kind) for r in find_references("lib/t.c", text, ["check_arr"])]
    assert kinds == [(1, "declaration"), (3, "definition"), (10, "call")]


def test_a_struct_tag_the_patch_defines_is_introduced_by_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "powerpc: ... replace typedef with struct name": `new: aouthdr (not introduced by
    this series)` although the patch adds `struct aouthdr {`."""
    rs_h = "typedef struct\n{\n  unsigned char magic[2];\n}\nAOUTHDR;\n\n#define AOUTSZ 72\n"
    hack_c = (
        '#include "rs.h"\n\nint main(void)\n{\n    AOUTHDR aout;\n    return sizeof(aout);\n}\n'
    )
    new_h = "struct aouthdr {\n\tunsigned char magic[2];\n};\n\n#define AOUTSZ 72\n"
    repo, mbox = series(
        tmp_path,
        {"rs.h": rs_h, "hack.c": hack_c},
        [
            (
                "boot: replace typedef with struct name",
                {"rs.h": new_h, "hack.c": hack_c.replace("AOUTHDR aout", "struct aouthdr aout")},
            )
        ],
    )
    code, report = verify(capsys, mbox, repo)
    assert code == 0
    assert report["migration"]["old"] == ["AOUTHDR"]
    assert report["migration"]["introduced_in"]["aouthdr"] == 1

"""`scan` does not call a series an API removal when the name stays defined (issue 12).

Two false "fail" verdicts seen on the linuxppc-dev archive, rebuilt on a small tree:

- a macro with one definition per ``#ifdef`` branch, one branch's definition removed:
  the other definition stays, so the macro's users still build;
- an ``extern`` declaration of a symbol defined elsewhere (a linker script) removed from
  the one ``.c`` file that used it: a ``.c`` file's declaration is its own business,
  other files declare the symbol themselves.

And the real removals next to them still fail: every definition of the macro removed
while an assembly file uses it; a ``.c`` file's variable definition removed while another
file still uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import make_git_repo
from inbox import append_messages
from test_scan import ALICE, BOB, CAROL, _series, scan
from test_verify_shapes import series, verify

REGS = (
    "#ifndef REGS_H\n#define REGS_H\n"
    "#ifdef CONFIG_64BIT\n"
    "#define LOAD_ADDR(reg, name)\t\\\n\tld reg, name\n"
    "#else\n"
    "#define LOAD_ADDR(reg, name)\t\\\n\tlw reg, name\n"
    "#endif\n"
    "#define OTHER_ADDR(reg, name) la reg, name\n"
    "#endif\n"
)
TREE = {
    "arch/x/include/asm/regs.h": REGS,
    "arch/x/kernel/head.S": (
        "#include <asm/regs.h>\n\nstart:\n\tLOAD_ADDR(r3, start)\n\tOTHER_ADDR(r4, start)\n"
    ),
    "arch/x/kernel/vmlinux.lds.S": (
        "SECTIONS\n{\n\t.text : { *(.text) }\n\t_etext = .;\n\tPROVIDE(text_end = .);\n}\n"
    ),
    "arch/x/mm/init.c": (
        "extern char text_end[];\n\nlong text_size(void)\n{\n\treturn (long)text_end;\n}\n"
    ),
    "arch/x/mm/dump.c": (
        "extern char text_end[];\n\nlong dump_end(void)\n{\n\treturn (long)text_end;\n}\n"
    ),
    "lib/count.c": "int event_count;\n\nint count_get(void)\n{\n\treturn event_count;\n}\n",
    "drivers/c.c": "extern int event_count;\n\nint c_read(void)\n{\n\treturn event_count;\n}\n",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path, TREE, "tree")


def test_kept_definitions_are_no_removal_and_real_ones_still_fail(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_branch = _series(
        tree,
        tmp_path,
        "branch",
        [
            (
                "arch/x/include/asm/regs.h",
                "#else\n#define LOAD_ADDR(reg, name)\t\\\n\tlw reg, name\n",
                "",
                "x: LOAD_ADDR only for 64-bit",
            )
        ],
        ALICE,
        "",
    )
    extern = _series(
        tree,
        tmp_path,
        "extern",
        [
            (
                "arch/x/mm/init.c",
                "extern char text_end[];\n\nlong text_size(void)\n{\n\treturn (long)text_end;",
                "long text_size(void)\n{\n\treturn 0;",
                "x: text_size without text_end",
            )
        ],
        BOB,
        "",
    )
    every_def = _series(
        tree,
        tmp_path,
        "every-def",
        [
            (
                "arch/x/include/asm/regs.h",
                REGS[REGS.index("#ifdef") : REGS.index("#define OTHER")],
                "",
                "x: remove LOAD_ADDR",
            )
        ],
        CAROL,
        "",
    )
    definition = _series(
        tree,
        tmp_path,
        "definition",
        [
            (
                "lib/count.c",
                "int event_count;\n\nint count_get(void)\n{\n\treturn event_count;\n}\n",
                "int count_get(void)\n{\n\treturn 0;\n}\n",
                "count: no event_count",
            )
        ],
        ALICE,
        "",
    )
    archive = tmp_path / "inbox.git"
    append_messages(archive, [*one_branch, *extern, *every_def, *definition])
    code, rep = scan(capsys, str(archive), "--repo", str(tree), "-o", str(tmp_path / "out"))
    got = {s["title"]: (s["state"], s["removes"]) for s in rep["checked"]}
    assert got == {
        "x: remove LOAD_ADDR": ("fail", ["LOAD_ADDR"]),
        "count: no event_count": ("fail", ["event_count"]),
    }, got
    assert code == 1
    rows = {s["title"]: s["description"] for s in rep["checked"]}
    assert "arch/x/kernel/head.S" in rows["x: remove LOAD_ADDR"]
    assert "drivers/c.c c_read" in rows["count: no event_count"]


def _verify_regs(tmp_path: Path, capsys: pytest.CaptureFixture[str], regs_after: str) -> Any:
    base = {k: v for k, v in TREE.items() if k.startswith("arch/x/")}
    repo, mbox = series(tmp_path, base, [("x: regs", {"arch/x/include/asm/regs.h": regs_after})])
    return verify(capsys, mbox, repo)


def test_verify_one_branch_of_a_macro_removed_is_no_removal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_branch = REGS.replace("#else\n#define LOAD_ADDR(reg, name)\t\\\n\tlw reg, name\n", "")
    code, report = _verify_regs(tmp_path, capsys, one_branch)
    assert "LOAD_ADDR" not in report["migration"]["removed"]
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
    assert code == 0


def test_verify_every_definition_removed_still_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    every = REGS.replace(REGS[REGS.index("#ifdef") : REGS.index("#define OTHER")], "")
    code, report = _verify_regs(tmp_path, capsys, every)
    assert report["migration"]["removed"] == {"LOAD_ADDR": 1}
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert any(f["file"] == "arch/x/kernel/head.S" for f in errors), errors
    assert code == 1


def test_a_function_whose_prototype_stays_is_still_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # lib.c keeps its prototype `int helper(void);` but the definition goes: still
    # declared there, no longer defined anywhere: callers no longer link.
    header = "int helper(void);\nint keep(void);\n"
    lib = (
        '#include "h.h"\n\nint helper(void);\n\nint helper(void)\n{\n\treturn 1;\n}\n\n'
        "int keep(void)\n{\n\treturn helper();\n}\n"
    )
    user = '#include "h.h"\n\nint user(void)\n{\n\treturn helper();\n}\n'
    base = {"h.h": header, "lib.c": lib, "user.c": user}
    after = lib.replace("int helper(void)\n{\n\treturn 1;\n}\n\n", "").replace(
        "return helper();", "return 2;"
    )
    repo, mbox = series(tmp_path, base, [("lib: drop helper", {"lib.c": after})])
    code, report = verify(capsys, mbox, repo)
    assert "helper" in report["migration"]["removed"]
    assert code == 1


def test_a_definition_under_if_0_removed_is_no_removal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "powerpc/mm/hash: Code cleanup" (linuxppc-dev) deletes an `#if 0` macro version of
    vsid_scramble() and keeps the static inline one: the macro was never compiled, so the
    name's users still build. It was a "fail" with every caller listed as a macro use."""
    header = (
        "#if 0\n#define scramble(v, m)\t((v) * (m))\n#else\n"
        "static inline unsigned long scramble(unsigned long v, unsigned long m)\n{\n"
        "\treturn v * m;\n}\n#endif\n"
    )
    user = '#include "s.h"\n\nunsigned long use(unsigned long v)\n{\n\treturn scramble(v, 3);\n}\n'
    after = header.replace("#if 0\n#define scramble(v, m)\t((v) * (m))\n#else\n", "").replace(
        "#endif\n", ""
    )
    repo, mbox = series(
        tmp_path, {"s.h": header, "user.c": user}, [("s: drop dead code", {"s.h": after})]
    )
    code, report = verify(capsys, mbox, repo)
    assert "scramble" not in report["migration"]["removed"]
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
    assert code == 0

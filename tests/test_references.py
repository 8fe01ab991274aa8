"""find_references: every whole-word occurrence gets exactly one classified Reference."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.model import CSource, count_kinds, find_references

SYM = "old_api"

C_FILE = """\
/* old_api() is going away */
extern int __must_check old_api(int);
int old_api(int x)
{
	return x;
}
EXPORT_SYMBOL(old_api);
#define OLD_WRAP(x) old_api(x)
#define old_api_alias old_api
static int user(void)
{
	int (*fp)(int) = old_api;
	pr_info("old_api failed\\n");
	return old_api(1) + old_api_v2(2);
}
"""


def kinds_by_line(refs: list) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for r in refs:
        out.setdefault(r.line, []).append(r.kind)
    return out


def test_c_file_kinds_knowing_the_symbol_is_a_function() -> None:
    """Told that old_api is a function, a bare use of it is its address."""
    refs = find_references("lib/x.c", C_FILE, [SYM], roles={SYM: frozenset({"function"})})
    kinds = kinds_by_line(refs)
    assert kinds[9] == ["address"] and kinds[12] == ["address"] and kinds[14] == ["call"]
    assert next(r for r in refs if r.line == 12).function == "user"


def test_c_file_kinds() -> None:
    refs = find_references("lib/x.c", C_FILE, [SYM])
    assert kinds_by_line(refs) == {
        1: ["comment"],
        2: ["declaration"],
        3: ["definition"],
        7: ["export"],
        8: ["call"],  # a call inside another macro's body is a call
        9: ["other"],  # without knowing what old_api is, a bare name is "other"
        12: ["other"],
        13: ["string"],
        14: ["call"],
    }
    call = next(r for r in refs if r.kind == "call" and r.line == 14)
    assert call.function == "user"
    assert call.text == "\treturn old_api(1) + old_api_v2(2);"
    assert next(r for r in refs if r.kind == "definition").function == "old_api"
    assert count_kinds(refs)["call"] == 2
    assert sum(count_kinds(refs).values()) == len(refs)


def test_macro_body_comment_and_string_are_not_macro_code() -> None:
    text = '#define A(x) \\\n\tdo { pr("old_api"); old_api(x); } while (0)\n'
    kinds = sorted(r.kind for r in find_references("a.h", text, [SYM]))
    assert kinds == ["call", "string"]


def test_error_region_still_classified() -> None:
    text = "int f(void)\n{\n\tif (a) {\nregular:\n#endif\n\told_api(1);\n\tx = old_api;\n}\n"
    refs = find_references("b.c", text, [SYM])
    assert [(r.line, r.kind) for r in refs] == [(6, "call"), (7, "other")]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("Documentation/mm/locks.rst", "documentation"),
        ("README.md", "documentation"),
        ("notes.txt", "documentation"),
        ("arch/x86/entry.S", "other"),
        ("mm/Kconfig", "other"),
        ("rust/kernel/mm.rs", "other"),
        ("mm/Makefile", "other"),
    ],
)
def test_non_c_files(path: str, kind: str) -> None:
    refs = find_references(path, "a old_api b\nold_api_x\n(old_api)\n", [SYM])
    assert [(r.line, r.kind, r.function) for r in refs] == [(1, kind, None), (3, kind, None)]


def test_prebuilt_source_and_several_symbols() -> None:
    src = CSource.from_text(C_FILE)
    refs = find_references("lib/x.c", C_FILE, [SYM, "old_api_v2", "user"], source=src)
    assert Counter(r.symbol for r in refs) == {"old_api": 9, "old_api_v2": 1, "user": 1}


SNIPPETS = [
    "old_api(1);",
    "x = old_api;",
    "/* old_api */",
    '"old_api"',
    "// old_api and old_api\n",
    "old_apix(2);",
    "int old_api(void);",
    "#define M old_api\n",
    "{ old_api(old_api(3)); }",
    "int f(void) { return old_api(4); }",
    "}}}",
    "((",
]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(SNIPPETS), max_size=12), st.sampled_from(["\n", " ", "\n\n"]))
def test_every_whole_word_occurrence_once(parts: list[str], sep: str) -> None:
    text = sep.join(parts) + "\n"
    refs = find_references("fuzz.c", text, [SYM])
    lines = text.split("\n")
    expected = Counter()
    for n, line in enumerate(lines, start=1):
        count = len(re.findall(r"(?<![A-Za-z0-9_])old_api(?![A-Za-z0-9_])", line))
        if count:
            expected[n] = count
    assert Counter(r.line for r in refs) == expected
    assert all(r.text == lines[r.line - 1] for r in refs)


def _grep_hits(repo: Path, sym: str) -> Counter:
    out = subprocess.run(
        ["git", "-C", str(repo), "grep", "-w", "-n", "-o", sym],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return Counter((f, int(n)) for f, n, _ in (ln.split(":", 2) for ln in out.splitlines()))


@pytest.mark.kernel
@pytest.mark.parametrize("sym", ["pte_offset_map_nolock", "devm_clk_bulk_get_all_enable"])
def test_kernel_grep_hits_each_get_one_reference(kernel_repo: Path, sym: str) -> None:
    hits = _grep_hits(kernel_repo, sym)
    assert hits
    refs = []
    for path in sorted({f for f, _ in hits}):
        text = (kernel_repo / path).read_bytes().decode("utf-8", "surrogateescape")
        refs += find_references(path, text, [sym])
    assert Counter((r.file, r.line) for r in refs) == hits


@pytest.mark.kernel
def test_kernel_pte_offset_map_nolock_kinds(kernel_repo: Path) -> None:
    # SOURCES.md: 12 call sites in 11 functions, plus declaration, definition,
    # comments and one documentation line.
    refs = []
    for path in sorted({f for f, _ in _grep_hits(kernel_repo, "pte_offset_map_nolock")}):
        text = (kernel_repo / path).read_bytes().decode("utf-8", "surrogateescape")
        refs += find_references(path, text, ["pte_offset_map_nolock"])
    counts = count_kinds(refs)
    calls = [r for r in refs if r.kind == "call"]
    assert len(calls) == 12
    assert len({(r.file, r.function) for r in calls}) == 11
    assert all(r.function for r in calls)
    assert counts["declaration"] == 1 and counts["definition"] == 1
    assert counts["documentation"] == 1 and counts["comment"] >= 1


@pytest.mark.kernel
def test_kernel_clk_reference_kinds(kernel_repo: Path) -> None:
    # README.md of the clk corpus lists these lines of the 6.12 tree.
    expected = {
        ("drivers/clk/clk-devres.c", 229): "definition",
        ("drivers/clk/clk-devres.c", 259): "export",
        ("include/linux/clk.h", 523): "comment",
        ("include/linux/clk.h", 535): "declaration",
        ("include/linux/clk.h", 1044): "definition",
        ("drivers/soc/mediatek/mtk-pmic-wrap.c", 2521): "call",
        ("drivers/pci/controller/dwc/pci-exynos.c", 303): "call",
    }
    got = {}
    for path in sorted({f for f, _ in expected}):
        text = (kernel_repo / path).read_bytes().decode("utf-8", "surrogateescape")
        for r in find_references(path, text, ["devm_clk_bulk_get_all_enable"]):
            got[(r.file, r.line)] = r.kind
    assert got == expected

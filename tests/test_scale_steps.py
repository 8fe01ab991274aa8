"""Long series: the incremental per-step references equal a whole recomputation.

A rename series of many small patches over a few files (each file changed again and
again, one call per patch, with a comment opened and closed on the way) is made with
real commits in a temp repository; every step's references from the analysis must equal
`find_references` of every file at that step, and the windowed classification of the
untouched callers must equal their whole-file classification.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import git, make_git_repo, series_mbox

from series_tool.checks import Analysis, analyse
from series_tool.ingest import ingest
from series_tool.model import find_references, windowed_references
from series_tool.models import Reference
from series_tool.replay import open_tree

#: The header of the generated series: buf_get, later converted to buf_fetch.
HEADER = "#ifndef _BUF_H\n#define _BUF_H\nint buf_get(int n);\n#endif\n"


def _caller(i: int, calls: int) -> str:
    body = "".join(f"\tx += buf_get({k});\n" for k in range(calls))
    return (
        f'#include "buf.h"\n\n/* file {i}: buf_get callers */\n'
        f"static int helper{i}(int x)\n{{\n{body}\treturn x;\n}}\n\n"
        f"int user{i}(void)\n{{\n\treturn helper{i}(buf_get(0));\n}}\n"
    )


def _series(tmp_path: Path) -> tuple[Path, Path]:
    files = {"buf.h": HEADER, "buf.c": "int buf_get(int n)\n{\n\treturn n;\n}\n"}
    files |= {f"c{i}.c": _caller(i, 6) for i in range(4)}
    files |= {f"untouched{i}.c": _caller(10 + i, 2) for i in range(3)}
    repo = make_git_repo(tmp_path, files)
    base = git(repo, "rev-parse", "HEAD").strip()

    def commit(path: str, text: str, msg: str) -> None:
        (repo / path).write_text(text)
        git(repo, "commit", "-qam", msg)

    h = HEADER.replace("#endif", "#define buf_fetch buf_get\n#endif")
    commit("buf.h", h, "introduce buf_fetch")
    for i in range(4):
        lines = (repo / f"c{i}.c").read_text().split("\n")
        for j, ln in enumerate(lines):
            if "buf_get" in ln and "/*" not in ln:
                lines[j] = ln.replace("buf_get", "buf_fetch")
                commit(f"c{i}.c", "\n".join(lines), f"c{i}: convert line {j}")
        if i == 1:  # an unterminated comment for one patch: everything after it changes
            commit(f"c{i}.c", "/* open\n" + "\n".join(lines), "open a comment")
            commit(f"c{i}.c", "\n".join(lines), "close it again")
    mbox = series_mbox(repo, base, tmp_path / "series.mbox")
    git(repo, "checkout", "-q", base)
    return repo, mbox


def assert_steps_recomputed(an: Analysis, touched: list[str], fixed: list[Reference]) -> None:
    """Every step's references are `fixed` (the untouched files') and then a fresh
    `find_references` of each touched file as it is at that step, in that order; by
    symbol, and counted by kind, the same."""
    for st in an.steps:
        read = an.read_at(st.index)
        expected = list(fixed)
        for path in touched:
            if text := read(path):
                # the same classifier inputs: what each name is where the series defines
                # it (a macro's invocation is a macro-use)
                expected.extend(find_references(path, text, an.tracked, roles=an.roles))
        assert st.refs == expected, f"step {st.index}"
        for sym in an.tracked:
            assert st.refs_of(sym) == [r for r in expected if r.symbol == sym]
            kinds = Counter(r.kind for r in expected if r.symbol == sym)
            assert st.count(sym, ["call"]) == kinds["call"]


def test_incremental_steps_equal_recomputation(tmp_path: Path) -> None:
    repo, mbox = _series(tmp_path)
    ing = ingest(str(mbox))
    tree = open_tree(str(repo), None, None, "/")
    an = analyse(ing, tree, old=["buf_get"], new=["buf_fetch"])
    assert len(an.steps) == len(ing.series.patches) + 1 > 30
    symbols = an.tracked
    touched = sorted({fd.path for p in ing.series.patches for fd in p.files})
    untouched = ["buf.c", *(f"untouched{i}.c" for i in range(3))]
    fixed = []
    for path in untouched:
        text = tree.read(path) or ""
        fixed.extend(find_references(path, text, symbols, roles=an.roles))
    assert_steps_recomputed(an, touched, fixed)
    last = an.steps[-1]
    assert last.count("buf_get", ["call"]) == 3 * 3  # the untouched callers remain


@pytest.mark.kernel
def test_windows_classify_like_the_whole_file(kernel_repo: Path) -> None:
    """The v4 series' symbols and tree-wide ones: windowed kinds and functions are the
    whole-file parse's, file by file."""
    tree = open_tree(str(kernel_repo), None, None, "/")
    for symbols in (
        ["pte_offset_map_nolock", "pte_offset_map_lock", "pte_offset_map_ro_nolock"],
        ["kmemdup"],
        ["memdup_user", "devm_ioremap_resource"],
    ):
        paths = sorted({h.path for h in tree.grep_words(symbols)})
        assert len(paths) > 30
        for path, text in tree.read_many(paths).items():
            assert text is not None
            assert windowed_references(path, text, symbols) == find_references(
                path, text, symbols
            ), path

"""Many symbols in one git grep (fixed strings, then exact word checks) find exactly the
lines the per-symbol whole-word matcher finds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import make_git_repo
from hypothesis import given
from hypothesis import strategies as st

from series_tool.model import word_pattern
from series_tool.model.words import word_pattern_bytes
from series_tool.replay import GitTree, scan_text

SYMBOLS = [f"sym{i}" for i in range(12)] + ["add_memory", "add_memory_driver_managed", "a_b"]

FILES = {
    "a.c": "int sym1;\nint xsym2 = sym20;\nadd_memory_driver_managed(x);\n/* sym3_ */ sym3\n",
    "b.h": "#define add_memory(x) 0\nsym11sym1\nsym1_sym2 sym2\n",
    "c.txt": "a_b a_bc\nnothing\n_sym4 sym4_ 4sym4\nsym10\n",
    "d.c": "\n".join(f"f{i}(sym{i % 12}, add_memory_x);" for i in range(50)) + "\n",
}


def test_many_symbols_equal_per_symbol_scans(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, FILES)
    tree = GitTree(str(repo))
    hits = tree.grep_words(SYMBOLS)
    expected = sorted(
        (h for path, text in FILES.items() for h in scan_text(path, text, word_pattern(SYMBOLS))),
        key=lambda h: (h.path, h.line),
    )
    assert hits == expected
    assert len(hits) > 50
    # The same lines as one symbol at a time, merged.
    single = {(h.path, h.line) for s in SYMBOLS for h in tree.grep_words([s])}
    assert {(h.path, h.line) for h in hits} == single


@pytest.mark.parametrize(
    "symbols",
    [
        # one alternation per first character (PCRE), prefixes of each other included
        ["add_memory", "add_memory_driver_managed", "sym1", "sym11", "a_b"],
        ["sym1", "sym2", "sym20", "sym3"],
        ["a_b", "sym4", "add_memory", "sym10", "sym2"],
        # four first characters, but grouping them saves three passes: PCRE
        ["add_memory", "add_memory_driver_managed", "a_b", "sym1", "sym11", "bsym", "xsym2"],
        # more first characters than PCRE groups: fixed strings
        ["a_b", "sym4", "xsym2", "bsym", "sym1"],
    ],
)
def test_few_symbols_equal_per_symbol_scans(tmp_path: Path, symbols: list[str]) -> None:
    repo = make_git_repo(tmp_path, FILES)
    tree = GitTree(str(repo))
    hits = tree.grep_words(symbols)
    expected = sorted(
        (h for path, text in FILES.items() for h in scan_text(path, text, word_pattern(symbols))),
        key=lambda h: (h.path, h.line),
    )
    assert hits == expected
    assert hits


@given(
    st.text(alphabet="ab_c1 .(\n", max_size=60),
    st.lists(st.sampled_from(["ab", "abc", "b_", "c", "a1", "b"]), min_size=1, max_size=4),
)
def test_word_patterns_match_as_lookarounds_do(text: str, symbols: list[str]) -> None:
    """The literal-first patterns find exactly what `(?<!w)(?:alts)(?!w)` finds."""
    alts = "|".join(re.escape(s) for s in sorted(set(symbols), key=lambda s: (-len(s), s)))
    plain = re.compile(rf"(?<![A-Za-z0-9_])(?:{alts})(?![A-Za-z0-9_])")
    want = [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in word_pattern(symbols).finditer(text)] == want
    data = text.encode()
    assert [m.span() for m in word_pattern_bytes(symbols).finditer(data)] == want

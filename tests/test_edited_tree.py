"""`cparse.edited_tree`'s one edit (the common prefix and suffix of two texts, counted
by bisection on slices, its rows counted once up to the change) is the naive one, and a
reparse told that edit gives the tree a fresh parse gives, positions included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.model import CSource
from series_tool.model.cparse import _common_prefix, _common_suffix, edited_tree, leaves

TEXTS = st.text(alphabet="ab{}();\n x=/*", max_size=60)


def _naive_prefix(a: bytes, b: bytes) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS, TEXTS)
def test_common_prefix_and_suffix_are_the_naive_ones(head: str, a: str, b: str) -> None:
    old, new = (head + a).encode(), (head + b + a).encode()
    start = _common_prefix(old, new)
    assert start == _naive_prefix(old, new)
    limit = min(len(old), len(new)) - start
    tail = _common_suffix(old, new, limit)
    assert tail == min(_naive_prefix(old[::-1], new[::-1]), limit)


def _shape(src: CSource) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    return [
        (n.type, n.start_byte, n.end_byte, tuple(n.start_point), tuple(n.end_point))
        for n in leaves(src.root)
    ]


@settings(max_examples=150, deadline=None)
@given(TEXTS, TEXTS, TEXTS, TEXTS)
def test_a_reparse_from_the_edit_is_a_fresh_parse(head: str, a: str, b: str, tail: str) -> None:
    old, new = head + a + tail, head + b + tail
    before = CSource.from_text(old)
    _, start, old_end, new_end = edited_tree(before.tree, old.encode(), new.encode())
    assert old.encode()[:start] == new.encode()[:start]
    assert old.encode()[old_end:] == new.encode()[new_end:]
    again, fresh = before.reparsed(new), CSource.from_text(new)
    assert str(again.root) == str(fresh.root)
    assert _shape(again) == _shape(fresh)

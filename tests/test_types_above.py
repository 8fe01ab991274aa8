"""`references._types_above` (one walk down from the root) answers what `_inside` (a walk
up through `parent`) answers, for every node of kernel-style items, errors included:
`classify_c` and `_use_kind` ask it instead of walking up once per question."""

from __future__ import annotations

from test_windows import ITEMS
from tree_sitter import Node

from series_tool.model import CSource
from series_tool.model.cparse import leaves
from series_tool.model.references import _types_above


def _inside(node: Node, types: set[str]) -> Node | None:
    """The nearest of `node` and its ancestors whose type is one of `types`, found
    walking up through `parent` (the way `references` asked before `_types_above`)."""
    cur: Node | None = node
    while cur is not None:
        if cur.type in types:
            return cur
        cur = cur.parent
    return None


def test_types_above_is_every_type_inside_answers() -> None:
    src = CSource.from_text("\n".join(ITEMS) + '\n#include "x.h"\n/* c */\n')
    assert src.root.has_error  # some items are read with errors: ERROR nodes are walked too
    checked = 0
    for leaf in leaves(src.root):
        node = src.root.descendant_for_byte_range(leaf.start_byte, leaf.end_byte)
        assert node is not None
        up: set[str] = set()
        cur = node
        while cur is not None:
            up.add(cur.type)
            cur = cur.parent
        above = _types_above(src.root, node)
        assert above == up
        assert all(_inside(node, {t}) is not None for t in above)
        checked += 1
    assert checked > 500

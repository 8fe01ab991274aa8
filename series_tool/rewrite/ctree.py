"""Tree-sitter helpers the rewrite modules share."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from series_tool.model import node_text


def walk(node: Node) -> Iterator[Node]:
    """All nodes under `node` (itself first), in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def declarator_name(node: Node | None) -> str | None:
    """The identifier a (possibly pointer/array/function) declarator declares."""
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return node_text(node)
        node = node.child_by_field_name("declarator")
    return None

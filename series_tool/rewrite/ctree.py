"""Tree-sitter helpers the rewrite modules share.

Kernel files are big (tens of thousands of nodes) and a rewrite asks the same few
questions of them many times, so the helpers here avoid visiting every node from
Python: names are found by searching the source bytes and asking tree-sitter for the
node there, errors by descending only into subtrees tree-sitter marks as erroneous.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from tree_sitter import Node

from series_tool.model import node_text

#: Containers whose children are top-level items (definitions may sit inside #if blocks).
_TOP_LEVEL = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
        "linkage_specification",
        "declaration_list",
        "ERROR",
    }
)


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


@cache
def _word(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![A-Za-z0-9_$])" + re.escape(name.encode()) + rb"(?![A-Za-z0-9_$])")


def identifiers_named(root: Node, name: str) -> list[Node]:
    """The `identifier` nodes spelling `name` under `root`, in source order.

    The same set a walk of every node would give (an identifier's text is always the
    word at its bytes), found by searching the text: the cost follows the number of
    occurrences, not the size of the file."""
    data = root.text or b""
    base = root.start_byte
    out: list[Node] = []
    for m in _word(name).finditer(data):
        node = root.descendant_for_byte_range(base + m.start(), base + m.end())
        if node is not None and node.type == "identifier" and node.end_byte == base + m.end():
            out.append(node)
    return out


def error_count(root: Node) -> int:
    """ERROR and MISSING nodes under `root` (only subtrees that have errors are visited)."""
    if not root.has_error:
        return 0
    count = 0
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            count += 1
        stack.extend(c for c in n.children if c.has_error)
    return count


def top_level_functions(root: Node) -> Iterator[Node]:
    """function_definition nodes at file scope (also inside #if blocks), in source order;
    function bodies are not entered."""
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            yield n
        elif n.type in _TOP_LEVEL or n is root:
            stack.extend(reversed(n.named_children))

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

from tree_sitter import Node, Parser, Point, Tree

from series_tool.model import TOP_LEVEL_CONTAINERS, node_text, parse


def parse_text(text: str) -> Tree:
    """A tree-sitter tree of file text (callers that ask several questions of one file
    parse it once with this and pass `tree=`)."""
    return parse(text.encode("utf-8", "surrogateescape"))


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
        elif n.type in TOP_LEVEL_CONTAINERS or n is root:
            stack.extend(reversed(n.named_children))


def _point(data: bytes, offset: int) -> Point:
    """(row, column in bytes) of a byte offset, as tree-sitter counts them."""
    return Point(data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1))


def apply_edits(data: bytes, tree: Tree, edits: list[tuple[int, int, bytes]]) -> tuple[bytes, Tree]:
    """`data` with the (start, end, replacement) byte edits made, and its parse.

    The parse is incremental: tree-sitter reuses every subtree of `tree` (the parse of
    `data`, left as it is) the edits do not touch, so a few edits in a big file cost a
    fraction of a full parse. It equals a fresh parse wherever the text is valid C; inside
    syntax errors (kernel files have some: attribute macros) tree-sitter's recovery may
    shape the ERROR nodes differently, so errors are counted on fresh parses elsewhere.
    Edits must not overlap."""
    edited = tree.copy()
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        start_point, old_end = _point(data, start), _point(data, end)
        data = data[:start] + text + data[end:]
        edited.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=start + len(text),
            start_point=start_point,
            old_end_point=old_end,
            new_end_point=_point(data, start + len(text)),
        )
    return data, Parser(tree.language).parse(data, edited)

"""Parse only the top-level items of a file around some lines, at the file's own positions.

A long series touches a thousand big files (32 MB of C for a 1,000-patch rename) and asks
about a few lines of each version: its references to the tracked symbols and the lines
its hunks change. Parsing every version whole costs several times a `git grep` of the
whole tree; the items around those lines are a tenth of the bytes.

The items are found as `windows` finds them for untouched files (closers in column 0,
looked for around each line; here each window is one item, never merged with the next)
and handed to tree-sitter as the parser's included ranges of the whole file's bytes:
every node keeps its byte offset and (row, column) in the file, so every question the
pipeline asks of a `CSource` (references, hunk maps, prototypes, call arguments) is
asked unchanged, with the file's line numbers.

The parse is used only when every window parses into whole items: no ERROR or MISSING
node at the top, and no top-level node reaching from one window into the next. Then the
ranges parse as each window would alone (the parser is between items at every window's
end), and an item's answer depends only on its own bytes. Otherwise the caller parses
the whole file.
"""

from __future__ import annotations

from collections.abc import Iterable

from tree_sitter import Parser, Point, Range

from .cparse import CSource, c_language, edited_tree
from .windows import _spans

#: (first line, 0-based; start offset; end offset, past the last line's newline)
Span = tuple[int, int, int]


def line_starts(data: bytes, lines: Iterable[int], near: Iterable[int] = ()) -> list[int]:
    """The offsets where the 1-based `lines` start, in order (lines past the end left out).

    `near` are offsets of line starts that likely include them (the lines of the hits):
    their line numbers are counted at C speed in one pass; another line is found by
    splitting the text up to it.
    """
    known: dict[int, int] = {}
    row, last = 1, 0
    for off in sorted(set(near)):
        row += data.count(b"\n", last, off)
        last = off
        known[row] = off
    out: list[int] = []
    for n in sorted(set(lines)):
        if n in known:
            out.append(known[n])
        elif n > 0 and len(rest := data.split(b"\n", n - 1)) == n:
            out.append(len(data) - len(rest[-1]))
    return out


def item_spans(data: bytes, line_starts: Iterable[int]) -> list[Span]:
    """The windows of whole items around the lines starting at `line_starts` (offsets),
    in file order: from the line after the closer before a line to the closer at or after
    it (as `windows` finds them), each on its own even where two meet, so that an item
    that did not change is not parsed again with one that did. Each ends past its last
    line's newline."""
    return [(f, s, min(e + 1, len(data))) for f, s, e in _spans(data, line_starts, merge=False)]


def _range(data: bytes, first: int, start: int, end: int) -> Range:
    end_row = first + data.count(b"\n", start, end)
    end_col = end - (data.rfind(b"\n", 0, end) + 1)
    return Range(Point(first, 0), Point(end_row, end_col), start, end)


def parse_items(data: bytes, spans: list[Span], before: CSource | None = None) -> CSource | None:
    """The parse of `spans` of `data` only (see the module's docstring), or None when a
    window does not parse into whole items. `before`: an item parse of an earlier version
    of the file, reparsed incrementally (tree-sitter reuses what did not change; the tree
    is the one a fresh parse gives)."""
    if not spans:
        return None
    parser = Parser(c_language())
    parser.included_ranges = [_range(data, *s) for s in spans]
    if before is not None and before.root.end_byte > 0:
        # Told where `data` differs from `before`: the items that did not change are reused.
        tree = parser.parse(data, edited_tree(before.tree, before.data, data)[0])
    else:
        tree = parser.parse(data)
    k = 0
    for child in tree.root_node.children:
        if child.type == "ERROR" or child.is_missing:
            return None
        while k < len(spans) and spans[k][2] <= child.start_byte:
            k += 1
        if k == len(spans) or child.end_byte > spans[k][2]:
            return None  # runs past its window's end: read across into the next one
    return CSource(data, tree, parsed_size=sum(end - start for _, start, end in spans))

"""Classify references from windows of a file: the top-level items around what matters.

Two uses, both feeding the one classifier (`find_references`) unchanged:

* **A new version of a file** (a patch changed it): only the items around the bytes the
  edit or the reparse changed are classified again; the references before them are kept
  and those after them are moved by the number of lines the edit added. A 5,000-patch
  series that changes one line of a file 200 times then classifies a few lines per step,
  not the whole file each time.
* **A file the series does not touch** (a caller grep named): only the top-level item
  around each hit is parsed, on its own, instead of the whole file; where a window does
  not parse cleanly, the whole file is parsed as before.

Why items are enough: what kind a reference is and which function holds it are
decided by its top-level item, plus the item right before or after it in two shapes of
kernel C that tree-sitter splits across items (a prototype with an attribute macro, a
function defined through a macro): windows always take one neighbouring item on each
side.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from tree_sitter import Node

from series_tool.models import Reference

from .cparse import CSource, parse, parse_limit
from .references import find_references, is_c_path
from .words import word_pattern_bytes

#: Nodes whose children are items: a window never stops at them, it goes inside.
_CONTAINERS = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
    }
)


def _item(root: Node, offset: int) -> Node | None:
    """The item (a child of the file or of a preprocessor conditional) holding `offset`."""
    node: Node | None = root.descendant_for_byte_range(offset, offset)
    while node is not None and node.parent is not None and node.parent.type not in _CONTAINERS:
        node = node.parent
    if node is None or node.parent is None:
        return None  # the root itself: no item covers the offset
    return node


def _widened(node: Node, forward: bool) -> int:
    """The far edge of `node`'s neighbour on one side (its own edge if it has none)."""
    sib = node.next_sibling if forward else node.prev_sibling
    if sib is None:
        return node.end_byte if forward else node.start_byte
    return sib.end_byte if forward else sib.start_byte


def _line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, max(offset, 0)) + 1


def _line_end(data: bytes, offset: int) -> int:
    end = data.find(b"\n", offset)
    return len(data) if end < 0 else end + 1


def _statement(node: Node, item: Node) -> Node:
    """The statement of a function body that holds `node` (or the item itself)."""
    cur: Node | None = node
    while cur is not None and cur != item:
        parent = cur.parent
        if parent is not None and parent.type == "compound_statement":
            return cur
        cur = parent
    return item


def _units(root: Node, lo: int, hi: int) -> tuple[Node | None, Node | None]:
    """The first and last unit around [lo, hi): items, or statements of one function
    body when the change stays inside one body of an item tree-sitter parsed cleanly
    (a long function converted one call per patch must not be re-classified whole)."""
    first = _item(root, lo)
    last = _item(root, max(hi - 1, lo))
    if first is None or first != last or first.has_error:
        return first, last
    a = root.descendant_for_byte_range(lo, lo)
    b = root.descendant_for_byte_range(max(hi - 1, lo), max(hi - 1, lo))
    if a is None or b is None:
        return first, last
    sa, sb = _statement(a, first), _statement(b, first)
    if sa == first or sb == first or sa.parent != sb.parent:
        return first, last
    return sa, sb


def item_window(src: CSource, lo: int, hi: int) -> tuple[int, int]:
    """Whole lines [start, end) covering the items (or statements of one function body)
    around bytes [lo, hi) and one more on each side; the whole file when no boundary is
    found."""
    data = src.data
    root = src.root
    first, last = _units(root, lo, hi)
    start = _widened(first, forward=False) if first is not None else 0
    end = _widened(last, forward=True) if last is not None else len(data)
    start, end = min(start, lo), max(end, hi)
    return _line_start(data, start), _line_end(data, end)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def refs_after_edit(
    path: str,
    before: list[Reference],
    after: CSource,
    symbols: Collection[str],
    roles: Mapping[str, frozenset[str]] | None = None,
    before_src: CSource | None = None,
) -> list[Reference]:
    """The references of `after`, a reparse (`CSource.reparsed`) of `before_src`, the
    version whose references are `before` (in line order): the window around what changed
    is classified again, the rest is carried over (moved by the lines the edit added).
    Only when both versions parse without errors; otherwise (or without `before_src`)
    the whole file is classified again."""
    text = after.data.decode("utf-8", "surrogateescape")
    if after.changed is None or before_src is None or after.root.has_error:
        return find_references(path, text, symbols, source=after, roles=roles)
    if before_src.root.has_error:
        # Error recovery can move a function's end far from an edit, past what
        # changed_ranges reports. Checking that every function span outside the window
        # kept its place takes whole-tree queries that cost ten times what classifying
        # the file's hits again costs (one-line views): so that is done instead.
        return find_references(path, text, symbols, source=after, roles=roles)
    lo, hi, delta = after.changed
    data = after.data
    start, end = item_window(after, lo, hi)
    first_line = _line_of(data, start)
    last_line = _line_of(data, end - 1)  # the window's last line in the new text
    kept = [r for r in before if r.line < first_line]
    middle = find_references(path, text, symbols, source=after, roles=roles, span=(start, end))
    # Old line L after the window is new line L + delta: the window ends after a newline
    # of the common suffix (item_window ends past `hi`), or at the end of both texts.
    if end >= len(data):
        return [*kept, *middle]
    moved = [
        r if not delta else replace(r, line=r.line + delta)
        for r in before
        if r.line > last_line - delta
    ]
    return [*kept, *middle, *moved]


# --------------------------------------------------------------------------- untouched files


def _is_closer(data: bytes, start: int) -> bool:
    """Whether the '}' at `start` (column 0) ends a top-level item in kernel style: a
    function body, or `};` of a struct or an initializer; not a line inside a multi-line
    #define (a line continued by a backslash, or continuing one)."""
    end = data.find(b"\n", start)
    if data[start : len(data) if end < 0 else end].rstrip().endswith(b"\\"):
        return False
    if start:
        prev = data[data.rfind(b"\n", 0, start - 1) + 1 : start - 1]
        if prev.rstrip().endswith(b"\\"):
            return False
    return True


def _closer_before(data: bytes, pos: int) -> int | None:
    """Offset of the last closer that starts before `pos` (a line start), if any."""
    end = pos
    while (j := data.rfind(b"\n}", 0, end)) >= 0:
        if _is_closer(data, j + 1):
            return j + 1
        end = j + 1  # the next search ends before this '\n}'
    return 0 if pos > 0 and data.startswith(b"}") and _is_closer(data, 0) else None


def _closer_from(data: bytes, pos: int) -> int | None:
    """Offset of the first closer that starts at or after `pos` (a line start), if any."""
    if pos == 0 and data.startswith(b"}") and _is_closer(data, 0):
        return 0
    at = max(pos - 1, 0)
    while (j := data.find(b"\n}", at)) >= 0:
        if _is_closer(data, j + 1):
            return j + 1
        at = j + 1
    return None


def _line_end_of(data: bytes, start: int) -> int:
    """Offset of the newline ending the line at `start` (the end of the data if none)."""
    end = data.find(b"\n", start)
    return len(data) if end < 0 else end


def _spans(data: bytes, hit_starts: list[int]) -> list[tuple[int, int, int]]:
    """(first line, start offset, end offset) of each window, given the offsets where the
    hit lines start: from the line after the closer before a hit to the closer at or after
    it, merged where they meet (a window whose first line follows the last one's closer).

    The closers are looked for around the hits only (C-speed find/rfind from each one):
    the cost follows the hits, not the size of the file.
    """
    spans: list[tuple[int, int | None, int]] = []  # start, end closer (None: end of file), end
    for ls in sorted(set(hit_starts)):
        if spans:
            _, cur_closer, _ = spans[-1]
            if cur_closer is None or ls <= cur_closer:
                continue  # on or before the closer of the window being built: inside it
        before = _closer_before(data, ls)
        after = _closer_from(data, ls)
        end = len(data) if after is None else _line_end_of(data, after)
        if spans and before == spans[-1][1]:
            spans[-1] = (spans[-1][0], after, end)  # starts right after that window
            continue
        start = 0 if before is None else _line_end_of(data, before) + 1
        spans.append((start, after, end))
    out: list[tuple[int, int, int]] = []
    line, pos = 0, 0
    for start, _, end in spans:
        line += data.count(b"\n", pos, start)
        pos = start
        out.append((line, start, end))
    return out


def _parses_alone(src: CSource) -> bool:
    """Whether a window parsed into whole items: errors may sit inside an item (kernel
    macros confuse tree-sitter the same way in the whole file), never at the top, where
    they would mean the window cut an item (or an #if block) in two."""
    root = src.root
    if not root.has_error:
        return True
    return not any(c.type == "ERROR" or c.is_missing for c in root.children)


def windowed_references(
    path: str,
    text: str,
    symbols: Collection[str],
    roles: Mapping[str, frozenset[str]] | None = None,
) -> list[Reference]:
    """Every reference `find_references` finds in the file, classified from windows.

    The windows are whole top-level items around the occurrences (found by a scan for
    closing braces in column 0, then confirmed: a window is used only when tree-sitter
    parses it without any error); a file with a window that does not parse on its own
    is parsed whole, as `find_references` does.
    """
    if not is_c_path(path):
        return find_references(path, text, symbols, roles=roles)
    data = text.encode("utf-8", "surrogateescape")
    found = list(word_pattern_bytes(symbols).finditer(data))
    if not found:
        return []
    if parse_limit(data) is not None:
        # Over the per-file limits the whole file is text only, windows or not.
        return find_references(path, text, symbols, roles=roles)
    hit_starts = [data.rfind(b"\n", 0, m.start()) + 1 for m in found]
    out: list[Reference] = []
    for first, start, end in _spans(data, hit_starts):
        window = data[start:end].decode("utf-8", "surrogateescape") + "\n"
        src = CSource.from_text(window)
        if not _parses_alone(src):
            return find_references(path, text, symbols, roles=roles)
        for r in find_references(path, window, symbols, source=src, roles=roles):
            out.append(replace(r, line=r.line + first))
    return out


def windowed_roles(path: str, text: str, names: Collection[str]) -> dict[str, set[str]]:
    """What each of `names` is (cparse.ROLES) where this file defines, declares or
    #defines it, read from the top-level items around its occurrences (the whole file
    when one of them does not parse alone); names the file only uses are not listed."""
    if not is_c_path(path) or not names:
        return {}
    data = text.encode("utf-8", "surrogateescape")
    found = list(word_pattern_bytes(names).finditer(data))
    if not found or parse_limit(data) is not None:
        return {}
    wanted = set(names)
    sources: list[CSource] = []
    for _, start, end in _spans(data, [data.rfind(b"\n", 0, m.start()) + 1 for m in found]):
        src = CSource.from_text(data[start:end].decode("utf-8", "surrogateescape") + "\n")
        if not _parses_alone(src):
            sources = [CSource(data, parse(data))]
            break
        sources.append(src)
    out: dict[str, set[str]] = {}
    for src in sources:
        for name, roles in src.roles().items():
            if name in wanted:
                out.setdefault(name, set()).update(roles)
    return out

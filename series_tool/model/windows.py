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

import re
from collections.abc import Collection, Iterable, Mapping
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


def _spans(
    data: bytes, hit_starts: Iterable[int], merge: bool = True
) -> list[tuple[int, int, int]]:
    """(first line, start offset, end offset) of each window, given the offsets where the
    hit lines start: from the line after the closer before a hit to the closer at or after
    it, with `merge` merged where they meet (a window whose first line follows the last
    one's closer).

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
        if merge and spans and before == spans[-1][1]:
            spans[-1] = (spans[-1][0], after, end)  # starts right after that window
            continue
        start = 0 if before is None else _line_end_of(data, before) + 1
        spans.append((start, after, end))
    # The first line of each: the newlines counted incrementally, each byte once.
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


def _text(text: str | bytes) -> str:
    return text.decode("utf-8", "surrogateescape") if isinstance(text, bytes) else text


def windowed_references(
    path: str,
    text: str | bytes,
    symbols: Collection[str],
    roles: Mapping[str, frozenset[str]] | None = None,
) -> list[Reference]:
    """Every reference `find_references` finds in the file, classified from windows.

    The windows are whole top-level items around the occurrences (found by a scan for
    closing braces in column 0, then confirmed: a window is used only when tree-sitter
    parses it without any error); a file with a window that does not parse on its own
    is parsed whole, as `find_references` does. `text` may be the file's bytes (as read:
    a tree-wide API's thousands of callers are not decoded and encoded again).
    """
    if not is_c_path(path):
        return find_references(path, _text(text), symbols, roles=roles)
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    found = list(word_pattern_bytes(symbols).finditer(data))
    if not found:
        return []
    if parse_limit(data) is not None:
        # Over the per-file limits the whole file is text only, windows or not.
        return find_references(path, _text(text), symbols, roles=roles)
    hit_starts = [data.rfind(b"\n", 0, m.start()) + 1 for m in found]
    out: list[Reference] = []
    for first, start, end in _spans(data, hit_starts):
        refs = _function_references(path, data, start, end, symbols, roles, first)
        if refs is not None:
            out.extend(refs)
            continue
        window = data[start:end].decode("utf-8", "surrogateescape") + "\n"
        src = CSource.from_text(window)
        if not _parses_alone(src):
            return find_references(path, _text(text), symbols, roles=roles)
        for r in find_references(path, window, symbols, source=src, roles=roles):
            out.append(replace(r, line=r.line + first))
    return out


# --------------------------------------------------------------- statements of one body

#: A statement longer than this (a long `if` block around the hit) is no longer cheaper
#: than its function: the whole window is parsed instead.
_STATEMENT_BYTES = 4096


def _body(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """(start of the first body line, start of the closer line) of a window that is one
    function in kernel style: its last line is '}' alone, and one line '{' alone in
    column 0, after the header, opens the body; None for any other window (several items
    merged, initializers, bodies opened on the header line)."""
    closer = data.rfind(b"\n", 0, end) + 1
    if closer <= start or data[closer:end].rstrip() != b"}":
        return None
    at = data.find(b"\n{", max(start - 1, 0), closer)
    if at < 0 or at + 1 <= start:
        return None
    opener_end = _line_end_of(data, at + 1)
    if data[at + 1 : opener_end].rstrip() != b"{":
        return None
    if data.find(b"\n{", opener_end, closer) >= 0 or data.find(b"\n}", opener_end, closer - 1) >= 0:
        return None
    return opener_end + 1, closer


def _continues(line: bytes) -> bool:
    """Whether a statement may go on after this (right-stripped) line."""
    return not line.endswith((b";", b"{", b"}")) and not line.lstrip().startswith(b"#")


def _statement_start(data: bytes, lo: int, line: int) -> int:
    """The first line of the statement holding the line that starts at `line`: back to
    the line after one that ends a statement or opens a block (or to `lo`)."""
    start = line
    while start > lo:
        prev = data.rfind(b"\n", 0, start - 1) + 1
        if not _continues(data[prev : start - 1].rstrip()):
            break
        start = prev
    return start


def _opening_line(data: bytes, lo: int, close: int) -> int | None:
    """The start of the line holding the `{` that the `}` at `close` closes (braces
    counted back to `lo`), or None."""
    depth, pos = 0, close + 1
    while True:
        at = max(data.rfind(b"{", lo, pos), data.rfind(b"}", lo, pos))
        if at < 0:
            return None
        depth += 1 if data[at] == 0x7D else -1
        if depth == 0:
            return data.rfind(b"\n", 0, at) + 1
        pos = at


def _body_statement(data: bytes, lo: int, hi: int, hit: int) -> tuple[int, int] | None:
    """Whole lines [start, end) of the statement of a function body (lines [lo, hi))
    holding the line that starts at `hit`: back to the line after one that ends a
    statement or opens a block, forward to the line where brackets balance and a `;` or
    `}` ends it (an `else` goes on). A cheap scan: the parse of the result confirms it.
    None where it starts inside a comment or cannot be told."""
    start = _statement_start(data, lo, hit)
    line = data[start : _line_end_of(data, start)]
    while line.lstrip().startswith(b"}"):
        # `} while (...);`, `} else {`: the statement starts at its first block's opener.
        opener = _opening_line(data, lo, start + len(line) - len(line.lstrip()))
        if opener is None:
            return None
        start = _statement_start(data, lo, opener)
        line = data[start : _line_end_of(data, start)]
    if line.lstrip().startswith((b"#", b"else")):
        return None
    if data.rfind(b"/*", lo, start) > data.rfind(b"*/", lo, start):
        return None  # inside a block comment: `;` there ends no statement
    depth, pos = 0, start
    while pos < hi:
        end = _line_end_of(data, pos)
        line = data[pos:end]
        depth += line.count(b"{") + line.count(b"(") - line.count(b"}") - line.count(b")")
        pos = end + 1
        if depth < 0 or pos - start > _STATEMENT_BYTES:
            return None
        if pos > hit and depth == 0 and line.rstrip().endswith((b";", b"}")):
            nxt = pos
            while nxt < hi and not data[nxt : _line_end_of(data, nxt)].strip():
                nxt = _line_end_of(data, nxt) + 1
            if not data[nxt : _line_end_of(data, nxt)].lstrip().startswith(b"else"):
                return start, pos
    return None


#: A brace, to count blocks by (the parse confirms what the count suggests).
_BRACE = re.compile(rb"[{}]")


def _directives_plain(data: bytes, lo: int, hi: int) -> bool:
    """Whether the preprocessor lines of the body [lo, hi) leave its braces countable: no
    directive continued by a backslash or holding a brace, every conditional opened and
    closed inside the body, with no brace between its `#if` and `#endif` (each branch
    may hold half of a block)."""
    cond, opened = 0, lo
    at = data.find(b"#", lo, hi)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = _line_end_of(data, at)
        if start >= lo and not data[start:at].strip():
            line = data[at:end]
            if line.rstrip().endswith(b"\\") or b"{" in line or b"}" in line:
                return False
            word = line[1:].lstrip()
            if word.startswith(b"if"):
                if cond == 0:
                    opened = end
                cond += 1
            elif word.startswith(b"endif"):
                cond -= 1
                if cond < 0 or (cond == 0 and _BRACE.search(data, opened, start)):
                    return False
            elif cond == 0:
                return False  # #else / #elif of a conditional opened before the body
        at = data.find(b"#", end, hi)
    return cond == 0


def _balanced(data: bytes, lo: int, hi: int) -> bool:
    """Whether the body's parentheses and brackets balance (counted as characters): an
    unbalanced one is a syntax error whose recovery can change how far-away statements
    of the item parse, which the statements parsed alone would not show."""
    return (
        data.count(b"(", lo, hi) == data.count(b")", lo, hi)
        and data.count(b"[", lo, hi) == data.count(b"]", lo, hi)
        and data.count(b"{", lo, hi) == data.count(b"}", lo, hi)
    )


def _outermost_openers(data: bytes, lo: int, hi: int, lines: list[int]) -> list[int] | None:
    """For each of `lines` (line starts in the body [lo, hi), in order), the start of the
    line that opened the outermost block still open there (the line itself when none is),
    told by counting braces from the body's start: a hit is classified from the whole
    statement of the body that holds it, so that every block around it (an if/else
    chain, a loop macro tree-sitter reads as a nested function) is parsed as in the item.
    None (ask the whole window) when the count cannot be trusted: a brace on a line with
    a quote or a comment, preprocessor lines that may split blocks
    (`_directives_plain`), or a count that goes below zero."""
    if data.find(b"#", lo, hi) >= 0 and not _directives_plain(data, lo, hi):
        return None
    out: list[int] = []
    stack: list[int] = []  # starts of the lines that opened the blocks still open
    pos, checked = lo, -1
    for target in lines:
        for m in _BRACE.finditer(data, pos, target):
            at = m.start()
            line = data.rfind(b"\n", 0, at) + 1
            if line != checked:
                text = data[line : _line_end_of(data, line)]
                if any(q in text for q in (b'"', b"'", b"/*", b"*/", b"//")):
                    return None
                checked = line
            if data[at] == 0x7B:  # '{'
                stack.append(line)
            elif not stack:
                return None
            else:
                stack.pop()
        pos = max(pos, target)
        out.append(stack[0] if stack else target)
    return out


def _aligned(src: CSource, body_at: int, segments: list[tuple[int, int]]) -> bool:
    """Whether the parse has no error, ends with a function whose body opens at
    `body_at`, and every item of that body lies inside one segment (each segment is
    whole statements, none read across into the next).

    An error anywhere, even in the header only (`static void __init f(...)`), declines:
    the whole window is parsed. Where the whole file's parse recovers from an error, the
    function around a hit may come out other than the statements alone would say
    (`int __init f(void)` with an #if inside an initializer of its body: no function
    there for the whole file), and the answer must be the whole file's."""
    root = src.root
    if root.has_error or root.child_count == 0:
        return False
    fn = root.children[-1]
    body = fn.child_by_field_name("body") if fn.type == "function_definition" else None
    if body is None or body.start_byte != body_at or body.end_byte != len(src.data) - 1:
        return False
    k = 0
    for child in body.children[1:-1]:
        while k < len(segments) and segments[k][1] <= child.start_byte:
            k += 1
        if k == len(segments) or child.start_byte < segments[k][0]:
            return False
        if child.end_byte > segments[k][1]:
            return False
    return True


def _header_start(data: bytes, start: int, opener: int) -> int:
    """Where the small text of a window's function starts: past the comments and blank
    lines that open the window [start, opener) (the doc comment above a function: on the
    kernel, more bytes than the statements themselves), at the first byte of code when
    that starts a line in column 0; else at `start`. Only comments and whitespace are
    skipped: they are extras to tree-sitter, so the header parses from the same state as
    in the whole file. Code before the header (a macro call missing its `;`, such as
    `module_exit(f)`) can change how the header parses, so it is never cut off."""
    pos = start
    while pos < opener:
        c = data[pos]
        if c in b" \t\r\n\f\v":
            pos += 1
        elif data.startswith(b"/*", pos):
            end = data.find(b"*/", pos + 2, opener)
            if end < 0:
                return start
            pos = end + 2
        elif data.startswith(b"//", pos):
            end = data.find(b"\n", pos, opener)
            if end < 0 or data[pos:end].rstrip().endswith(b"\\"):
                return start  # a line comment continued by a backslash: keep it all
            pos = end + 1
        else:
            break
    if pos >= opener or (pos > 0 and data[pos - 1] != 0x0A):
        return start  # code after a comment on one line: keep the window's start
    return pos


def _statement_references(
    path: str,
    data: bytes,
    start: int,
    end: int,
    symbols: Collection[str],
    roles: Mapping[str, frozenset[str]] | None,
    base: int = 0,
) -> list[Reference] | None:
    """The references of the window [start, end) (lines counted from its start, as for
    the window parsed alone, plus `base`), classified from the statements holding the
    hits only: the function's header and body opener, then each statement, then a
    closing brace, parsed as one small function. None (parse the window) unless the
    window is one function whose every hit is in its body and that text parses without
    any error into exactly those statements.

    Why that is the window's answer: the kind of a name in a body statement is decided by
    the nodes of that statement (a call, a member, a local declaration...), and which
    function holds it by the header, parsed here from the same bytes as in the window.
    """
    bounds = _body(data, start, end)
    if bounds is None:
        return None
    lo, hi = bounds
    pattern = word_pattern_bytes(symbols)
    hits = [m.start() for m in pattern.finditer(data, start, end)]
    if not hits or hits[0] < lo or hits[-1] >= hi:
        return None
    if not _balanced(data, lo, hi):
        return None
    hit_lines = sorted({data.rfind(b"\n", 0, hit) + 1 for hit in hits})
    anchors = _outermost_openers(data, lo, hi, hit_lines)
    if anchors is None:
        return None
    spans: list[tuple[int, int]] = []
    for line, anchor in zip(hit_lines, anchors, strict=True):
        if spans and line < spans[-1][1]:
            continue  # inside the statement found for an earlier hit
        span = _body_statement(data, lo, hi, anchor)
        if span is None or span[1] <= line:
            return None
        s, e = span
        while spans and s < spans[-1][1]:  # overlaps (an if/else chain holds both hits)
            ps, pe = spans.pop()
            s, e = min(s, ps), max(e, pe)
        spans.append((s, e))
    opener = data.rfind(b"\n", 0, lo - 1) + 1  # the line '{' that opens the body
    head = _header_start(data, start, opener)
    parts = [data[head:lo]]
    segments: list[tuple[int, int]] = []  # the spans' bytes in the small text
    lines: list[tuple[int, int]] = []  # (first line in the small text, in the window)
    size, line_no = lo - head, data.count(b"\n", head, lo) + 1
    window_line, counted = data.count(b"\n", start, lo) + 1, lo  # the window's line there
    for s, e in spans:
        parts.append(data[s:e])
        segments.append((size, size + e - s))
        window_line += data.count(b"\n", counted, s)
        lines.append((line_no, window_line))
        size += e - s
        span_lines = data.count(b"\n", s, e)
        line_no += span_lines
        window_line, counted = window_line + span_lines, e
    parts.append(b"}\n")
    small = b"".join(parts)
    src = CSource(small, parse(small))
    if not _aligned(src, opener - head, segments):
        return None
    text = small.decode("utf-8", "surrogateescape")
    out: list[Reference] = []
    k = 0
    for r in find_references(path, text, symbols, source=src, roles=roles):
        while k + 1 < len(lines) and lines[k + 1][0] <= r.line:
            k += 1
        first_small, first_window = lines[k]
        out.append(replace(r, line=r.line - first_small + first_window + base))
    return out


def _function_references(
    path: str,
    data: bytes,
    start: int,
    end: int,
    symbols: Collection[str],
    roles: Mapping[str, frozenset[str]] | None,
    base: int = 0,
) -> list[Reference] | None:
    """`_statement_references` of each item of a window (windows of neighbouring items
    are merged by `_spans`: they are split again at their closers here), lines counted
    from the window's start plus `base` (each reference is made once, at its line);
    None (parse the window) when one item with hits is not answered from its
    statements."""
    pattern = word_pattern_bytes(symbols)
    out: list[Reference] = []
    pos = start
    while pos < end:
        closer = _closer_from(data, pos)
        part_end = end if closer is None or closer >= end else _line_end_of(data, closer)
        if pattern.search(data, pos, part_end):
            shift = base + data.count(b"\n", start, pos)
            refs = _statement_references(path, data, pos, part_end, symbols, roles, shift)
            if refs is None:
                return None
            out.extend(refs)
        pos = part_end + 1
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

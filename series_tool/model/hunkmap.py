"""What one hunk touches: enclosing functions, calls and definitions on its changed lines.

With the whole file before and after the patch (``pre``/``post``) everything
comes from the real file. Without them the hunk's pre-image and post-image are
parsed as C fragments, and git's ``@@ ... @@ hint`` names the function the hunk
starts in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from tree_sitter import Node

from series_tool.models import CallSite, Hunk, HunkLine, HunkMap, Patch, Reference

from .cparse import (
    CSource,
    captures,
    captures_by_name,
    function_name_from_hint,
    leaves,
    node_text,
    parse,
)
from .references import classify_c, enclosing_declaration, is_c_path

_NAMES_QUERY = "[(identifier) (field_identifier) (type_identifier)] @n"
#: What `names_on_line` asks of a line, in one query: its names (n), the bodies of the
#: #defines (d) and of the function-like #defines (f) on it, the paths #included (p).
_LINE_QUERY = "\n".join(
    (
        _NAMES_QUERY,
        "(preproc_def value: (preproc_arg) @d)",
        "(preproc_function_def value: (preproc_arg) @f)",
        "(preproc_include path: (_) @p)",
    )
)


def names_on_line(
    src: CSource,
    line: int,
    path: str,
    file_line: int,
    function: str | None,
    text: str,
    roles: dict[str, frozenset[str]],
) -> list[Reference]:
    """Every name on one line of a parsed file or fragment, classified like a reference
    (comments, strings and #include lines have no names here)."""
    out: list[Reference] = []
    row = line - 1
    found = captures_by_name(src.root, _LINE_QUERY, ((row, 0), (row + 1, 0)))
    for node in found.get("n", []):
        if node.start_point.row != row:
            continue
        name = (node.text or b"").decode("utf-8", "surrogateescape")
        kind = classify_c(src, node.start_byte, node.end_byte, roles.get(name, frozenset()))
        where = function or enclosing_declaration(src, node.start_byte)
        out.append(Reference(path, file_line, name, kind, where, text))
    # A #define body is one opaque token to tree-sitter: its names are parsed on their
    # own (a conversion inside `#define FLAG_B (OLD_FLAG << 1)` is a conversion too).
    for arg in [*found.get("d", []), *found.get("f", [])]:
        for start, end, name in _names_in_body(src, arg, row):
            kind = classify_c(src, start, end, roles.get(name, frozenset()))
            where = function or enclosing_declaration(src, start)
            out.append(Reference(path, file_line, name, kind, where, text))
    # An #include names a header by its path: that is the name it uses.
    for node in found.get("p", []):
        if node.start_point.row == row:
            name = (node.text or b"").decode("utf-8", "surrogateescape").strip('"<>')
            out.append(Reference(path, file_line, name, "include", function, text))
    return out


def _names_in_body(src: CSource, arg: Node, row: int) -> Iterator[tuple[int, int, str]]:
    """(start, end, name) of each name in the #define body `arg` on `row` of `src`, with
    the bytes of the whole file (a body continued over several lines: this row's part)."""
    body = arg.text or b""
    first_row = arg.start_point.row
    for node in captures(parse(body).root_node, _NAMES_QUERY, "n"):
        if first_row + node.start_point.row != row:
            continue
        start = arg.start_byte + node.start_byte
        yield (
            start,
            start + len(node.text or b""),
            (node.text or b"").decode("utf-8", "surrogateescape"),
        )


def numbered_lines(hunk: Hunk) -> list[tuple[HunkLine, int | None, int | None]]:
    """Each line with its pre-image and post-image line numbers (None where absent).

    Numbers already on the HunkLine win; missing ones are counted from the
    hunk header, so hand-built hunks work too.
    """
    out: list[tuple[HunkLine, int | None, int | None]] = []
    src, dst = hunk.source_start, hunk.target_start
    for ln in hunk.lines:
        if ln.kind == "\\":
            out.append((ln, None, None))
            continue
        s = ln.source_line if ln.source_line is not None else src
        t = ln.target_line if ln.target_line is not None else dst
        out.append((ln, s if ln.kind != "+" else None, t if ln.kind != "-" else None))
        if ln.kind != "+":
            src = s + 1
        if ln.kind != "-":
            dst = t + 1
    return out


@dataclass
class _Side:
    """One side of a hunk as a parsed fragment: fragment line i <-> file line."""

    source: CSource
    file_lines: list[int]  # file_lines[i] = file line of fragment line i + 1
    hint_until: int  # fragment lines <= this belong to the hint's function


#: Statements that only exist inside a function body.
_BODY_ONLY = frozenset(
    {
        "return_statement",
        "if_statement",
        "for_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
        "goto_statement",
        "break_statement",
        "continue_statement",
        "labeled_statement",
        "case_statement",
        "compound_statement",
        "else",
    }
)


def _body_only(node: Node) -> bool:
    if node.type in _BODY_ONLY:
        return True
    if node.type == "expression_statement":
        # `x = f();` or `i++;` cannot stand at file scope; `EXPORT_SYMBOL(f);` can.
        return any(
            c.type in ("assignment_expression", "update_expression") for c in node.named_children
        )
    return False


def _top_items(node: Node) -> Iterator[Node]:
    for child in node.children:
        if child.type == "ERROR":
            yield from _top_items(child)
        else:
            yield child


def _hint_end_line(src: CSource) -> int:
    """Last fragment line still inside the function the hunk started in.

    A '}' closing more braces than the fragment opened, reaching the lowest
    depth before the fragment's own first function, may close the hunk's
    function; it does unless function-body-only statements follow it (then it
    closed an inner block). Without such a '}', all lines count.
    """
    spans = src.functions()
    stop = spans[0].start_line if spans else 1 << 30
    depth, lowest = 0, 0
    closer: Node | None = None
    for tok in leaves(src.root):
        if tok.start_point.row + 1 >= stop:
            break
        if tok.is_missing:
            continue
        if tok.type == "{":
            depth += 1
        elif tok.type == "}":
            depth -= 1
            if depth <= lowest and depth < 0:
                lowest, closer = depth, tok
    if closer is None:
        return 1 << 30
    for item in _top_items(src.root):
        after = item.start_byte >= closer.end_byte and item.start_point.row + 1 < stop
        if after and (_body_only(item) or any(_body_only(c) for c in _top_items(item))):
            return 1 << 30
    return closer.start_point.row + 1


def _error_bytes(src: CSource) -> int:
    total = 0
    stack = [src.root]
    while stack:
        node = stack.pop()
        if node.is_error:
            total += node.end_byte - node.start_byte
        elif node.has_error:
            stack.extend(node.children)
    return total


#: the specifiers whose body a hunk can start inside of (members, enumerators)
_BODY_SPECIFIERS = ("struct_specifier", "union_specifier", "enum_specifier")


@lru_cache(maxsize=1024)
def body_opener(section: str) -> str | None:
    """``struct s {`` when git's hunk hint opens a struct, union or enum body, else None.

    A hunk deep inside a long struct or enum does not show the ``struct s {`` line, and
    its member lines parse as indented local declarations (or nothing); git's hint line
    names the body they belong to. The hint is parsed, closed with ``};``: it must be
    exactly one specifier with a body, and the opener is rebuilt from its nodes (so a
    comment on the hint line cannot swallow the fragment). Cached: the hunk maps and the
    changed sides of the same hunk ask it.
    """
    if not section.strip() or not _SPECIFIER_FIRST.match(section):
        return None  # the specifier's keyword is not its first token: nothing to parse
    return _parsed_opener(section)


#: A hint that can open a body starts with the keyword of its specifier (after blanks,
#: line continuations or stray ';'): anything else before it, a comment or a storage
#: class, makes another item or an error. Most hints are function headers: no parse.
_SPECIFIER_FIRST = re.compile(r"[\s;\\]*(?:struct|union|enum)(?![A-Za-z0-9_])")


def _parsed_opener(section: str) -> str | None:
    """`body_opener` from the parse of the hint closed with ``};``."""
    src = CSource.from_text(section + "\n};\n")
    items = [c for c in src.root.children if c.type != ";"]
    if src.root.has_error or len(items) != 1 or items[0].type not in _BODY_SPECIFIERS:
        return None
    spec = items[0]
    if spec.child_by_field_name("body") is None:
        return None
    name = spec.child_by_field_name("name")
    keyword = spec.children[0].type
    return f"{keyword} {node_text(name)} {{" if name is not None else f"{keyword} {{"


def _parse_fragment(lines: list[str], opener: str | None = None) -> CSource:
    """Parse a fragment; if it starts inside a block comment, parse it as such.

    A hunk may begin in the middle of a comment (a first line like `` * text``);
    tree-sitter would then read the comment's words as code. When the first
    line looks like a comment continuation, the fragment is also parsed with a
    ``/*`` in front (and, if no ``*/`` ends it, a closing one): the reading with
    less text in ERROR nodes wins. Likewise when the hunk's section hint opens a
    struct, union or enum body (``opener``, see :func:`body_opener`: asked once per
    hunk, for both its sides), the fragment is also parsed inside that body; that
    reading wins unless it has more text in ERROR nodes.
    """
    text = "\n".join(lines) + "\n"
    plain = CSource.from_text(text)
    if opener is not None:
        # The opener goes on line 1 without adding a line, so line numbers stay the same.
        data = (opener + " " + text + "};\n").encode("utf-8", "surrogateescape")
        inside = CSource(data, parse(data))
        if _error_bytes(inside) <= _error_bytes(plain):
            plain = inside
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if not plain.root.has_error or not first.startswith("*"):
        return plain
    closing = "" if "*/" in text else "*/"
    # "/*" goes on line 1 without adding a line, so line numbers stay the same.
    data = ("/*" + text + closing).encode("utf-8", "surrogateescape")
    commented = CSource(data, parse(data))
    return commented if _error_bytes(commented) < _error_bytes(plain) else plain


def _fragment_side(pairs: list[tuple[str, int]], opener: str | None) -> _Side:
    src = _parse_fragment([text for text, _ in pairs], opener)
    return _Side(src, [line for _, line in pairs], _hint_end_line(src))


def _fragment_function(side: _Side, frag_line: int, hint_fn: str | None) -> str | None:
    inside = side.source.function_at(frag_line)
    if inside is not None:
        return inside
    first = side.source.functions()
    before_any = not first or frag_line < first[0].start_line
    return hint_fn if before_any and frag_line <= side.hint_until else None


def map_hunk(
    patch: int | None,
    path: str,
    hunk_index: int,
    hunk: Hunk,
    symbols: Collection[str],
    pre: CSource | None = None,
    post: CSource | None = None,
    roles: dict[str, frozenset[str]] | None = None,
) -> HunkMap:
    """Enclosing functions, calls of ``symbols`` and definitions on the changed lines.

    ``pre``/``post`` are the whole file before/after the patch; without one, that
    side of the hunk is parsed as a fragment. Definitions (``defined_removed`` /
    ``defined_added``) list every name defined, declared or #defined on a
    '-' / '+' line, whatever ``symbols`` holds; ``removed_names``/``added_names``
    every name on those lines, classified (``roles`` as for find_references).
    """
    known_roles = roles or {}
    wanted = set(symbols)
    rows = numbered_lines(hunk)
    # The hint is parsed only when a side has no whole file to ask (a fragment).
    hint_fn = (
        function_name_from_hint(hunk.section)
        if hunk.section and (pre is None or post is None)
        else None
    )

    # Fragments: fragment line number (1-based) for every pre/post-image line.
    pre_pairs = [(ln.text, s) for ln, s, _ in rows if ln.kind in (" ", "-") and s is not None]
    post_pairs = [(ln.text, t) for ln, _, t in rows if ln.kind in (" ", "+") and t is not None]
    opener = body_opener(hunk.section) if hunk.section and (pre is None or post is None) else None
    pre_side = None if pre is not None else _fragment_side(pre_pairs, opener)
    post_side = None if post is not None else _fragment_side(post_pairs, opener)

    def resolve(
        full: CSource | None, side: _Side | None, file_line: int
    ) -> tuple[CSource, int, str | None]:
        """(source, line in that source, enclosing function) for one file line."""
        if full is not None:
            return full, file_line, full.function_at(file_line)
        assert side is not None
        frag_line = side.file_lines.index(file_line) + 1
        return side.source, frag_line, _fragment_function(side, frag_line, hint_fn)

    # The calls of each source asked (a hunk's window, a fragment), by line: one query
    # for all its changed lines. Filtering all of them once per changed line is quadratic
    # in a hunk that adds a big file (100k lines took minutes).
    calls_by_line: dict[int, dict[int, list[str]]] = {}

    def calls_on(src: CSource, line: int) -> list[str]:
        by_line = calls_by_line.get(id(src))
        if by_line is None:
            by_line = calls_by_line[id(src)] = {}
            for name, at in src.calls():
                by_line.setdefault(at, []).append(name)
        return by_line.get(line, [])

    result = HunkMap(patch=patch, file=path, hunk_index=hunk_index, functions=[])
    # (kind, source parsed, line in that source) of every changed line.
    changed: list[tuple[str, CSource, int]] = []
    for ln, s, t in rows:
        if ln.kind == "-" and s is not None:
            file_line, (src, local, fn) = s, resolve(pre, pre_side, s)
            sites = result.removed_calls
        elif ln.kind == "+" and t is not None:
            file_line, (src, local, fn) = t, resolve(post, post_side, t)
            sites = result.added_calls
        else:
            continue
        changed.append((ln.kind, src, local))
        if src.unparsed is not None:
            continue  # over the parse limits: no names to ask for (a million-line file)
        names = result.removed_names if ln.kind == "-" else result.added_names
        names.extend(names_on_line(src, local, path, file_line, fn, ln.text, known_roles))
        if fn is not None and fn not in result.functions:
            result.functions.append(fn)
        for name in calls_on(src, local):
            if name in wanted:
                side: Literal["-", "+"] = "-" if ln.kind == "-" else "+"
                sites.append(CallSite(name, file_line, side, fn, ln.text))

    for side_kind, target in (("-", result.defined_removed), ("+", result.defined_added)):
        by_source: dict[int, tuple[CSource, set[int]]] = {}
        for kind, src, local in changed:
            if kind == side_kind:
                by_source.setdefault(id(src), (src, set()))[1].add(local)
        for src, lines in by_source.values():
            for name in src.definitions(lines.__contains__):
                if name not in target:
                    target.append(name)
            for name, what in src.roles(lines.__contains__).items():
                result.roles.setdefault(name, set()).update(what)
    return result


#: id(hunk) -> `changed_sides` of it: the questions asked of every hunk before the tree
#: grep (what it defines, what that is, where) share one parse of each side.
SideCache = dict[int, list[tuple[str, CSource, set[int]]]]


def changed_sides(
    hunk: Hunk, cache: SideCache | None = None
) -> list[tuple[str, CSource, set[int]]]:
    """("-" or "+", that side of the hunk parsed, its changed line numbers in the
    fragment) for each side with changed lines: the old side first. With `cache` (kept
    by the caller as long as the hunks), each hunk is parsed once."""
    if cache is not None and (hit := cache.get(id(hunk))) is not None:
        return hit
    out: list[tuple[str, CSource, set[int]]] = []
    opener: str | None = None
    for kinds, marker in ((" -", "-"), (" +", "+")):
        side = [ln for ln in hunk.lines if ln.kind in kinds]
        changed = {i + 1 for i, ln in enumerate(side) if ln.kind == marker}
        if changed:
            if not out and hunk.section:
                opener = body_opener(hunk.section)  # for both sides
            out.append((marker, _parse_fragment([ln.text for ln in side], opener), changed))
    if cache is not None:
        cache[id(hunk)] = out
    return out


def defined_on_changed_lines(
    hunk: Hunk, roles: dict[str, set[str]] | None = None, cache: SideCache | None = None
) -> tuple[list[str], list[str]]:
    """(removed, added): names defined, declared or #defined on '-' / '+' lines.

    The same answer as `map_hunk(...).defined_removed/defined_added` without a tree, but
    without the calls and enclosing functions: this runs for every hunk of the series
    before the tree grep can start, so it must be cheap. ``roles``, when given, is
    filled with what each of those names is (cparse.ROLES).
    """
    removed: list[str] = []
    added: list[str] = []
    for marker, src, changed in changed_sides(hunk, cache):
        target = removed if marker == "-" else added
        for name in src.definitions_on(changed):  # from the changed lines' nodes only
            if name not in target:
                target.append(name)
        if roles is not None:
            for name, what in src.roles_on(changed).items():
                roles.setdefault(name, set()).update(what)
    return removed, added


def changes_undefined_code(hunk: Hunk) -> bool:
    """Whether a hunk changes code (not only comments or blank lines) while defining,
    declaring or #defining no name on its changed lines: a static inline's body, an
    #include, an #if, a macro's continuation line. What such a change breaks cannot be
    told by name: every file compiling it can be affected."""
    code = False
    for _marker, src, changed in changed_sides(hunk):
        if src.definitions_on(changed):
            return False
        in_comment: set[int] = set()
        for c in captures(src.root, "(comment) @c", "c"):
            in_comment.update(range(c.start_point.row + 1, c.end_point.row + 2))
        lines = src.data.decode("utf-8", "replace").split("\n")
        code = code or any(
            n not in in_comment and n <= len(lines) and lines[n - 1].strip() for n in changed
        )
    return code


def map_patch_without_tree(
    patch: Patch, symbols: Collection[str], roles: dict[str, frozenset[str]] | None = None
) -> list[HunkMap]:
    """HunkMaps for every hunk of the C files (.c, .h) of a patch, from the diff alone."""
    maps: list[HunkMap] = []
    for fd in patch.files:
        if fd.is_binary or not is_c_path(fd.path):
            continue
        for i, hunk in enumerate(fd.hunks):
            maps.append(map_hunk(patch.number, fd.path, i, hunk, symbols, roles=roles))
    return maps

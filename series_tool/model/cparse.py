"""C parsing with tree-sitter (tree-sitter-c): the only way this project reads C.

Kernel C is full of attribute macros (``__must_check``, ``__init``, ``__acquires(x)``)
that tree-sitter cannot know about. Its error recovery then produces a few
recurring shapes, which this module recognises structurally instead of guessing
from text:

* ``extern int __must_check foo(int);`` becomes a ``declaration`` ending in a
  MISSING ``;`` right before an ``expression_statement`` holding ``foo(int)``:
  that call is really a prototype (a "misparsed prototype" below).
* ``SYSCALL_DEFINE3(name, ...) { ... }`` becomes an expression statement with a
  call followed by a bare compound statement: a function defined through a macro.
* ``void f(void) __releases(x)`` puts a ``call_expression`` inside the
  ``function_declarator``: an attribute, not a call.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import cache, cached_property

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

LineFilter = Callable[[int], bool]

#: Declarator wrappers that sit between a function's name and its declaration.
_DECLARATOR_WRAPPERS = frozenset(
    {
        "pointer_declarator",
        "attributed_declarator",
        "parenthesized_declarator",
        "function_declarator",
        "array_declarator",
    }
)

#: Containers whose children are top-level items (declarations, definitions).
TOP_LEVEL_CONTAINERS = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
        "declaration_list",
        "linkage_specification",
        "ERROR",
    }
)
_MACRO_DEFINITIONS = frozenset({"preproc_def", "preproc_function_def"})


@cache
def c_language() -> Language:
    """The tree-sitter C grammar (loaded once; it is immutable)."""
    return Language(tree_sitter_c.language())


@cache
def _query(source: str) -> Query:
    """A compiled query (cached: queries are immutable once compiled)."""
    return Query(c_language(), source)


#: Per-file parse limits. tree-sitter costs about 1 s and 55 MB of memory per MB of C
#: (measured: 22 MB in 21 s and 1.2 GB), and pathological lines cost more in the
#: questions asked of the tree afterwards. Debian's 6.12 kernel has no line over 1,291
#: bytes; 35 of its 86k files are over 4 MB (generated register headers). A file over a
#: limit is not parsed: its references are found by text only, and the reports say so.
MAX_PARSE_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024


def _has_long_line(source: bytes) -> bool:
    """Whether a line of `source` is longer than MAX_LINE_BYTES.

    Jumps from line start to line start by the last newline within the next
    MAX_LINE_BYTES + 1 bytes (a C-speed rfind): every line skipped lies inside that span,
    so it is short; no newline in it means the line at the jump point is long. A few steps
    per file, where a regex for a long run of non-newlines retries at every byte (a quarter
    of the CPU of classifying a tree-wide API's callers).
    """
    pos, size, span = 0, len(source), MAX_LINE_BYTES + 1
    while size - pos >= span:
        nl = source.rfind(b"\n", pos, pos + span)
        if nl < 0:
            return True
        pos = nl + 1
    return False


def parse_limit(source: bytes) -> str | None:
    """Why `source` is too large to parse (None when it is not)."""
    if len(source) > MAX_PARSE_BYTES:
        return (
            f"file too large to parse ({len(source) / 2**20:.1f} MB, limit "
            f"{MAX_PARSE_BYTES // 2**20} MB), references found by text only"
        )
    if _has_long_line(source):
        return (
            f"file too large to parse (a line over {MAX_LINE_BYTES // 1024} KB), "
            "references found by text only"
        )
    return None


@cache
def empty_tree() -> Tree:
    """The parse of nothing (shared: trees are not changed once parsed)."""
    return Parser(c_language()).parse(b"")


def parse(source: bytes) -> Tree:
    """Parse C source bytes into a tree-sitter tree.

    Over the limits of `parse_limit` the tree is empty (nothing is parsed); `CSource`
    says so in `unparsed`, and references are then found by text.
    A new Parser per call keeps this free of shared mutable state; creating one
    is cheap next to parsing.
    """
    if parse_limit(source) is not None:
        return empty_tree()
    return Parser(c_language()).parse(source)


def node_text(node: Node) -> str:
    """The source text of a node, decoded the way file contents are (surrogateescape)."""
    raw = node.text or b""
    return raw.decode("utf-8", "surrogateescape")


#: ((start row, column), (end row, column)), rows 0-based as tree-sitter counts them.
PointRange = tuple[tuple[int, int], tuple[int, int]]


def captures(
    root: Node, query: str, name: str, point_range: PointRange | None = None
) -> list[Node]:
    """Nodes captured as ``@name`` by ``query`` under ``root``, in document order.

    With ``point_range``, only nodes intersecting it: tree-sitter then skips the subtrees
    outside it, which is what makes questions about a few lines of a big file cheap.
    """
    return captures_by_name(root, query, point_range).get(name, [])


def captures_by_name(
    root: Node, query: str, point_range: PointRange | None = None
) -> dict[str, list[Node]]:
    """Every capture of ``query`` under ``root``, by capture name, each list in document
    order (see `captures`): several patterns asked in one traversal of the nodes."""
    cursor = QueryCursor(_query(query))
    if point_range is not None:
        cursor.set_point_range(*point_range)
    found = cursor.captures(root)
    return {k: sorted(v, key=lambda n: (n.start_byte, n.end_byte)) for k, v in found.items()}


def line_of(node: Node) -> int:
    """1-based line where a node starts."""
    return node.start_point.row + 1


def leaves(node: Node) -> Iterator[Node]:
    """The leaf tokens under ``node`` in document order (comments and strings stay whole)."""
    if node.type in ("comment", "string_literal", "char_literal", "system_lib_string"):
        yield node
        return
    if node.child_count == 0:
        yield node
        return
    for child in node.children:
        yield from leaves(child)


# --------------------------------------------------------------------------- declarators


def declarator_name(declarator: Node | None) -> Node | None:
    """The identifier a declarator declares, going through pointers, parentheses etc."""
    cur = declarator
    while cur is not None:
        if cur.type in ("identifier", "field_identifier", "type_identifier"):
            return cur
        nxt = cur.child_by_field_name("declarator")
        if nxt is None and cur.type == "parenthesized_declarator":
            # parenthesized_declarator has no field name for its inner declarator.
            nxt = next((c for c in cur.named_children if c.type != "comment"), None)
        cur = nxt
    return None


def _has_function_declarator(declarator: Node | None) -> bool:
    cur = declarator
    while cur is not None:
        if cur.type == "function_declarator":
            return True
        nxt = cur.child_by_field_name("declarator")
        if nxt is None and cur.type == "parenthesized_declarator":
            nxt = next((c for c in cur.named_children if c.type != "comment"), None)
        cur = nxt
    return False


def _function_declarator_role(fdecl: Node) -> str | None:
    """'definition' / 'declaration' for the name of ``fdecl``, or None (typedef, field...)."""
    cur: Node | None = fdecl
    while cur is not None and cur.type in _DECLARATOR_WRAPPERS:
        cur = cur.parent
    if cur is None:
        return None
    if cur.type == "function_definition":
        return "definition"
    if cur.type == "declaration":
        return "declaration"
    return None


def _is_prototype(declarator: Node | None) -> bool:
    """`f(void)`, `*f(void)`: a function; `(*fp)(void)` is a pointer variable."""
    cur = declarator
    while cur is not None and cur.type in ("pointer_declarator", "attributed_declarator"):
        cur = cur.child_by_field_name("declarator")
    if cur is None or cur.type != "function_declarator":
        return False
    inner = cur.child_by_field_name("declarator")
    return inner is None or inner.type != "parenthesized_declarator"


def _has_missing_semicolon(node: Node) -> bool:
    return any(c.is_missing and c.type == ";" for c in node.children)


def _only_whitespace_between(a: Node, b: Node, data: bytes) -> bool:
    return not data[a.end_byte : b.start_byte].strip()


def misparsed_header(call: Node, data: bytes) -> str | None:
    """Whether a top-level ``call_expression`` is really a function header.

    Returns 'declaration' for ``int __must_check foo(int);`` that tree-sitter
    split into a broken declaration plus a call, 'definition' for a macro- or
    attribute-defined function (``SYSCALL_DEFINE1(x, int, a) { ... }``), else None.
    """
    stmt = call.parent
    if stmt is None or stmt.type != "expression_statement":
        return None
    container = stmt.parent
    if container is None or container.type not in TOP_LEVEL_CONTAINERS:
        return None
    nxt = stmt.next_sibling
    if (
        nxt is not None
        and nxt.type == "compound_statement"
        and _has_missing_semicolon(stmt)
        and _only_whitespace_between(stmt, nxt, data)
    ):
        return "definition"
    prev = stmt.prev_sibling
    if (
        prev is not None
        and prev.type == "declaration"
        and _has_missing_semicolon(prev)
        and _only_whitespace_between(prev, stmt, data)
    ):
        return "declaration"
    return None


def is_attribute_call(call: Node) -> bool:
    """``void f(void) __acquires(x)``: a macro attribute tree-sitter parses as a call."""
    parent = call.parent
    return parent is not None and parent.type == "function_declarator"


def _fallback_function_name(fn: Node) -> Node | None:
    """Name of a function_definition whose declarator tree-sitter could not build."""
    body = fn.child_by_field_name("body")
    stop = body.start_byte if body is not None else fn.end_byte
    return header_name([t for t in leaves(fn) if t.start_byte < stop])


def header_name(tokens: list[Node]) -> Node | None:
    """The function name in the tokens of a function header, or None.

    Candidates are identifiers right before a '(' at bracket depth 0 (no '='
    at depth 0: that is an initializer). Attribute macros such as
    ``static __printf(4, 0)`` or a trailing ``__acquires(x)`` follow a keyword or
    ')'; the name follows its return type (a named token) or '*', so those win.
    """
    candidates: list[tuple[Node, Node | None]] = []
    prev: Node | None = None
    before_prev: Node | None = None  # the token before `prev` (comments skipped)
    depth = 0
    for tok in tokens:
        if tok.type == "comment":
            continue
        if tok.type == "(":
            if depth == 0 and prev is not None and prev.type in ("identifier", "type_identifier"):
                candidates.append((prev, before_prev))
            depth += 1
        elif tok.type == ")":
            depth = max(0, depth - 1)
        elif tok.type == "=" and depth == 0:
            return None
        prev, before_prev = tok, prev
    typed = [
        c
        for c, before in candidates
        if before is not None and (before.is_named or before.type == "*")
    ]
    chosen = typed or [c for c, _ in candidates]
    return chosen[0] if chosen else None


#: Nodes an ERROR region's tokens keep whole.
_WHOLE_TOKENS = frozenset(
    {"function_definition", "comment", "string_literal", "char_literal", "system_lib_string"}
)


def _error_tokens(node: Node) -> list[Node]:
    """Leaves of an ERROR region, in order; complete function definitions, comments and
    literals stay whole. (A walk with a stack: an ERROR can hold a whole file's tokens.)"""
    out: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in _WHOLE_TOKENS:
            out.append(cur)
        elif cur.child_count == 0:
            if not cur.is_missing:
                out.append(cur)
        else:
            stack.extend(reversed(cur.children))
    return out


def functions_in_error(err: Node) -> list[tuple[FunctionSpan, Node]]:
    """Functions inside an ERROR node that tree-sitter did not rebuild.

    One line tree-sitter cannot parse (a label right before ``#endif``, an
    attribute macro with arguments before the return type) can turn the rest of
    a file into one ERROR. Its tokens are still all there: a header (tokens
    since the last ';' or '}' at depth 0) followed by '{' opens a function,
    the matching '}' closes it. A header left pending at the end of the ERROR
    takes a compound statement right after it as its body.
    """
    found: list[tuple[FunctionSpan, Node]] = []
    depth = 0
    header: list[Node] = []
    open_name: Node | None = None
    open_start = 0
    for tok in _error_tokens(err):
        if tok.type == "function_definition":
            if depth == 0:
                header = []
            continue
        if depth == 0:
            if tok.type == "{":
                name = header_name(header) if header else None
                if name is not None:
                    open_name, open_start = name, line_of(header[0])
                header, depth = [], 1
            elif tok.type in (";", "}") or tok.type.startswith("#"):
                header = []
            elif tok.type != "comment":
                header.append(tok)
            continue
        if tok.type == "{":
            depth += 1
        elif tok.type == "}":
            depth -= 1
            if depth == 0 and open_name is not None:
                span = FunctionSpan(node_text(open_name), open_start, line_of(tok))
                found.append((span, open_name))
                open_name = None
    if open_name is not None:
        span = FunctionSpan(node_text(open_name), open_start, err.end_point.row + 1)
        found.append((span, open_name))
    elif header and depth == 0:
        body = err.next_sibling
        name = header_name(header)
        if body is not None and body.type == "compound_statement" and name is not None:
            span = FunctionSpan(node_text(name), line_of(header[0]), body.end_point.row + 1)
            found.append((span, name))
    return found


# --------------------------------------------------------------------------- CSource


def edited_tree(tree: Tree, old: bytes, new: bytes) -> tuple[Tree, int, int, int]:
    """A copy of `tree` (parsed from `old`) told where `new` differs from `old`: the one
    changed range between their common prefix and suffix, for an incremental parse that
    reuses the nodes outside it; with that range (start, its end in old, its end in new)."""
    start = _common_prefix(old, new)
    tail = _common_suffix(old, new, min(len(old), len(new)) - start)
    old_end, new_end = len(old) - tail, len(new) - tail
    edited = tree.copy()
    # The rows are counted once up to the change, then across it on each side (the
    # prefix is the same in both texts): a big file is not counted three times.
    row, col = _point(old, start)
    edited.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=(row, col),
        old_end_point=_point_after(old, start, row, old_end),
        new_end_point=_point_after(new, start, row, new_end),
    )
    return edited, start, old_end, new_end


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by bisection on slice equality (memcmp speed); each
    step compares only the bytes past the prefix known to be common (a file is copied
    about twice in all, not once per step)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix, at most `limit` (as `_common_prefix`, from the end)."""
    lo, hi, la, lb = 0, limit, len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, column) of a byte offset."""
    row = data.count(b"\n", 0, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def _point_after(data: bytes, start: int, row: int, offset: int) -> tuple[int, int]:
    """`_point(data, offset)`, knowing that `start` (<= offset) is on `row`."""
    row += data.count(b"\n", start, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


@dataclass(frozen=True)
class FunctionSpan:
    """A function definition: its name and the lines it covers (1-based, inclusive)."""

    name: str
    start_line: int
    end_line: int


@dataclass(frozen=True)
class _Definition:
    name: str
    kind: str  # "definition" | "declaration" | "macro"
    line: int  # line of the name identifier
    start_byte: int  # where the name identifier starts
    #: what the name is: see `ROLES`
    role: str = "function"


#: What a defined name is, which decides how its uses are classified: "function",
#: "macro" (object-like), "function-macro", "member" (struct/union), "enumerator",
#: "typedef", "variable" (file scope).
ROLES = (
    "function",
    "macro",
    "function-macro",
    "member",
    "enumerator",
    "typedef",
    "variable",
)


def _at_file_scope(node: Node) -> bool:
    """A declaration that is a top-level item (not inside a function body), written at
    column 0 as file-scope declarations are: a hunk fragment cut out of a function body
    has its local declarations at top level, but indented."""
    parent = node.parent
    return (
        parent is not None and parent.type in TOP_LEVEL_CONTAINERS and node.start_point.column == 0
    )


def defines_nothing(node: Node) -> bool:
    """Whether `node` is an identifier that no rule of `CSource._definitions` can list: the
    function of a call inside a function's body, outside any ERROR. Asking would run the
    whole source's definition queries, for every occurrence of a tree-wide API's name.

    Why none can: a prototype's name has a function_declarator parent, a #define's its
    preproc_def; data definitions are at file scope or outside functions; a misparsed
    header is an expression statement whose parent is a top-level container (checked
    here: inside a body, an #ifdef block is one); a fallback function name is taken from
    a header, never from a body; names inside ERRORs are not asked about here."""
    parent = node.parent
    if node.type != "identifier" or parent is None or parent.type != "call_expression":
        return False
    if parent.child_by_field_name("function") != node:
        return False
    stmt = parent.parent
    if stmt is None:
        return False
    if stmt.type == "expression_statement" and (
        stmt.parent is None or stmt.parent.type != "compound_statement"
    ):
        return False
    prev: Node = parent
    cur: Node | None = stmt
    while cur is not None:
        if cur.type == "ERROR":
            return False
        if cur.type == "function_definition":
            return cur.child_by_field_name("body") == prev
        prev, cur = cur, cur.parent
    return False


def _macro_defined(name: Node, data: bytes) -> tuple[FunctionSpan, Node] | None:
    """The function a macro call at top level defines (`SYSCALL_DEFINE2(...)` and then
    its body: two items to tree-sitter), from the call's name: its span and name node;
    None when the call is no such header (`misparsed_header`)."""
    call = name.parent
    if call is None or misparsed_header(call, data) != "definition":
        return None
    stmt = call.parent
    body = stmt.next_sibling if stmt is not None else None
    if stmt is None or body is None:
        return None
    return FunctionSpan(node_text(name), line_of(stmt), body.end_point.row + 1), name


def _inside_function(node: Node) -> bool:
    cur = node.parent
    while cur is not None:
        if cur.type == "function_definition":
            return True
        cur = cur.parent
    return False


def _is_include_guard(define: Node) -> bool:
    """`#ifndef X` / `#define X` (no value) / ... `#endif`: a header's own guard, not API."""
    if define.type != "preproc_def" or define.child_by_field_name("value") is not None:
        return False
    parent = define.parent
    if parent is None or parent.type != "preproc_ifdef":
        return False
    guard = parent.child_by_field_name("name")
    name = define.child_by_field_name("name")
    return guard is not None and name is not None and guard.text == name.text


#: The patterns behind `CSource.functions` and `CSource.definitions` (query, capture).
#: They are run as one query, each under a capture name of its own: one traversal of the
#: nodes in view instead of ten, and one cursor (a tree-wide API's callers ask both
#: questions for each of their 15,000 references, one line in view each time).
_STRUCTURE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("(function_definition) @f", "f"),
    ("(expression_statement (call_expression function: (identifier) @c))", "c"),
    ("(ERROR) @e", "e"),
    ("(function_declarator declarator: (identifier) @n)", "n"),
    ("[(preproc_def name: (identifier) @n) (preproc_function_def name: (identifier) @n)]", "n"),
    ("(field_declaration) @f", "f"),
    ("(enumerator name: (identifier) @n)", "n"),
    ("(type_definition) @t", "t"),
    ("(declaration) @d", "d"),
)
#: (query, capture) -> its capture name in the combined query.
_STRUCTURE_NAMES = {key: f"s{i}" for i, key in enumerate(_STRUCTURE_PATTERNS)}
_STRUCTURE_QUERY = "\n".join(
    re.sub(rf"@{name}\b", f"@s{i}", query) for i, (query, name) in enumerate(_STRUCTURE_PATTERNS)
)


class CSource:
    """One parsed C file (or fragment) with the questions the pipeline asks of it.

    Each answer is computed once per instance, on first use.
    """

    def __init__(
        self,
        data: bytes,
        tree: Tree,
        window: PointRange | None = None,
        parsed_size: int | None = None,
    ) -> None:
        self.data = data
        self.tree = tree
        #: How many bytes of `data` the tree holds (less than all of them when only some
        #: items were parsed, see `itemparse`): what a question about all of it costs.
        self.parsed_size = len(data) if parsed_size is None else parsed_size
        #: (row, column) range the answers are limited to (None: the whole file); see `view`.
        self.window = window
        #: Set by `reparsed`: the bytes [start, end) of this text that may differ in any way
        #: (text or syntax) from the text it was reparsed from, and how many lines this
        #: text has more than that one (the bytes after `end` are the same in both).
        self.changed: tuple[int, int, int] | None = None
        #: functions_in_error per ERROR node, shared by every view of this parse (the
        #: walk is over the whole ERROR region, however small the view).
        self._in_error: dict[int, list[tuple[FunctionSpan, Node]]] = {}
        #: `lines_view`'s views, by their first and last line
        self._views: dict[tuple[int, int], CSource] = {}

    def _captures(self, query: str, name: str) -> list[Node]:
        combined = _STRUCTURE_NAMES.get((query, name))
        if combined is not None:
            return self._structure.get(combined, [])
        return captures(self.root, query, name, self.window)

    @cached_property
    def _structure(self) -> dict[str, list[Node]]:
        """The captures of every pattern in `_STRUCTURE_PATTERNS`, from one query run,
        each list in document order (as `captures` gives them)."""
        return captures_by_name(self.root, _STRUCTURE_QUERY, self.window)

    @cached_property
    def unparsed(self) -> str | None:
        """Why this source was not parsed (over the parse limits), or None."""
        if len(self.data) > 0 and self.tree.root_node.end_byte == 0:
            return parse_limit(self.data)
        return None

    @classmethod
    def from_text(cls, text: str) -> CSource:
        """Parse file contents decoded with ``surrogateescape``."""
        data = text.encode("utf-8", "surrogateescape")
        return cls(data, parse(data))

    def view(self, first_line: int, last_line: int) -> CSource:
        """The same parse, answering only about lines first..last (1-based, inclusive).

        Functions, definitions and calls are then looked up in the nodes that intersect
        those lines only (a function covering them is found, as it intersects them).
        Views of a big file cost a few node visits instead of a whole-file query.
        """
        out = CSource(self.data, self.tree, ((max(first_line, 1) - 1, 0), (last_line, 0)))
        out._in_error = self._in_error
        return out

    def lines_view(self, lines: Collection[int]) -> CSource:
        """The `view` from the first to the last of `lines`, made once per range: the
        questions about some lines (`definitions(lines.__contains__)`) are answered by it
        as by the whole parse, from the nodes on those lines only (a hunk side asks about
        its changed lines, several times)."""
        span = (min(lines), max(lines))
        found = self._views.get(span)
        if found is None:
            found = self._views[span] = self.view(*span)
        return found

    def definitions_on(self, lines: Collection[int]) -> dict[str, set[str]]:
        """`definitions` of the names on `lines`, asked of their `lines_view`."""
        return self.lines_view(lines).definitions(lines.__contains__)

    def roles_on(self, lines: Collection[int]) -> dict[str, set[str]]:
        """`roles` of the names on `lines`, asked of their `lines_view`."""
        return self.lines_view(lines).roles(lines.__contains__)

    def reparsed(self, text: str) -> CSource:
        """A new CSource for `text`, parsed incrementally from this one.

        The patches of a series change a few lines of big files: telling tree-sitter the
        one edited byte range (common prefix and suffix of old and new) lets it reuse the
        rest of the tree (5 ms instead of 25 ms for mm/memory.c). This tree is not changed.
        """
        new = text.encode("utf-8", "surrogateescape")
        old = self.data
        if self.unparsed is not None or parse_limit(new) is not None:
            return CSource(new, parse(new))
        edited, start, old_end, new_end = edited_tree(self.tree, old, new)
        out = CSource(new, Parser(c_language()).parse(new, edited))
        # The edited bytes, widened by every range whose syntax tree-sitter says changed
        # (an opened comment or brace changes how far-away text parses).
        lo, hi = start, new_end
        for r in edited.changed_ranges(out.tree):
            lo, hi = min(lo, r.start_byte), max(hi, r.end_byte)
        lines = new.count(b"\n", start, new_end) - old.count(b"\n", start, old_end)
        out.changed = (lo, hi, lines)
        return out

    @property
    def root(self) -> Node:
        return self.tree.root_node

    # ----------------------------------------------------------- functions

    @cached_property
    def _functions(self) -> list[tuple[FunctionSpan, Node]]:
        """Every function with its name node, ordered by start."""
        found: list[tuple[FunctionSpan, Node]] = []
        for fn in self._captures("(function_definition) @f", "f"):
            decl = fn.child_by_field_name("declarator")
            # Without a function_declarator the header was misparsed, e.g.
            # `int __must_check f(void)` read as type `f` and declarator `(void)`.
            name = declarator_name(decl) if _has_function_declarator(decl) else None
            if name is None or name.type != "identifier":
                name = _fallback_function_name(fn)
            if name is None:
                continue
            found.append((FunctionSpan(node_text(name), line_of(fn), fn.end_point.row + 1), name))
        for call in self._captures(
            "(expression_statement (call_expression function: (identifier) @c))", "c"
        ):
            if (pair := _macro_defined(call, self.data)) is not None:
                found.append(pair)
        if self.window is not None:
            # A view of lines inside a function defined through a macro (`SYSCALL_DEFINE3(
            # ...)` then its body: two items to tree-sitter) does not reach the header
            # line: the body's item tells, so that a view answers as the whole file does.
            pair = self._macro_defined_around()
            if pair is not None and all(pair[1] != name for _, name in found):
                found.append(pair)
        known = {name.start_byte for _, name in found}
        for err in self._captures("(ERROR) @e", "e"):
            if err.parent is not None and err.parent.type == "ERROR":
                continue  # nested ERRORs are walked with their outermost one
            in_error = self._in_error.get(err.id)
            if in_error is None:
                in_error = self._in_error[err.id] = functions_in_error(err)
            for span, name in in_error:
                if name.start_byte not in known:
                    known.add(name.start_byte)
                    found.append((span, name))
        found.sort(key=lambda item: (item[0].start_line, item[0].end_line))
        return found

    def _macro_defined_around(self) -> tuple[FunctionSpan, Node] | None:
        """For a view: the function defined through a macro whose body (a top-level
        compound statement after the header's expression statement) holds the view's
        first line, with its name node; None when there is none (or this is no view)."""
        if self.window is None:
            return None
        (row, _), _ = self.window
        node: Node | None = self.root.descendant_for_point_range((row, 0), (row, 0))
        while node is not None and node.parent is not None:
            if node.parent.type in TOP_LEVEL_CONTAINERS:
                break
            node = node.parent
        if node is None or node.type != "compound_statement":
            return None
        stmt = node.prev_sibling
        if stmt is None or stmt.type != "expression_statement" or not stmt.named_children:
            return None
        call = stmt.named_children[0]
        name = call.child_by_field_name("function") if call.type == "call_expression" else None
        if name is None or name.type != "identifier":
            return None
        return _macro_defined(name, self.data)  # its body is `node`, after `stmt`

    def functions(self) -> list[FunctionSpan]:
        """Every function definition, in order of its first line."""
        return [span for span, _ in self._functions]

    @cached_property
    def _starts(self) -> list[int]:
        return [span.start_line for span, _ in self._functions]

    def function_at(self, line: int) -> str | None:
        """Name of the innermost function whose definition covers ``line``."""
        idx = bisect.bisect_right(self._starts, line)
        # Spans may nest after error recovery; the latest-starting cover is innermost.
        for span, _ in reversed(self._functions[:idx]):
            if span.start_line <= line <= span.end_line:
                return span.name
        return None

    # ----------------------------------------------------------- definitions

    @cached_property
    def _definitions(self) -> list[_Definition]:
        defs: list[_Definition] = []
        for name in self._captures("(function_declarator declarator: (identifier) @n)", "n"):
            fdecl = name.parent
            role = _function_declarator_role(fdecl) if fdecl is not None else None
            if role is not None:
                defs.append(_Definition(node_text(name), role, line_of(name), name.start_byte))
        for name in self._captures(
            "[(preproc_def name: (identifier) @n) (preproc_function_def name: (identifier) @n)]",
            "n",
        ):
            define = name.parent
            if define is None or _is_include_guard(define):
                continue
            role = "function-macro" if define.type == "preproc_function_def" else "macro"
            defs.append(_Definition(node_text(name), "macro", line_of(name), name.start_byte, role))
        defs.extend(self._data_definitions())
        for call in self._captures(
            "(expression_statement (call_expression function: (identifier) @c))", "c"
        ):
            call_expr = call.parent
            role = misparsed_header(call_expr, self.data) if call_expr is not None else None
            if role is not None:
                defs.append(_Definition(node_text(call), role, line_of(call), call.start_byte))
        # Functions whose declarator was an ERROR: the fallback name is a definition too.
        seen = {d.start_byte for d in defs}
        for span, name_node in self._functions:
            if name_node.start_byte not in seen:
                defs.append(
                    _Definition(span.name, "definition", line_of(name_node), name_node.start_byte)
                )
        return defs

    def _data_definitions(self) -> list[_Definition]:
        """Members, enumerators, typedefs and file-scope variables (not inside functions)."""
        defs: list[_Definition] = []

        def add(name: Node | None, kind: str, role: str) -> None:
            if name is not None:
                defs.append(
                    _Definition(node_text(name), kind, line_of(name), name.start_byte, role)
                )

        for field in self._captures("(field_declaration) @f", "f"):
            if _inside_function(field):
                continue
            for decl in field.children_by_field_name("declarator"):
                add(declarator_name(decl), "declaration", "member")
        for name in self._captures("(enumerator name: (identifier) @n)", "n"):
            if not _inside_function(name):
                add(name, "definition", "enumerator")
        for tdef in self._captures("(type_definition) @t", "t"):
            if not _at_file_scope(tdef):
                continue
            for decl in tdef.children_by_field_name("declarator"):
                add(declarator_name(decl), "definition", "typedef")
        for decl in self._captures("(declaration) @d", "d"):
            if not _at_file_scope(decl) or _has_missing_semicolon(decl):
                continue  # a missing ';' is an attribute macro misread (misparsed_header)
            extern = any(
                c.type == "storage_class_specifier" and c.text == b"extern" for c in decl.children
            )
            prototype = False
            for d in decl.children_by_field_name("declarator"):
                inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
                if _is_prototype(inner):
                    prototype = True
                    continue  # prototypes are found above
                add(declarator_name(inner), "declaration" if extern else "definition", "variable")
            if prototype:
                continue  # `int __must_check f(void);`: the ERROR holds an attribute
            # `bool x __ro_after_init;` / `static int __initdata y;`: an attribute macro
            # next to the name leaves one of the two in an ERROR, and which one is the
            # variable only the macro's definition can tell (the analysis asks the tree):
            # both are candidates, so that the variable is never lost.
            for err in decl.children:
                if err.type == "ERROR" and [c.type for c in err.named_children] == ["identifier"]:
                    role = "declaration" if extern else "definition"
                    add(err.named_children[0], role, "variable")
        return defs

    @cached_property
    def _defined_at(self) -> dict[int, _Definition]:
        return {d.start_byte: d for d in self._definitions}

    def role_at(self, start_byte: int) -> str | None:
        """What the name defined at this byte is (see `ROLES`), if a name is defined there."""
        d = self._defined_at.get(start_byte)
        return d.role if d else None

    def roles(self, line_filter: LineFilter | None = None) -> dict[str, set[str]]:
        """symbol -> what it is (see `ROLES`), for the names `definitions` lists."""
        return self._names_by(lambda d: d.role, line_filter)

    def definition_kind_at(self, start_byte: int) -> str | None:
        """'definition' / 'declaration' / 'macro' if a defined name starts at this byte."""
        d = self._defined_at.get(start_byte)
        return d.kind if d else None

    def compiled_lines(self) -> LineFilter:
        """A line filter that accepts every line outside the body of an ``#if 0`` block
        (its ``#else`` branch is outside): code the compiler never sees defines nothing."""
        dead: list[tuple[int, int]] = []  # 1-based, inclusive
        for cond in self._captures("(preproc_if condition: (number_literal) @c)", "c"):
            block = cond.parent
            if block is None or node_text(cond).strip() not in ("0", "0L", "0U"):
                continue
            alt = block.child_by_field_name("alternative")
            last = alt.start_point.row if alt is not None else block.end_point.row + 1
            dead.append((block.start_point.row + 2, last))
        if not dead:
            return lambda _line: True
        return lambda line: not any(lo <= line <= hi for lo, hi in dead)

    def definitions(self, line_filter: LineFilter | None = None) -> dict[str, set[str]]:
        """symbol -> subset of {"definition", "declaration", "macro"}.

        Function definitions, prototypes (``extern`` ones too) and ``#define``s;
        with ``line_filter``, only those whose name sits on a line it accepts.
        """
        return self._names_by(lambda d: d.kind, line_filter)

    def _names_by(
        self, attr: Callable[[_Definition], str], line_filter: LineFilter | None
    ) -> dict[str, set[str]]:
        """symbol -> ``attr`` of each of its definitions (on lines ``line_filter`` accepts)."""
        out: dict[str, set[str]] = {}
        for d in self._definitions:
            if line_filter is None or line_filter(d.line):
                out.setdefault(d.name, set()).add(attr(d))
        return out

    # ----------------------------------------------------------- calls / identifiers

    @cached_property
    def _calls(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for callee in self._captures("(call_expression function: (identifier) @c)", "c"):
            call = callee.parent
            if call is None or is_attribute_call(call):
                continue
            if misparsed_header(call, self.data) is not None:
                continue
            out.append((node_text(callee), line_of(callee)))
        return out

    def calls(self, line_filter: LineFilter | None = None) -> list[tuple[str, int]]:
        """(callee, line) for every call whose function is a plain identifier."""
        return [c for c in self._calls if line_filter is None or line_filter(c[1])]

    @cached_property
    def _identifiers(self) -> list[tuple[str, int]]:
        return [(node_text(n), line_of(n)) for n in self._captures("(identifier) @i", "i")]

    def identifiers(self, line_filter: LineFilter | None = None) -> list[tuple[str, int]]:
        """(name, line) for every identifier node."""
        return [i for i in self._identifiers if line_filter is None or line_filter(i[1])]


# --------------------------------------------------------------------------- hints


def _strip_hint(hint: str) -> str:
    text = hint.strip()
    if text.endswith("{"):
        text = text[:-1].rstrip()
    return text


def function_name_from_hint(hint: str) -> str | None:
    """The function named by git's ``@@ ... @@ hint`` text, or None.

    The hint is usually the first line of a function header, cut off mid
    parameter list; it is completed with the missing ')' and a body, then
    parsed. Struct/initializer hints, labels, preprocessor lines and
    statements ending in ';' name no function.
    """
    text = _strip_hint(hint)
    if not text or text.startswith("#") or text.endswith(";"):
        return None
    data = text.encode("utf-8", "surrogateescape")
    tokens = [t for t in leaves(parse(data).root_node) if t.type != "comment"]
    if not any(t.type == "(" for t in tokens):
        return None
    opened = sum(1 for t in tokens if t.type == "(") - sum(1 for t in tokens if t.type == ")")
    completed = data + b")" * max(opened, 0) + b" {}"
    src = CSource(completed, parse(completed))
    spans = src.functions()
    if spans:
        return spans[0].name
    # No function_definition came out: the identifier before the first '('.
    prev: Node | None = None
    for tok in tokens:
        if tok.type == "(" and prev is not None and prev.type == "identifier":
            return node_text(prev)
        prev = tok
    return None

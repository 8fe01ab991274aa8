"""Find and classify every whole-word occurrence of some symbols in one file.

Occurrences are located as whole words in the file's bytes (so none can be
missed, whatever tree-sitter makes of the code around them); what each one *is*
comes from the tree-sitter node that covers it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import PurePosixPath
from typing import get_args

from tree_sitter import Node

from series_tool.models import Reference, RefKind

from .cparse import (
    TOP_LEVEL_CONTAINERS,
    CSource,
    defines_nothing,
    is_attribute_call,
    leaves,
    misparsed_header,
    node_text,
    parse,
)
from .words import word_pattern_bytes

C_SUFFIXES = frozenset({".c", ".h"})
DOC_SUFFIXES = frozenset({".rst", ".txt", ".md"})

_STRING_NODES = frozenset(
    {
        "string_literal",
        "string_content",
        "escape_sequence",
        "char_literal",
        "system_lib_string",
        "raw_string_literal",
    }
)
_NAME_NODES = frozenset({"identifier", "type_identifier", "field_identifier"})


def is_c_path(path: str) -> bool:
    """C source or header, decided by the file name's extension."""
    # PurePosixPath(path).suffix's rule, without building a path object (asked for every
    # file and window of thousands of callers): the text from the name's last dot, when
    # that dot neither starts nor ends the name.
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:] in C_SUFFIXES


def is_documentation_path(path: str) -> bool:
    """Files under Documentation/ and prose files (.rst, .txt, .md)."""
    p = PurePosixPath(path)
    return "Documentation" in p.parts or p.suffix in DOC_SUFFIXES


class _Lines:
    """Byte offset -> 1-based line, and line -> its text, computed only where asked.

    A big file with a few occurrences must not be split into all of its lines: offsets
    are asked in increasing order, so newlines are counted from the previous answer.
    """

    def __init__(self, data: bytes, offset: int = 0, line: int = 1) -> None:
        self.data = data
        #: a known offset and its line to count from: the start of the file, or of a span
        self._offset, self._line = offset, line

    def line(self, offset: int) -> int:
        """The line of `offset`, which is never before the one asked last."""
        self._line += self.data.count(b"\n", self._offset, offset)
        self._offset = offset
        return self._line

    def text_at(self, offset: int) -> str:
        """The whole line holding byte `offset`, without its line end."""
        start = self.data.rfind(b"\n", 0, offset) + 1
        end = self.data.find(b"\n", offset)
        raw = self.data[start : end if end >= 0 else len(self.data)]
        return raw.decode("utf-8", "surrogateescape").rstrip("\r")


def _next_leaf(node: Node) -> Node | None:
    cur: Node | None = node
    while cur is not None and cur.next_sibling is None:
        cur = cur.parent
    if cur is None or cur.next_sibling is None:
        return None
    return next(leaves(cur.next_sibling), None)


def _types_above(root: Node, node: Node) -> set[str]:
    """The types of `node` and of every node above it up to `root`: what the kind of an
    occurrence depends on, asked once. Walked down from the root: tree-sitter finds a node's
    parent by walking down from the root, so each step up costs a walk down."""
    types = {node.type}
    cur: Node | None = root
    while cur is not None and cur != node:
        types.add(cur.type)
        cur = cur.child_with_descendant(node)
    if cur is None:  # not under `root` after all: its own ancestors
        up = node.parent
        while up is not None:
            types.add(up.type)
            up = up.parent
    return types


#: Roles (see cparse.ROLES) whose names, used as a value, are a function's address.
_FUNCTION_ROLES = frozenset({"function"})
MACRO_ROLES = frozenset({"macro", "function-macro"})
#: Roles whose names live in the struct-member namespace only.
MEMBER_ONLY = frozenset({"member"})
#: Kinds that, for a name that is only a struct member, are some other entity's name.
_NOT_A_MEMBER = frozenset({"other", "address", "call", "macro-use", "constant"})
#: Roles of a name that is only a function-like macro.
FUNCTION_MACRO_ONLY = frozenset({"function-macro"})
#: Kinds of an occurrence of such a name that, without a '(' after it, is not its use.
_NOT_INVOKED = frozenset({"other", "macro-use", "constant", "type", "address"})


def _followed_by_paren(data: bytes, end: int) -> bool:
    """Whether the next non-blank byte after `end` is '(' (a backslash-newline is blank)."""
    rest = data[end : end + 256].replace(b"\\\n", b"").lstrip()
    return rest.startswith(b"(")


def _export_macro(call: Node | None) -> bool:
    """`EXPORT_SYMBOL(x)`, `EXPORT_SYMBOL_GPL(x)`, `EXPORT_SYMBOL_NS(x, NS)`..."""
    if call is None or call.type != "call_expression":
        return False
    fn = call.child_by_field_name("function")
    return fn is not None and fn.type == "identifier" and node_text(fn).startswith("EXPORT_SYMBOL")


def _kind_in_macro_body(arg: Node, start: int, end: int, roles: frozenset[str]) -> RefKind:
    """A #define body is one opaque token to tree-sitter: parse it on its own and
    classify the occurrence there (a call, a member access... inside a macro is still
    that); what cannot be told apart is code of the macro ('macro')."""
    body = arg.text or b""
    local_src = CSource(body, parse(body))
    a, b = start - arg.start_byte, end - arg.start_byte
    local = local_src.root.descendant_for_byte_range(a, b)
    if local is None:
        return "macro"
    above = _types_above(local_src.root, local)
    if "comment" in above:
        return "comment"
    if not above.isdisjoint(_STRING_NODES):
        return "string"
    if local.type in _NAME_NODES and local.start_byte == a and local.end_byte == b:
        kind = _use_kind(local, local_src, roles, above)
        # A body fragment "defines" nothing: a name the fragment reads as declared is a use.
        return "other" if kind in ("definition", "declaration") else kind
    return "other"


#: Type nodes a parameter of a call cannot start with: their presence makes a
#: `name(...)` a prototype, not a call.
_PARAM_TYPES = frozenset(
    {
        "primitive_type",
        "sized_type_specifier",
        "struct_specifier",
        "union_specifier",
        "enum_specifier",
        "type_qualifier",
    }
)


def _tag_with_body(node: Node) -> bool:
    """The tag of a struct, union or enum specifier that has a body (its definition)."""
    parent = node.parent
    return (
        parent is not None
        and parent.type in ("struct_specifier", "union_specifier", "enum_specifier")
        and parent.child_by_field_name("name") == node
        and parent.child_by_field_name("body") is not None
    )


def _prototype_in_error(node: Node, above: set[str]) -> bool:
    """A prototype tree-sitter could not place (`f(const char *s, int n) __used;` after an
    attribute macro it does not know, read as an ERROR): the name declares a function
    declarator outside any function body, whose parameters are declared with types."""
    parent = node.parent
    if parent is None or parent.type != "function_declarator":
        return False
    if parent.child_by_field_name("declarator") != node:
        return False
    if "compound_statement" in above:
        return False  # inside a function, `f(x)` is rather a call
    params = parent.child_by_field_name("parameters")
    if params is None:
        return False
    for p in params.named_children:
        if p.type != "parameter_declaration":
            continue
        kinds = {c.type for c in p.children}
        if kinds & _PARAM_TYPES or p.child_by_field_name("declarator") is not None:
            return True
    return False


def _invocation(roles: frozenset[str]) -> RefKind:
    """`name(...)`: a call, or the use of a macro where the series defines the name as a
    macro only (it is expanded, not called: issue 8's kinds)."""
    return "macro-use" if roles and roles <= MACRO_ROLES else "call"


def _use_kind(
    node: Node, src: CSource, roles: frozenset[str], above: set[str] | None = None
) -> RefKind:
    """Kind of an identifier-like node that is the whole occurrence (`above`: the types
    of the node and its ancestors, `_types_above`, when the caller has them)."""
    # Definitions, prototypes and #define names: the same decision CSource uses (not
    # asked where none can be: the callee of a call in a function body).
    defined = None if defines_nothing(node) else src.definition_kind_at(node.start_byte)
    if defined == "definition":
        return "definition"
    if defined == "declaration":
        return "declaration"
    parent = node.parent
    if parent is not None and parent.type == "preproc_params":
        return "other"  # a macro parameter that happens to have the name
    if above is None:
        above = _types_above(src.root, node)
    if defined == "macro" or "preproc_def" in above or "preproc_function_def" in above:
        return "macro"
    if parent is None:
        return "other"
    if parent.type == "call_expression" and parent.child_by_field_name("function") == node:
        if is_attribute_call(parent) or misparsed_header(parent, src.data) is not None:
            return "other"
        return _invocation(roles)
    if "ERROR" in above:
        if _prototype_in_error(node, above):
            return "declaration"
        nxt = _next_leaf(node)
        if nxt is not None and nxt.type == "(":
            return _invocation(roles)
    if node.type == "field_identifier":
        if parent.type in ("field_expression", "field_designator"):
            return "member"
        if "field_declaration" in above:
            return "declaration"
        return "other"
    if parent.type == "argument_list" and _export_macro(parent.parent):
        return "export"
    # What the name is, where the series defines it, decides over tree-sitter's guess
    # (a lone name in a macro body may read as a type).
    if roles & _FUNCTION_ROLES and not roles & MACRO_ROLES:
        return "address"  # a function designator not called: its address is taken
    if roles & MACRO_ROLES:
        return "macro-use"
    if node.type == "type_identifier" and _tag_with_body(node):
        return "definition"  # `struct foo {`: the tag is defined here
    if node.type == "type_identifier" or "typedef" in roles:
        return "type"
    if "enumerator" in roles:
        return "constant"  # an enumerator used as a value
    return "other"


def classify_c(src: CSource, start: int, end: int, roles: frozenset[str] = frozenset()) -> RefKind:
    """Kind of the occurrence at bytes [start, end) of a parsed C file.

    ``roles`` says what the symbol is where the series defines it (cparse.ROLES):
    a function named without being called is an ``address``, an object-like macro in
    an expression a ``macro-use``; without roles such uses are ``other``.
    """
    node = src.root.descendant_for_byte_range(start, end)
    if node is None:
        return "other"
    above = _types_above(src.root, node)
    if "comment" in above:
        return "comment"
    if "preproc_include" in above:
        return "include"
    if not above.isdisjoint(_STRING_NODES):
        return "string"
    if node.type == "preproc_arg":
        parent = node.parent
        if parent is not None and parent.type in ("preproc_def", "preproc_function_def"):
            return _kind_in_macro_body(node, start, end, roles)
        # '#undef NAME' and other directives about the name.
        return "macro"
    if node.type in _NAME_NODES and node.start_byte == start and node.end_byte == end:
        return _use_kind(node, src, roles, above)
    # Part of a larger token (an ERROR blob, inline assembly...): still code.
    if "ERROR" in above:
        nxt = _next_leaf(node)
        return _invocation(roles) if nxt is not None and nxt.type == "(" else "other"
    return "other"


def _collapse(text: bytes) -> str:
    return " ".join(text.decode("utf-8", "surrogateescape").split())


def enclosing_declaration(src: CSource, start: int) -> str | None:
    """Outside functions, the top-level item around byte `start`, spelled the way a person
    names it: `static const struct foo_ops bar_ops` for an initializer, `struct foo` for a
    member, `#define NAME` for a macro body; None for other items (EXPORT_SYMBOL lines)."""
    node = src.root.descendant_for_byte_range(start, start)
    item: Node | None = None
    cur = node
    while cur is not None and cur.parent is not None:
        if cur.type in ("preproc_def", "preproc_function_def"):
            name = cur.child_by_field_name("name")
            return f"#define {node_text(name)}" if name is not None else None
        if cur.parent.type in TOP_LEVEL_CONTAINERS and cur.type != "ERROR":
            item = cur
            break
        cur = cur.parent
    if item is None or item.type not in ("declaration", "type_definition", "struct_specifier"):
        return None
    data = src.data
    for d in item.children_by_field_name("declarator"):
        value = d.child_by_field_name("value") if d.type == "init_declarator" else None
        if value is not None:
            head = data[item.start_byte : value.start_byte].rstrip().rstrip(b"=")
            return _collapse(head)
    spec = item if item.type == "struct_specifier" else item.child_by_field_name("type")
    if spec is not None and spec.type in ("struct_specifier", "union_specifier", "enum_specifier"):
        body = spec.child_by_field_name("body")
        if body is not None and body.start_byte <= start < body.end_byte:
            return _collapse(data[spec.start_byte : body.start_byte])
    end = min(item.end_byte, item.start_byte + 200)
    return _collapse(data[item.start_byte : end].split(b"{")[0].rstrip(b";"))


#: Occurrences per this many bytes of file above which `find_references` asks the whole
#: file's parse once instead of one view per occurrence.
_BYTES_PER_VIEW = 256


def find_references(
    path: str,
    text: str,
    symbols: Collection[str],
    source: CSource | None = None,
    roles: Mapping[str, frozenset[str]] | None = None,
    span: tuple[int, int] | None = None,
    span_line: int | None = None,
) -> list[Reference]:
    """Every whole-word occurrence of each symbol in ``text``, classified.

    For .c/.h files each occurrence gets its kind from tree-sitter and its
    enclosing function; other files give 'documentation' (Documentation/**,
    .rst/.txt/.md) or 'other'. ``source`` may pass an already parsed CSource
    of the same text, to avoid parsing twice. ``span`` (byte offsets, at line
    boundaries) limits the search to the occurrences inside it; ``span_line``, when the
    caller knows it, is the 1-based line where the span starts (not counted again).
    """
    if not symbols:
        return []
    data = source.data if source is not None else text.encode("utf-8", "surrogateescape")
    lo, hi = span if span is not None else (0, len(data))
    matches = list(word_pattern_bytes(symbols).finditer(data, lo, hi))
    if not matches:
        return []
    lines = _Lines(data, lo, span_line) if span_line is not None else _Lines(data)
    refs: list[Reference] = []
    if not is_c_path(path):
        kind: RefKind = "documentation" if is_documentation_path(path) else "other"
        for m in matches:
            ln = lines.line(m.start())
            sym = m.group().decode("utf-8", "surrogateescape")
            refs.append(Reference(path, ln, sym, kind, None, lines.text_at(m.start())))
        return refs
    src = source if source is not None else CSource(data, parse(data))
    if src.unparsed is not None:
        # Not parsed (over the per-file limits): every occurrence counts as code, the
        # side that never hides a caller; the analysis reports the file as unparsed.
        for m in matches:
            ln = lines.line(m.start())
            sym = m.group().decode("utf-8", "surrogateescape")
            refs.append(Reference(path, ln, sym, "other", None, lines.text_at(m.start())))
        return refs
    # A one-line view answers from the nodes on that line only: a few occurrences in a
    # 200 KB kernel file must not cost whole-file queries. Each view's questions walk the
    # tree down to its line, though (through every statement of a long function): with
    # many occurrences for the file's size, the whole-file answers, computed once, are
    # cheaper, and they are the same (a view answers from a subset of the same nodes).
    # (A parse of a few items of the file costs what those items hold: `parsed_size`.)
    whole = src.window is None and len(matches) * _BYTES_PER_VIEW > src.parsed_size
    for m in matches:
        ln = lines.line(m.start())
        sym = m.group().decode("utf-8", "surrogateescape")
        local = src if whole else src.view(ln, ln)
        sym_roles = (roles or {}).get(sym, frozenset())
        kind = classify_c(local, m.start(), m.end(), sym_roles)
        if sym_roles and sym_roles <= MEMBER_ONLY and kind in _NOT_A_MEMBER:
            continue
        # A function-like macro is expanded only when its name is followed by '(':
        # `struct event_info *info` is another entity named like it.
        if (
            sym_roles
            and sym_roles <= FUNCTION_MACRO_ONLY
            and kind in _NOT_INVOKED
            and not _followed_by_paren(data, m.end())
        ):
            continue
        where = local.function_at(ln) or enclosing_declaration(local, m.start())
        refs.append(Reference(path, ln, sym, kind, where, lines.text_at(m.start())))
    return refs


def count_kinds(refs: Collection[Reference]) -> dict[str, int]:
    """Number of references of every kind (all kinds present, zero when absent)."""
    counts = dict.fromkeys(get_args(RefKind), 0)
    for r in refs:
        counts[r.kind] += 1
    return counts

"""Function types from C source, without a build: prototypes, function-pointer members,
and the slot a function designator is stored into, spelled the way gcc spells types
('int (*)(struct a *, struct b *)').

Everything comes from tree-sitter nodes; kernel attribute macros a prototype may carry
(`__must_check`) are left out of the spelling by taking only the type node and the
declarator's pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from tree_sitter import Node

from .cparse import CSource, PointRange, captures, declarator_name, node_text
from .words import word_pattern_bytes


def _rows_naming(src: CSource, names: set[str]) -> list[PointRange]:
    """One-row ranges of the lines naming any of `names`: queries then visit those lines'
    nodes only (a prototype in a 200 KB header costs a few node visits)."""
    if not names:
        return []
    rows: set[int] = set()
    data = src.data
    row, last = 0, 0
    for m in word_pattern_bytes(names).finditer(data):
        row += data.count(b"\n", last, m.start())
        last = m.start()
        rows.add(row)
    return [((r, 0), (r + 1, 0)) for r in sorted(rows)]


def _captures_naming(src: CSource, query: str, capture: str, names: set[str]) -> list[Node]:
    found: dict[int, Node] = {}
    for rng in _rows_naming(src, names):
        for n in captures(src.root, query, capture, rng):
            found.setdefault(n.id, n)
    return sorted(found.values(), key=lambda n: n.start_byte)


@dataclass(frozen=True)
class Prototype:
    """A function's return type and parameter types (None params: unknown, `f()`)."""

    name: str
    ret: str
    params: tuple[str, ...]
    variadic: bool = False
    #: where it was read (1-based line) and whether it is `static`: not part of the type
    line: int = dc_field(default=0, compare=False)
    static: bool = dc_field(default=False, compare=False)

    def pointer_type(self) -> str:
        """The type of a pointer to this function, as gcc prints it."""
        params = ", ".join([*self.params, *(["..."] if self.variadic else [])]) or "void"
        return f"{self.ret} (*)({params})"


def _spell(parts: list[str], stars: int) -> str:
    base = " ".join(" ".join(parts).split())
    return f"{base} {'*' * stars}" if stars else base


def _type_head(decl: Node) -> list[str]:
    """Qualifiers and the type specifier of a declaration (no storage class, no attributes)."""
    out: list[str] = []
    type_node = decl.child_by_field_name("type")
    children = decl.children
    for i, child in enumerate(children):
        if child.type == "type_qualifier":
            out.append(node_text(child))
        elif child == type_node:
            # `static __always_inline void f(...)`: tree-sitter reads the attribute macro
            # as the type and the real type as an ERROR right after it.
            nxt = children[i + 1] if i + 1 < len(children) else None
            if (
                child.type == "type_identifier"
                and nxt is not None
                and nxt.type == "ERROR"
                and len(nxt.named_children) == 1
                and nxt.named_children[0].type in ("identifier", "primitive_type")
            ):
                out.append(node_text(nxt))
            else:
                out.append(node_text(child))
    return out


def _param_type(param: Node) -> str | None:
    """The type of one parameter_declaration ('struct a *'), or None for `...`."""
    if param.type == "variadic_parameter":
        return None
    stars = 0
    cur = param.child_by_field_name("declarator")
    while cur is not None:
        if cur.type in ("pointer_declarator", "abstract_pointer_declarator"):
            stars += 1
        elif cur.type in ("array_declarator", "abstract_array_declarator"):
            stars += 1  # an array parameter is a pointer
        elif cur.type in ("function_declarator", "abstract_function_declarator"):
            inner = function_pointer_type(param, cur)
            return inner
        nxt = cur.child_by_field_name("declarator")
        if nxt is None and cur.type == "parenthesized_declarator":
            nxt = next((c for c in cur.named_children if c.type != "comment"), None)
        cur = nxt
    return _spell(_type_head(param), stars)


def _params(plist: Node | None) -> tuple[tuple[str, ...], bool]:
    if plist is None:
        return (), False
    types: list[str] = []
    variadic = False
    for p in plist.named_children:
        if p.type == "variadic_parameter":
            variadic = True
        elif p.type == "parameter_declaration":
            t = _param_type(p)
            if t is not None:
                types.append(t)
    if types == ["void"]:
        types = []
    return tuple(types), variadic


def function_pointer_type(decl: Node, fdecl: Node) -> str:
    """'ret (*)(params)' for a declarator `(*name)(params)` inside declaration `decl`."""
    params, variadic = _params(fdecl.child_by_field_name("parameters"))
    # Pointers outside the parentheses belong to the return type: `char *(*f)(void)`.
    stars = 0
    cur = fdecl.parent
    while cur is not None and cur is not decl and cur.type == "pointer_declarator":
        stars += 1
        cur = cur.parent
    ret = _spell(_type_head(decl), stars)
    return Prototype("", ret, params, variadic).pointer_type()


def _prototype_of(name_node: Node) -> Prototype | None:
    """The prototype a function declarator's name belongs to (definition or declaration)."""
    fdecl = name_node.parent
    if fdecl is None or fdecl.type != "function_declarator":
        return None
    stars = 0
    cur = fdecl.parent
    while cur is not None and cur.type in ("pointer_declarator", "attributed_declarator"):
        if cur.type == "pointer_declarator":
            stars += 1
        cur = cur.parent
    if cur is None or cur.type not in ("declaration", "function_definition"):
        return None
    params, variadic = _params(fdecl.child_by_field_name("parameters"))
    static = any(
        c.type == "storage_class_specifier" and node_text(c) == "static" for c in cur.children
    )
    return Prototype(
        node_text(name_node),
        _spell(_type_head(cur), stars),
        params,
        variadic,
        line=name_node.start_point.row + 1,
        static=static,
    )


def prototypes(src: CSource, names: set[str]) -> dict[str, list[Prototype]]:
    """Every prototype and definition of `names` in a parsed file."""
    out: dict[str, list[Prototype]] = {}
    query = "(function_declarator declarator: (identifier) @n)"
    for n in _captures_naming(src, query, "n", names):
        name = node_text(n)
        if name in names and (proto := _prototype_of(n)) is not None:
            out.setdefault(name, []).append(proto)
    return out


def member_types(src: CSource, structs: set[str]) -> dict[tuple[str, str], str]:
    """(struct, member) -> the member's function-pointer type, for the structs named."""
    out: dict[tuple[str, str], str] = {}
    query = "(struct_specifier name: (_) body: (_)) @s"
    for spec in _captures_naming(src, query, "s", structs):
        sname = spec.child_by_field_name("name")
        body = spec.child_by_field_name("body")
        if sname is None or body is None or node_text(sname) not in structs:
            continue
        for field in body.named_children:
            if field.type != "field_declaration":
                continue
            for d in field.children_by_field_name("declarator"):
                fdecl = _function_pointer_declarator(d)
                name = declarator_name(d)
                if fdecl is not None and name is not None:
                    out[(node_text(sname), node_text(name))] = function_pointer_type(field, fdecl)
    return out


def _function_pointer_declarator(d: Node) -> Node | None:
    """The function_declarator of `(*name)(params)` (possibly under return pointers)."""
    cur: Node | None = d
    while cur is not None and cur.type == "pointer_declarator":
        cur = cur.child_by_field_name("declarator")
    if cur is None or cur.type != "function_declarator":
        return None
    inner = cur.child_by_field_name("declarator")
    return cur if inner is not None and inner.type == "parenthesized_declarator" else None


@dataclass(frozen=True)
class Slot:
    """Where a function designator is stored: a struct member in an initializer, or a
    parameter of a called function."""

    how: str  # "initializer" | "assignment" | "argument"
    struct: str | None = None  # initializer, assignment: the struct type
    member: str | None = None  # initializer, assignment: the member
    callee: str | None = None  # argument: the called function
    index: int = 0  # argument: 0-based position


def slot_of(src: CSource, start: int, end: int) -> Slot | None:
    """The slot the name at bytes [start, end) is stored into, when the syntax says."""
    node = src.root.descendant_for_byte_range(start, end)
    if node is None:
        return None
    parent = node.parent
    if parent is not None and parent.type == "pointer_expression":  # &fn
        node, parent = parent, parent.parent
    if parent is None:
        return None
    if parent.type == "initializer_pair" and parent.child_by_field_name("value") == node:
        designator = next((c for c in parent.children if c.type == "field_designator"), None)
        lst = parent.parent
        init = lst.parent if lst is not None else None
        decl = init.parent if init is not None and init.type == "init_declarator" else None
        spec = decl.child_by_field_name("type") if decl is not None else None
        if designator is None or spec is None or spec.type != "struct_specifier":
            return None
        sname = spec.child_by_field_name("name")
        field = next((c for c in designator.named_children), None)
        if sname is None or field is None:
            return None
        return Slot("initializer", struct=node_text(sname), member=node_text(field))
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        left = parent.child_by_field_name("left")
        return _assigned_member(left) if left is not None else None
    if parent.type == "argument_list":
        call = parent.parent
        fn = call.child_by_field_name("function") if call is not None else None
        if fn is None or fn.type != "identifier":
            return None
        index = [c.id for c in parent.named_children].index(node.id)
        return Slot("argument", callee=node_text(fn), index=index)
    return None


def _assigned_member(left: Node) -> Slot | None:
    """`var->member` / `var.member` where `var` is a parameter or local of the enclosing
    function declared as `struct s` (or a pointer to it): the (s, member) slot."""
    if left.type != "field_expression":
        return None
    arg = left.child_by_field_name("argument")
    member = left.child_by_field_name("field")
    if arg is None or member is None or arg.type != "identifier":
        return None
    func = left.parent
    while func is not None and func.type != "function_definition":
        func = func.parent
    if func is None:
        return None
    var = node_text(arg)
    rng = (func.start_point, left.start_point)
    for decl in captures(func, "[(parameter_declaration) (declaration)] @d", "d", rng):
        spec = decl.child_by_field_name("type")
        if spec is None or spec.type != "struct_specifier":
            continue
        sname = spec.child_by_field_name("name")
        for d in decl.children_by_field_name("declarator"):
            name = declarator_name(d)
            if sname is not None and name is not None and node_text(name) == var:
                return Slot("assignment", struct=node_text(sname), member=node_text(member))
    return None


def parameter_types(src: CSource, callee: str) -> list[list[str | None]]:
    """Each prototype of `callee` in the file: its parameter types, with function-pointer
    parameters spelled as such (None where a parameter cannot be spelled)."""
    out: list[list[str | None]] = []
    query = "(function_declarator declarator: (identifier) @n)"
    for n in _captures_naming(src, query, "n", {callee}):
        if node_text(n) != callee or n.parent is None:
            continue
        plist = n.parent.child_by_field_name("parameters")
        if plist is None:
            continue
        out.append(
            [_param_type(p) for p in plist.named_children if p.type == "parameter_declaration"]
        )
    return out


def call_arguments(src: CSource, callee: str, line: int) -> list[list[str]]:
    """The argument texts of every call of `callee` on a 1-based line."""
    out: list[list[str]] = []
    row = line - 1
    for n in captures(
        src.root, "(call_expression function: (identifier) @c)", "c", ((row, 0), (row + 1, 0))
    ):
        if node_text(n) != callee or n.start_point.row != row or n.parent is None:
            continue
        args = n.parent.child_by_field_name("arguments")
        if args is not None:
            out.append(
                [" ".join(node_text(a).split()) for a in args.named_children if a.type != "comment"]
            )
    return out


def macro_alias(src: CSource, name: str, line: int) -> str | None:
    """`other` of an object-like `#define name other` on a 1-based line (an arch override
    mapping a generic name onto its own function), else None."""
    row = line - 1
    for d in captures(src.root, "(preproc_def) @d", "d", ((row, 0), (row + 1, 0))):
        dname = d.child_by_field_name("name")
        value = d.child_by_field_name("value")
        if dname is None or value is None or node_text(dname) != name:
            continue
        body = node_text(value).strip()
        if body.isidentifier():
            return body
    return None


def assignment_target(src: CSource, start: int, end: int) -> bool:
    """Whether the name at bytes [start, end) is the value assigned (`x->cb = name;`)."""
    node = src.root.descendant_for_byte_range(start, end)
    parent = node.parent if node is not None else None
    if parent is not None and parent.type == "pointer_expression" and node is not None:
        node, parent = parent, parent.parent
    return (
        parent is not None
        and node is not None
        and parent.type == "assignment_expression"
        and parent.child_by_field_name("right") == node
    )

"""Struct members used by code, and the members a struct definition declares.

A designated initializer `.m = v` of a `struct s` declaration, and `var->m` / `var.m`
where `var` is a parameter or local declared as `struct s` (or a pointer to it): both
name the struct the member must belong to, so whether it exists is decidable from the
struct's definition alone, without a build.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .cparse import CSource, captures, declarator_name, node_text
from .words import has_word


@dataclass(frozen=True)
class MemberUse:
    """`member` of `struct` used on 1-based `line` (how: "initializer" | "access")."""

    line: int
    struct: str
    member: str
    how: str
    #: the enclosing function, or outside functions the declaration initialized
    where: str | None = None


def _declared_struct(var: str, func: Node, before: Node) -> str | None:
    """The struct a parameter or local `var` of `func` is declared as (before `before`)."""
    rng = (func.start_point, before.start_point)
    found: str | None = None
    for decl in captures(func, "[(parameter_declaration) (declaration)] @d", "d", rng):
        spec = decl.child_by_field_name("type")
        names = [declarator_name(d) for d in decl.children_by_field_name("declarator")]
        if not any(n is not None and node_text(n) == var for n in names):
            continue
        sname = spec.child_by_field_name("name") if spec is not None else None
        if spec is None or spec.type != "struct_specifier" or sname is None:
            return None  # declared, but not as a named struct: nothing to decide
        found = node_text(sname)  # the last declaration before the use wins (shadowing)
    return found


def _enclosing_function(node: Node) -> Node | None:
    cur: Node | None = node.parent
    while cur is not None and cur.type != "function_definition":
        cur = cur.parent
    return cur


def member_uses(src: CSource, lines: set[int]) -> list[MemberUse]:
    """Member uses on the given 1-based lines whose struct the syntax names."""
    out: list[MemberUse] = []
    for line in sorted(lines):
        rng = ((line - 1, 0), (line, 0))
        for d in captures(src.root, "(field_designator (field_identifier) @f)", "f", rng):
            pair = d.parent.parent if d.parent is not None else None
            lst = pair.parent if pair is not None else None
            init = lst.parent if lst is not None else None
            if pair is None or pair.type != "initializer_pair" or init is None:
                continue
            if init.type != "init_declarator" or init.parent is None:
                continue  # nested initializers: their struct is a member's type
            spec = init.parent.child_by_field_name("type")
            sname = spec.child_by_field_name("name") if spec is not None else None
            if spec is not None and spec.type == "struct_specifier" and sname is not None:
                head = " ".join(node_text(init.parent).split("=", 1)[0].split())
                out.append(MemberUse(line, node_text(sname), node_text(d), "initializer", head))
        for f in captures(src.root, "(field_expression) @e", "e", rng):
            arg = f.child_by_field_name("argument")
            member = f.child_by_field_name("field")
            if arg is None or member is None or arg.type != "identifier":
                continue
            if f.start_point.row != line - 1:
                continue
            func = _enclosing_function(f)
            struct = _declared_struct(node_text(arg), func, f) if func is not None else None
            if struct is not None and func is not None:
                name = declarator_name(func.child_by_field_name("declarator"))
                fname = node_text(name) if name is not None else None
                out.append(MemberUse(line, struct, node_text(member), "access", fname))
    return out


def struct_bodies(src: CSource, structs: set[str]) -> dict[str, list[str]]:
    """The body text of every definition of the named structs in a parsed file."""
    out: dict[str, list[str]] = {}
    for spec in captures(src.root, "(struct_specifier name: (_) body: (_)) @s", "s"):
        sname = spec.child_by_field_name("name")
        body = spec.child_by_field_name("body")
        if sname is not None and body is not None and node_text(sname) in structs:
            out.setdefault(node_text(sname), []).append(node_text(body))
    return out


def lacks_member(bodies: list[str], member: str) -> bool:
    """Whether no definition of the struct names `member` at all (a whole-word test on
    the body: members declared by macros or under #ifdef count as present)."""
    return bool(bodies) and not any(has_word(member, b) for b in bodies)


def includes(src: CSource) -> list[tuple[str, bool]]:
    """(name, quoted) of every #include of a parsed file, in order."""
    out: list[tuple[str, bool]] = []
    for p in captures(src.root, "(preproc_include path: (_) @p)", "p"):
        text = node_text(p).strip()
        if len(text) > 2 and text[0] in '<"':
            out.append((text[1:-1], text[0] == '"'))
    return out

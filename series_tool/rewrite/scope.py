"""Which names a caller can use: its parameters and locals, the file's own declarations
(functions, variables, macros, enumerators) and the names its code already uses from
outside (declared in the headers it includes), all from tree-sitter.
"""

from __future__ import annotations

from tree_sitter import Node

from series_tool.model import node_text

from .ctree import declarator_name, walk

_FILE_SCOPE = frozenset(
    {"declaration", "preproc_def", "preproc_function_def", "type_definition", "enumerator_list"}
)


def declared_in(node: Node) -> set[str]:
    """Names declared anywhere under `node` (parameters, locals, typedefs, enumerators)."""
    out: set[str] = set()
    for n in walk(node):
        if n.type in ("parameter_declaration", "declaration", "init_declarator"):
            for field in ("declarator",):
                name = declarator_name(n.child_by_field_name(field))
                if name:
                    out.add(name)
            if n.type == "declaration":
                for d in n.children_by_field_name("declarator"):
                    name = declarator_name(d)
                    if name:
                        out.add(name)
        elif n.type in ("preproc_def", "preproc_function_def", "enumerator"):
            name_node = n.child_by_field_name("name")
            if name_node is not None:
                out.add(node_text(name_node))
        elif n.type == "type_definition":
            for d in n.children_by_field_name("declarator"):
                name = declarator_name(d)
                if name:
                    out.add(name)
    return out


def visible_names(root: Node, fn: Node) -> set[str]:
    """Names usable inside the function `fn` of the file `root`.

    Its own declarations, every declaration of the file outside function bodies, and
    each name another function of the file uses without declaring it (so it comes from
    the file scope or an included header).
    """
    names = declared_in(fn)
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            name = declarator_name(n.child_by_field_name("declarator"))
            if name:
                names.add(name)
            own = declared_in(n)
            names.update(
                node_text(x) for x in walk(n) if x.type == "identifier" and node_text(x) not in own
            )
        elif (
            n.type in ("declaration", "preproc_def", "preproc_function_def", "type_definition")
            or n.type == "enumerator_list"
        ):
            names.update(declared_in(n))
        else:
            stack.extend(n.children)
    return names

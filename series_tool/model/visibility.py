"""Which names a C file keeps to itself: ``static`` functions and prototypes.

An API is what other files can use: everything a header declares, and the functions a
``.c`` file defines without ``static``. Removing a static helper, or a macro private to
a ``.c`` file, changes nothing outside that file; scan does not call that an API removal.
"""

from __future__ import annotations

from .cparse import CSource, captures, declarator_name, node_text

_DECLARATIONS = "[(function_definition) @d (declaration) @d]"


def _is_static(node_type: str, children: list[str]) -> bool:
    return node_type in ("function_definition", "declaration") and "static" in children


def file_local_names(src: CSource) -> set[str]:
    """Names declared or defined ``static`` in ``src``.

    One ``static`` declaration is enough: a later declaration or definition without it
    keeps the internal linkage (C11 6.2.2p5), so the name is still the file's own.
    """
    static: set[str] = set()
    for node in captures(src.root, _DECLARATIONS, "d"):
        storage = [node_text(c) for c in node.children if c.type == "storage_class_specifier"]
        declarators = (
            [node.child_by_field_name("declarator")]
            if node.type == "function_definition"
            else node.children_by_field_name("declarator")
        )
        for d in declarators:
            name = declarator_name(d)
            if name is None:
                continue
            if _is_static(node.type, storage):
                static.add(node_text(name))
    return static


def provides_api(path: str, text: str, name: str) -> bool:
    """Whether the file ``path`` with contents ``text`` offers ``name`` to other files.

    In a header, any definition, declaration or macro of it; in a ``.c`` file, a function
    (or prototype) that is not ``static`` (a ``.c`` file's macros are its own).
    """
    src = CSource.from_text(text)
    kinds = src.definitions().get(name)
    if not kinds:
        return False
    if path.endswith(".h"):
        return True
    if kinds <= {"macro"}:
        return False
    return name not in file_local_names(src)

"""Which names a C file keeps to itself: ``static`` functions and prototypes.

An API is what other files can use: everything a header declares (members of its structs,
enumerators, typedefs and variables included), and the functions and variables a ``.c``
file defines without ``static``. Removing a static helper, a macro private to a ``.c``
file or a member of a struct only that file defines changes nothing outside that file;
scan does not call that an API removal.
"""

from __future__ import annotations

from series_tool.models import Hunk

from .cparse import CSource, captures, declarator_name, node_text
from .hunkmap import SideCache, changed_sides
from .migration import is_header

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


#: what a ``.c`` file can offer other files: its functions and file-scope variables
#: (its macros, enumerators, typedefs and the members of the structs it defines are
#: its own: no other file sees them)
_C_FILE_EXTERNAL_ROLES = frozenset({"function", "variable"})


def offered_names(path: str, text: str) -> set[str]:
    """Every name the file ``path`` with contents ``text`` offers to other files.

    In a header, everything it defines, declares or #defines: functions, macros, the
    members of its structs and unions, enumerators, typedefs and variables. In a ``.c``
    file, the functions and variables it defines (not only declares: ``extern`` or a
    prototype) that are not ``static``.
    """
    src = CSource.from_text(text)
    roles = src.roles()
    if is_header(path):
        return set(roles)
    local = file_local_names(src)
    # Only what the file defines: an `extern` declaration or a prototype in a .c file
    # names something defined elsewhere (another file, a linker script) for this file's
    # own use; no other file sees it, so removing it removes nothing from them.
    kinds = src.definitions()
    return {
        n
        for n, what in roles.items()
        if what & _C_FILE_EXTERNAL_ROLES and n not in local and "definition" in kinds.get(n, ())
    }


def provides_api(path: str, text: str, name: str) -> bool:
    """Whether the file ``path`` with contents ``text`` offers ``name`` to other files
    (see :func:`offered_names`)."""
    return name in offered_names(path, text)


def private_removed(hunk: Hunk, cache: SideCache | None = None) -> set[str]:
    """Names the '-' lines of a hunk of a ``.c`` file define that no other file can see:
    its macros, members, enumerators and typedefs, and what it declares ``static`` there
    (a cheap, conservative reading of the fragment: a ``static`` declared outside the
    hunk is not seen, so the name is kept as possibly offered). ``cache`` as for
    ``changed_sides``: the hunk's sides parsed once for every question asked of it."""
    out: set[str] = set()
    for marker, src, changed in changed_sides(hunk, cache):
        if marker != "-":
            continue
        roles = src.roles_on(changed)
        local = file_local_names(src) if roles else set()
        for name, what in roles.items():
            if not what & _C_FILE_EXTERNAL_ROLES or name in local:
                out.add(name)
    return out

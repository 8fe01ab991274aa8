"""Functions whose prototype a patch changes in place (same name, other type).

A name defined on both sides of a patch still exists, but every call, address use and
other definition of it must fit the new prototype: these are read from the patch alone
(both images of each C file's hunks, parsed with tree-sitter), before the tree grep, so
that only names whose type really changed cost a grep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from series_tool.models import Patch

from .cparse import CSource
from .hunkmap import SideCache, defined_on_changed_lines
from .migration import is_header
from .prototypes import Prototype, prototypes
from .references import is_c_path


@dataclass(frozen=True)
class PrototypeChange:
    """`name` changes from `old` to `new` in patch `patch`, in `file`; `static`: the
    changed definition is file-local (a static function of a .c file: only uses in that
    file can see it; a header's static inline is seen by every includer)."""

    patch: int | None
    file: str
    name: str
    old: Prototype
    new: Prototype

    @property
    def static(self) -> bool:
        return self.new.static and self.old.static and not is_header(self.file)


#: Spellings of one C type that differ in words only (C11 6.7.2): not a type change.
_SAME_TYPE = {
    ("unsigned",): ("unsigned", "int"),
    ("signed",): ("int",),
    ("signed", "int"): ("int",),
    ("short", "int"): ("short",),
    ("unsigned", "short", "int"): ("unsigned", "short"),
    ("long", "int"): ("long",),
    ("unsigned", "long", "int"): ("unsigned", "long"),
    ("long", "long", "int"): ("long", "long"),
    ("unsigned", "long", "long", "int"): ("unsigned", "long", "long"),
}


def normalized_type(spelled: str) -> str:
    """A type spelling with equivalent integer type words made one (`unsigned` is
    `unsigned int`), so that a respelled prototype is not taken for a changed one."""
    words = re.findall(r"\w+|[^\w\s]", spelled)
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if w in ("unsigned", "signed", "short", "long", "int"):
            run.append(w)
            continue
        if run:
            out.extend(_SAME_TYPE.get(tuple(run), tuple(run)))
            run = []
        if w:
            out.append(w)
    return " ".join(out)


def same_type(a: Prototype, b: Prototype) -> bool:
    """Whether two prototypes are one function type, spelling aside."""
    return normalized_type(a.pointer_type()) == normalized_type(b.pointer_type())


def _single(found: list[Prototype]) -> Prototype | None:
    """The prototype when every occurrence in the image agrees, else None (cannot tell)."""
    return found[0] if found and len({p.pointer_type() for p in found}) == 1 else None


def prototype_changes(patch: Patch, cache: SideCache | None = None) -> list[PrototypeChange]:
    """Every function whose prototype `patch` changes, per C file it changes it in."""
    out: list[PrototypeChange] = []
    for fd in patch.files:
        if fd.is_binary or fd.is_new or fd.is_deleted or not is_c_path(fd.path):
            continue
        gone: set[str] = set()
        added: set[str] = set()
        for hunk in fd.hunks:
            r, a = defined_on_changed_lines(hunk, cache=cache)
            gone.update(r)
            added.update(a)
        names = gone & added
        if not names:
            continue
        pre = "\n".join(t for h in fd.hunks for t in h.preimage()) + "\n"
        post = "\n".join(t for h in fd.hunks for t in h.postimage()) + "\n"
        before = prototypes(CSource.from_text(pre), names)
        after = prototypes(CSource.from_text(post), names)
        for name in sorted(names):
            old = _single(before.get(name, []))
            new = _single(after.get(name, []))
            if old is not None and new is not None and not same_type(old, new):
                out.append(PrototypeChange(patch.number, fd.path, name, old, new))
    return out

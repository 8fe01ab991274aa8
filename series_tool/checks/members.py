"""Members the series uses that the struct does not have (at that step).

A patch that sets `.set_rv = fn` or `gc->set_rv = fn` while `struct gpio_chip` has no
`set_rv` (the patch adding it is not in the series, or comes later) does not build. The
struct is named by the syntax (the initialized declaration, the declared type of the
variable); its definition is looked up in the using file and the headers it includes, a
few levels deep, as they are at that step. When no definition is found, nothing is said
(undecidable here, and a full `git grep` per struct would cost more than the analysis).
"""

from __future__ import annotations

import posixpath
import re
from collections import deque

from series_tool.model import (
    CSource,
    file_includes,
    has_word,
    is_c_path,
    lacks_member,
    member_uses,
    struct_bodies,
)
from series_tool.models import Reference

from .analysis import Analysis

#: How far and how wide the include graph is walked for a struct's definition.
_DEPTH = 4
_MAX_FILES = 1500


def _include_paths(path: str, name: str, quoted: bool) -> list[str]:
    """Where `#include name` in `path` may resolve to in a kernel-style tree."""
    out: list[str] = []
    if quoted:
        out.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), name)))
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == "arch":
        out.append(f"arch/{parts[1]}/include/{name}")
    out += [f"include/{name}", f"include/uapi/{name}", name]
    return out


class _Structs:
    """Struct definitions visible from a file at a step, looked up once per question."""

    def __init__(self, an: Analysis) -> None:
        self.an = an
        self._touched = set(an.touched())
        self._texts: dict[tuple[int, str], str | None] = {}
        self._bodies: dict[tuple[int, str, str], list[str]] = {}
        self._includes: dict[tuple[str, int], list[tuple[str, bool]]] = {}

    def text(self, index: int, path: str) -> str | None:
        # A file no patch touches reads the same at every step: read it once.
        key = (index if path in self._touched else 0, path)
        if key not in self._texts:
            self._texts[key] = self.an.read_at(key[0])(path)
        return self._texts[key]

    def includes(self, path: str, text: str) -> list[tuple[str, bool]]:
        """The #include lines of a file, parsed alone (a header walk reads hundreds of
        headers: parsing only their directive lines keeps it cheap)."""
        key = (path, hash(text))
        if key not in self._includes:
            lines = [t for t in text.splitlines() if t.lstrip().startswith("#")]
            self._includes[key] = file_includes(CSource.from_text("\n".join(lines) + "\n"))
        return self._includes[key]

    def parse(self, path: str, text: str) -> CSource:
        if self.an.parse is not None and (src := self.an.parse(path, text)) is not None:
            return src
        return CSource.from_text(text)

    def bodies(self, index: int, path: str, struct: str) -> list[str]:
        """Definitions of `struct` in `path` itself, else in the headers it includes
        (breadth first, the nearest level that defines it decides). The header walk is
        done once per struct and step: a struct defined in a header is that one struct
        for every file of the series."""
        text = self.text(index, path)
        needle = f"struct {struct}"
        if text is not None and needle in text:
            own = struct_bodies(self.parse(path, text), {struct}).get(struct, [])
            if own:
                return own
        key = (index, "", struct)
        if key in self._bodies:
            return self._bodies[key]
        seen = {path}
        queue: deque[tuple[str, int]] = deque([(path, 0)])
        found: list[str] = []
        while queue and len(seen) <= _MAX_FILES:
            cur, depth = queue.popleft()
            text = self.text(index, cur)
            if text is None:
                continue
            if cur != path and needle in text:
                found += struct_bodies(self.parse(cur, text), {struct}).get(struct, [])
            if found or depth >= _DEPTH or "#include" not in text:
                continue
            for name, quoted in self.includes(cur, text):
                for cand in _include_paths(cur, name, quoted):
                    if cand in seen:
                        break
                    if self.text(index, cand) is not None:
                        seen.add(cand)
                        queue.append((cand, depth + 1))
                        break
        self._bodies[key] = found
        return found


_MEMBER_AFTER = re.compile(r"(?:\.|->)\s*([A-Za-z_]\w*)")


def _after_dot(line: str) -> list[str]:
    """Words right after `.` or `->` on a line: the candidates for a member name."""
    return _MEMBER_AFTER.findall(line)


def missing_members(an: Analysis) -> dict[int, list[tuple[str, Reference]]]:
    """Per step index: (`struct s::m`, the use) for each member a line the series added
    uses while the struct's definition, at that step, has no such member. A use stays
    unsafe at later steps while its line is there and the member is still missing."""
    if an.missing_members is not None:
        return an.missing_members
    out: dict[int, list[tuple[str, Reference]]] = {}
    if an.series_only or an.replayed is None:
        an.missing_members = out
        return out
    structs = _Structs(an)
    tracked = set(an.tracked)
    for st in an.steps[1:]:
        if st.patch is None:
            continue
        for fd in st.patch.files:
            if fd.is_deleted or fd.is_binary or not is_c_path(fd.path):
                continue
            added = {ln.text.strip() for h in fd.hunks for ln in h.lines if ln.kind == "+"} - {""}
            before = structs.text(st.index - 1, fd.path) or ""
            # Only lines naming a member the file did not use before are worth a parse
            # (a cheap gate: the parse below decides what is a member use).
            added = {t for t in added if any(not has_word(w, before) for w in _after_dot(t))}
            text = structs.text(st.index, fd.path) if added else None
            if text is None:
                continue
            rows = {i for i, t in enumerate(text.splitlines(), start=1) if t.strip() in added}
            for use in member_uses(structs.parse(fd.path, text), rows):
                if use.member in tracked:
                    continue  # a member the series adds or removes: problems.py judges it
                if has_word(use.member, before):
                    continue  # the file used that member already: it exists (or its
                    # removal is the old API's business, checked elsewhere)
                line_text = text.splitlines()[use.line - 1]
                name = f"struct {use.struct}::{use.member}"
                for later in an.steps[st.index :]:
                    now = structs.text(later.index, fd.path)
                    lines = now.splitlines() if now is not None else []
                    if line_text not in lines:
                        break
                    bodies = structs.bodies(later.index, fd.path, use.struct)
                    if not lacks_member(bodies, use.member):
                        break
                    ref = Reference(
                        fd.path, lines.index(line_text) + 1, name, "member", use.where, line_text
                    )
                    if (name, ref) not in out.setdefault(later.index, []):
                        out[later.index].append((name, ref))
    an.missing_members = out
    return out

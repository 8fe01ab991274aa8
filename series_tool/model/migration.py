"""Infer old API -> new API from what the patches of a series define, remove and call.

Nothing is named in advance: an old symbol is one whose definition, prototype
or #define the series removes for good; a new symbol is one it introduces and
then uses in place of an old one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import PurePosixPath

from series_tool.models import HunkMap, Migration, Patch

from .hunkmap import SideCache, defined_on_changed_lines
from .references import is_c_path


def header_symbol(path: str) -> str:
    """How C files name a header in `#include`: the part after the last `include/`
    directory (`include/linux/foo.h` -> `linux/foo.h`), else the file name."""
    parts = PurePosixPath(path).parts
    if "include" in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index("include")
        return "/".join(parts[at + 1 :])
    return parts[-1]


def is_header(path: str) -> bool:
    """A C header, by its extension."""
    return path.endswith(".h")


def collect_defined(
    patch: Patch, roles: dict[str, set[str]] | None = None, cache: SideCache | None = None
) -> tuple[set[str], set[str]]:
    """(removed, added): names whose definition/declaration/macro a patch's
    '-' / '+' lines carry, from the diff alone, and the include names of the headers
    it deletes / creates. ``roles``, when given, is filled with what each name is."""
    removed: set[str] = set()
    added: set[str] = set()
    for fd in patch.files:
        if fd.is_binary or not is_c_path(fd.path):
            continue
        if is_header(fd.path) and (fd.is_deleted or fd.is_new):
            (removed if fd.is_deleted else added).add(header_symbol(fd.path))
        for hunk in fd.hunks:
            gone, new = defined_on_changed_lines(hunk, roles, cache)
            removed.update(gone)
            added.update(new)
    return removed, added


def symbols_defined_by_series(patches: Iterable[Patch]) -> set[str]:
    """Every name any patch adds or removes a definition/declaration/macro of."""
    names: set[str] = set()
    for p in patches:
        removed, added = collect_defined(p)
        names |= removed | added
    return names


def _ordered(names: Iterable[str], first_seen: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(set(names), key=lambda n: (first_seen.get(n, (1 << 30, 0)), n))


def infer_migration(
    patches: list[Patch],
    hunkmaps: list[HunkMap],
    old: list[str] | None = None,
    new: list[str] | None = None,
    shared_variables: Collection[str] = (),
) -> Migration:
    """Old and new symbols of the series, with the patches introducing/removing them.

    ``hunkmaps`` should carry calls of every symbol the series defines (see
    :func:`symbols_defined_by_series`). Old symbols are removed by some patch
    and re-added by none at or after it; when some of them had callers
    converted in earlier patches, only those count (a helper a conversion
    patch deletes along with its last use is not the API being replaced).
    New symbols are introduced and kept; those called in place of an old one
    (a hunk removing an old call and adding theirs) are preferred.
    ``old``/``new`` override the inference (``inferred`` is then False).
    ``shared_variables``: global variables other files can use (defined without
    ``static`` in a .c file, see model.scope); removing one is API too.
    """
    position = {p.number: i for i, p in enumerate(patches)}
    by_position: list[list[HunkMap]] = [[] for _ in patches]
    for hm in hunkmaps:
        if hm.patch in position:
            by_position[position[hm.patch]].append(hm)

    removed_at: dict[str, list[int]] = {}
    added_at: dict[str, list[int]] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    order = 0
    # A deleted / created header is removed / added under the name #include uses.
    for i, p in enumerate(patches):
        for fd in p.files:
            if is_header(fd.path) and (fd.is_deleted or fd.is_new) and not fd.is_binary:
                target = removed_at if fd.is_deleted else added_at
                target.setdefault(header_symbol(fd.path), []).append(i)
                first_seen.setdefault(header_symbol(fd.path), (i, -1))
    in_header: set[str] = set()
    exported: set[str] = set()
    for i, maps in enumerate(by_position):
        for hm in maps:
            if is_header(hm.file):
                in_header.update(hm.defined_removed)
            exported.update(r.symbol for r in hm.removed_names if r.kind == "export")
            for name in hm.defined_removed:
                removed_at.setdefault(name, []).append(i)
            for name in hm.defined_added:
                added_at.setdefault(name, []).append(i)
            for name in [*hm.defined_added, *hm.defined_removed]:
                if name not in first_seen:
                    first_seen[name] = (i, order)
                    order += 1

    def removal(name: str) -> int | None:
        """Position of the patch removing ``name`` for good, if any."""
        for i in sorted(set(removed_at.get(name, [])), reverse=True):
            if not any(j >= i for j in added_at.get(name, [])):
                return i
        return None

    def call_removed_before(name: str, limit: int) -> bool:
        return any(
            c.symbol == name
            for i in range(limit)
            for hm in by_position[i]
            for c in hm.removed_calls
        )

    def number(i: int | None) -> int | None:
        return patches[i].number if i is not None else None

    # --old / --new each override their side only: the other side is still inferred
    # (`--new X` alone keeps the old symbols the series removes).
    if old is not None:
        olds = list(old)
    else:
        candidates = [n for n in removed_at if removal(n) is not None]
        # The API: what callers were converted from, or what a header declares or the
        # module exports; a static helper deleted along with its last user is not (it
        # is still checked, through `removed`).
        api = [
            n
            for n in candidates
            if call_removed_before(n, removal(n) or 0)
            or n in in_header
            or n in exported
            or n in shared_variables
            or is_header(n)
        ]
        olds = _ordered(api or candidates, first_seen)
    if new is not None:
        news = list(new)
    else:
        # Introduced: first appears on a '+' line (not modified from before) and stays.
        introduced = [
            n
            for n in added_at
            if n not in olds and removal(n) is None and not _existed_before(n, removed_at, added_at)
        ]
        old_set = set(olds)
        paired = {
            c.symbol
            for maps in by_position
            for hm in maps
            if any(r.symbol in old_set for r in hm.removed_calls)
            for c in hm.added_calls
            if c.symbol in introduced
        }
        news = _ordered(paired or introduced, first_seen)
    inferred = old is None and new is None

    introduced_in: dict[str, int | None] = {}
    removed_in: dict[str, int | None] = {}
    for name in [*olds, *news]:
        adds = [
            i for i in added_at.get(name, []) if not _existed_before(name, removed_at, added_at)
        ]
        introduced_in[name] = number(min(adds)) if adds else None
        removed_in[name] = number(removal(name))
    removed = {n: number(removal(n)) for n in removed_at if removal(n) is not None}
    for n in olds:
        removed.setdefault(n, removed_in.get(n))
    brought: dict[str, int | None] = {}
    for n, at in added_at.items():
        if removal(n) is None and not _existed_before(n, removed_at, added_at):
            brought[n] = number(min(at))
    return Migration(olds, news, introduced_in, removed_in, inferred, removed, brought)


def _existed_before(
    name: str, removed_at: dict[str, list[int]], added_at: dict[str, list[int]]
) -> bool:
    """A name first seen on a '-' line (at or before its first '+') predates the series."""
    removes = removed_at.get(name)
    if not removes:
        return False
    adds = added_at.get(name)
    return not adds or min(removes) <= min(adds)

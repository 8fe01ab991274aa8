"""Does a series remove an API the tree has? (what `scan` selects series by)

An API removal: some patch deletes, for good, something other files can use (the model
stage's ``infer_migration`` old symbols) that the tree offers to other files:

- a function, prototype, macro, struct/union member, enumerator, typedef or variable:
  the file the patch removes it from has it at the base and does not keep it to itself
  (``model.offered_names``: everything a header declares; a ``.c`` file's non-static
  functions and variables);
- a whole header: the tree has the file and some other file of the tree includes it
  (what the deleted header itself declares goes with it: it is not listed again).

Without a tree every such removal counts: there is nothing to check it against, and the
verdict then says it was checked in series-only mode.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from series_tool.model import (
    CSource,
    defined_on_changed_lines,
    file_includes,
    header_symbol,
    infer_migration,
    is_c_path,
    is_header,
    map_patch_without_tree,
    offered_names,
)
from series_tool.models import Patch, Series
from series_tool.replay import Tree

#: how many files naming a deleted header are parsed at most to find one including it
#: (the first usually does; a header named in hundreds of comments must not cost more)
_INCLUDER_PROBES = 50


@dataclass(frozen=True)
class ApiRemoval:
    """One API symbol a series removes."""

    symbol: str
    files: tuple[str, ...]  # the files a patch removes its definition from
    patch: int | None  # the patch that removes it for good

    def to_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "files": list(self.files), "patch": self.patch}


def _deleted_headers(patches: Iterable[Patch]) -> dict[str, list[str]]:
    """Include name -> paths of the headers the series deletes under that name."""
    out: dict[str, list[str]] = {}
    for p in patches:
        for fd in p.files:
            if is_header(fd.path) and fd.is_deleted and not fd.is_binary:
                out.setdefault(header_symbol(fd.path), []).append(fd.path)
    return out


def _includes_header(includer: str, text: str, header: str) -> bool:
    """Whether ``includer`` (contents ``text``) has an ``#include`` of the file ``header``.

    Only the directive lines are parsed. ``<name>`` and ``"name"`` match by the include
    name (``header_symbol``); a quoted name also matches relative to the includer's folder.
    """
    lines = [t for t in text.splitlines() if t.lstrip().startswith("#")]
    name = header_symbol(header)
    for inc, quoted in file_includes(CSource.from_text("\n".join(lines) + "\n")):
        if inc == name:
            return True
        if quoted and posixpath.normpath(posixpath.join(posixpath.dirname(includer), inc)) == (
            header
        ):
            return True
    return False


def _header_offered(tree: Tree, paths: list[str], deleted: set[str]) -> bool:
    """Whether the tree has one of the header ``paths`` and another file includes it."""
    held = tree.entries(paths)
    present = [p for p in paths if p in held]
    if not present:
        return False
    for header in present:
        name = posixpath.basename(header)
        candidates = sorted(p for p in tree.grep_fixed([name]) if p not in deleted)
        for chunk_start in range(0, min(len(candidates), _INCLUDER_PROBES), 10):
            chunk = candidates[chunk_start : min(chunk_start + 10, _INCLUDER_PROBES)]
            for path, text in tree.read_many(chunk).items():
                if text is not None and _includes_header(path, text, header):
                    return True
    return False


def _removed_for_good(patches: list[Patch]) -> tuple[set[str], dict[str, set[str]]]:
    """(every name the series defines or removes, name -> files) of the names some patch
    removes and no patch at or after it adds back: a superset of ``infer_migration``'s
    old symbols, from the definitions on changed lines alone (no name classification)."""
    removed_at: dict[str, list[int]] = {}
    added_at: dict[str, list[int]] = {}
    files: dict[str, set[str]] = {}
    for i, p in enumerate(patches):
        for fd in p.files:
            if fd.is_binary or not is_c_path(fd.path):
                continue
            if is_header(fd.path) and (fd.is_deleted or fd.is_new):
                name = header_symbol(fd.path)
                (removed_at if fd.is_deleted else added_at).setdefault(name, []).append(i)
                if fd.is_deleted:
                    files.setdefault(name, set()).add(fd.path)
            for hunk in fd.hunks:
                gone, new = defined_on_changed_lines(hunk)
                for name in gone:
                    removed_at.setdefault(name, []).append(i)
                    files.setdefault(name, set()).add(fd.path)
                for name in new:
                    added_at.setdefault(name, []).append(i)
    out: dict[str, set[str]] = {}
    for name, where in removed_at.items():
        last = max(where)
        if not any(j >= last for j in added_at.get(name, [])):
            out[name] = files[name]
    return set(removed_at) | set(added_at), out


def api_removals(series: Series, tree: Tree) -> list[ApiRemoval]:
    """The API symbols ``series`` removes that ``tree`` has (see the module docstring)."""
    patches = series.patches
    tracked, candidates = _removed_for_good(patches)
    if not candidates:
        return []
    headers = _deleted_headers(patches)
    all_deleted = {p for paths in headers.values() for p in paths}
    series_only = tree.series_only
    # Each file is read and parsed once, however many of its names the series removes.
    offered_by_file: dict[str, set[str]] = {}
    header_offered: dict[str, bool] = {}

    def offered(name: str, files: tuple[str, ...]) -> bool:
        if series_only:
            return True  # nothing to check it against: the diff's word stands
        if name in headers:
            if name not in header_offered:
                header_offered[name] = _header_offered(tree, list(files), all_deleted)
            return header_offered[name]
        todo = [f for f in files if f not in offered_by_file]
        for f, text in tree.read_many(todo).items():
            offered_by_file[f] = offered_names(f, text) if text is not None else set()
        return any(name in offered_by_file.get(f, ()) for f in files)

    def files_of(name: str, where: set[str]) -> tuple[str, ...] | None:
        """The files to judge ``name`` by; None when it goes with a deleted header."""
        if name in headers:
            return tuple(sorted(headers[name]))
        if where and where <= all_deleted:
            # Only ever in headers the series deletes whole: what goes with a header
            # is judged as the header (is it in the tree, does anyone include it).
            return None
        return tuple(sorted(where))

    # The cheap question first: most series selected from the records remove only what
    # no other file sees (a static helper); they need no name-by-name mapping at all.
    if not any(
        (files := files_of(n, where)) is not None and offered(n, files)
        for n, where in candidates.items()
    ):
        return []
    hunkmaps = [m for p in patches for m in map_patch_without_tree(p, tracked)]
    migration = infer_migration(patches, hunkmaps)
    found: list[ApiRemoval] = []
    for name in migration.old:
        where = {hm.file for hm in hunkmaps if name in hm.defined_removed}
        files = files_of(name, where or candidates.get(name, set()))
        if files is not None and offered(name, files):
            found.append(ApiRemoval(name, files, migration.removed_in.get(name)))
    return found

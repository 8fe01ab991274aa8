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
    file_includes,
    header_symbol,
    infer_migration,
    is_header,
    map_patch_without_tree,
    offered_names,
    symbols_defined_by_series,
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


def api_removals(series: Series, tree: Tree) -> list[ApiRemoval]:
    """The API symbols ``series`` removes that ``tree`` has (see the module docstring)."""
    patches = series.patches
    tracked = symbols_defined_by_series(patches)
    if not tracked:
        return []
    hunkmaps = [m for p in patches for m in map_patch_without_tree(p, tracked)]
    migration = infer_migration(patches, hunkmaps)
    headers = _deleted_headers(patches)
    all_deleted = {p for paths in headers.values() for p in paths}
    series_only = tree.series_only
    # Each file is read and parsed once, however many of its names the series removes.
    offered_by_file: dict[str, set[str]] = {}
    found: list[ApiRemoval] = []
    for name in migration.old:
        if name in headers:
            files = tuple(sorted(headers[name]))
            offered = series_only or _header_offered(tree, list(files), all_deleted)
        else:
            files = tuple(sorted({hm.file for hm in hunkmaps if name in hm.defined_removed}))
            if files and set(files) <= all_deleted:
                # Only ever in headers the series deletes whole: what goes with a header
                # is judged as the header (is it in the tree, does anyone include it).
                continue
            if series_only:
                offered = True  # nothing to check it against: the diff's word stands
            else:
                todo = [f for f in files if f not in offered_by_file]
                for f, text in tree.read_many(todo).items():
                    offered_by_file[f] = offered_names(f, text) if text is not None else set()
                offered = any(name in offered_by_file.get(f, ()) for f in files)
        if offered:
            found.append(ApiRemoval(name, files, migration.removed_in.get(name)))
    return found

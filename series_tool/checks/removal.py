"""Does a series remove an API the tree has? (what `scan` selects series by)

An API removal: some patch deletes, for good, a definition, declaration or macro (the
model stage's ``infer_migration`` old symbols) that the tree offers to other files: the
file the patch removes it from has it at the base and it is not private to that file
(see ``model.provides_api``). Without a tree every such removal counts: there is nothing
to check it against, and the verdict then says it was checked in series-only mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from series_tool.model import (
    infer_migration,
    map_patch_without_tree,
    provides_api,
    symbols_defined_by_series,
)
from series_tool.models import Series
from series_tool.replay import Tree


@dataclass(frozen=True)
class ApiRemoval:
    """One API symbol a series removes."""

    symbol: str
    files: tuple[str, ...]  # the files a patch removes its definition from
    patch: int | None  # the patch that removes it for good

    def to_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "files": list(self.files), "patch": self.patch}


def api_removals(series: Series, tree: Tree) -> list[ApiRemoval]:
    """The API symbols ``series`` removes that ``tree`` has (see the module docstring)."""
    patches = series.patches
    tracked = symbols_defined_by_series(patches)
    if not tracked:
        return []
    hunkmaps = [m for p in patches for m in map_patch_without_tree(p, tracked)]
    migration = infer_migration(patches, hunkmaps)
    found: list[ApiRemoval] = []
    series_only = tree.series_only
    for name in migration.old:
        files = tuple(sorted({hm.file for hm in hunkmaps if name in hm.defined_removed}))
        if series_only:
            offered = True  # nothing to check it against: the diff's word stands
        else:
            contents = tree.read_many(files)
            offered = any(
                (text := contents.get(f)) is not None and provides_api(f, text, name) for f in files
            )
        if offered:
            found.append(ApiRemoval(name, files, migration.removed_in.get(name)))
    return found

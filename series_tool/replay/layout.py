"""What is a file, a symlink or a directory while a series is replayed: git apply's rules.

git apply refuses a patch that would write through a symbolic link ("affected file ... is
beyond a symbolic link"), a rename or copy onto a file that already exists ("already
exists in working directory"), and, once it writes, a file where the tree has a
directory or below something that is not one. The replay refuses the same files, so a
verdict never rests on a file git am would not have written, and `--build` never
writes one (a path through a symlink could lead anywhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from series_tool.models import FileDiff

from .trees import EntryKind


def ancestors(path: str) -> list[str]:
    """The leading directories of `path`: "a/b/c" -> ["a", "a/b"]."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def with_ancestors(paths: Iterable[str]) -> list[str]:
    """Every path and each of its leading directories, once, in first-seen order."""
    seen: dict[str, None] = {}
    for p in paths:
        for a in ancestors(p):
            seen.setdefault(a, None)
        seen.setdefault(p, None)
    return list(seen)


class Layout:
    """Entry kinds of the tree (from `Tree.entries`), as the series changes them.

    The overlay of the replay says which files the series wrote (a string) or removed
    (None); `live` counts, per directory, the files the series created below it minus
    those it removed, so a directory made or emptied by the series is seen too.
    """

    def __init__(self, tree: Mapping[str, EntryKind]) -> None:
        self._tree = tree
        self._live: dict[str, int] = {}

    def kind(self, path: str, overlay: Mapping[str, str | None]) -> EntryKind | None:
        """What is at `path` now (None: nothing)."""
        if self._live.get(path, 0) > 0:
            return "dir"
        if path in overlay:
            if overlay[path] is None:
                return None
            return "link" if self._tree.get(path) == "link" else "file"
        return self._tree.get(path)

    def problem(self, fd: FileDiff, overlay: Mapping[str, str | None]) -> str | None:
        """Why git apply would refuse `fd` on the tree as it is now, or None."""
        source = fd.source_path if fd.is_rename and fd.source_path else fd.path
        target = fd.target_path or fd.path
        for name in dict.fromkeys((source, target)):
            for a in ancestors(name):
                k = self.kind(a, overlay)
                if k == "link":
                    return f"{name}: affected file is beyond a symbolic link ({a})"
                if k is not None and k != "dir":
                    return f"{name}: {a} is a {k} in the tree, not a directory"
        for name in dict.fromkeys((source, target)):
            k = self.kind(name, overlay)
            if k == "dir":
                return f"{name}: is a directory in the tree, not a file"
            if k in ("submodule", "other"):
                return f"{name}: is a {k} in the tree, not a file"
        if fd.is_rename and source != target and self.kind(target, overlay) is not None:
            return f"{target}: already exists (the rename from {source} would overwrite it)"
        return None

    def record(self, path: str, existed: bool, exists: bool) -> None:
        """Note that the series created (or removed) the file `path`."""
        if existed == exists:
            return
        step = 1 if exists else -1
        for a in ancestors(path):
            self._live[a] = self._live.get(a, 0) + step

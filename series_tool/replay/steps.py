"""Replay a series over a tree snapshot in memory: only the files the series touches.

Every step sees the files touched so far through a view of one shared history: for each
touched path, the list of (step, content) versions (None = deleted or absent). A step's
view answers with the newest version at or before it, so a 5,000-patch series over 1,400
files keeps 5,000 small changes, not 5,000 copies of a 1,400-entry dict (memory and time
grow with the number of changes, not patches x files). Unchanged strings are shared. The
base content of every touched file is read once, in one batch, before the replay.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from series_tool.models import ApplyResult, FileDiff, HunkResult, Patch

from .apply import apply_file, worst_status
from .layout import Layout, with_ancestors
from .paths import invalid_path
from .trees import Tree

_EMPTY: Mapping[str, str | None] = MappingProxyType({})


class _History:
    """Every version of every touched file: path -> ([step positions], [contents])."""

    def __init__(self) -> None:
        self.at: dict[str, tuple[list[int], list[str | None]]] = {}
        self.first: list[str] = []  # paths in the order they were first touched

    def set(self, position: int, path: str, content: str | None) -> None:
        entry = self.at.get(path)
        if entry is None:
            self.at[path] = ([position], [content])
            self.first.append(path)
            return
        positions, contents = entry
        if positions[-1] == position:
            contents[-1] = content
        else:
            positions.append(position)
            contents.append(content)


class _Overlay(Mapping[str, "str | None"]):
    """The touched files as they are after the patch at list position `position`."""

    def __init__(self, history: _History, position: int, count: int) -> None:
        self._history = history
        self._position = position
        self._count = count  # how many paths were touched by then (first-touch order)

    def __getitem__(self, path: str) -> str | None:
        entry = self._history.at.get(path)
        if entry is None:
            raise KeyError(path)
        positions, contents = entry
        i = bisect.bisect_right(positions, self._position) - 1
        if i < 0:
            raise KeyError(path)
        return contents[i]

    def __contains__(self, path: object) -> bool:
        entry = self._history.at.get(path) if isinstance(path, str) else None
        return entry is not None and entry[0][0] <= self._position

    def __iter__(self) -> Iterator[str]:
        return iter(self._history.first[: self._count])

    def __len__(self) -> int:
        return self._count


class _Writer(dict[str, "str | None"]):
    """The overlay one patch applies onto: reads fall through to the history so far."""

    def __init__(self, history: _History, position: int) -> None:
        super().__init__()
        self._history = history
        self._before = _Overlay(history, position - 1, len(history.first))

    def __contains__(self, path: object) -> bool:
        return super().__contains__(path) or path in self._before

    def __getitem__(self, path: str) -> str | None:
        if super().__contains__(path):
            return super().__getitem__(path)
        return self._before[path]


@dataclass(frozen=True)
class Step:
    """The snapshot after one patch: how it applied and every touched file's content."""

    patch: Patch
    apply: ApplyResult
    files: Mapping[str, str | None]  # touched by patches 1..k, after patch k
    base: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    tree: Tree | None = field(default=None, repr=False, compare=False)

    def read(self, path: str) -> str | None:
        """The file after this step: the overlay if the series touched it, else the tree."""
        if path in self.files:
            return self.files[path]
        if path in self.base:
            return self.base[path]
        return self.tree.read(path) if self.tree is not None else None


@dataclass(frozen=True)
class Replay:
    """The result of replaying a series: one Step per patch, in order."""

    steps: list[Step]
    base: Mapping[str, str | None]  # base content of every touched file
    tree: Tree | None = field(default=None, repr=False, compare=False)
    #: `touched_paths` of the patches replayed (asked again by the checks)
    touched: tuple[str, ...] = field(default=(), repr=False)

    def step(self, number: int) -> Step | None:
        """The step of the patch numbered `number`, if any."""
        return next((s for s in self.steps if s.patch.number == number), None)

    def before(self, index: int) -> Mapping[str, str | None]:
        """Touched files before the step at list position `index` (0: the base)."""
        return self.steps[index - 1].files if index > 0 else self.base

    @property
    def ok(self) -> bool:
        """Whether every patch applied (clean, with offset or with fuzz)."""
        return all(s.apply.status not in ("failed", "unknown") for s in self.steps)


def touched_paths(patches: Sequence[Patch]) -> list[str]:
    """Every valid path inside the tree that any patch reads or writes, in first-seen order
    (names outside the tree or inside .git are never read or written; replay fails them)."""
    seen: dict[str, None] = {}
    for p in patches:
        for fd in p.files:
            for path in (fd.source_path, fd.target_path, fd.path):
                if path and invalid_path(path) is None:
                    seen.setdefault(path, None)
    return list(seen)


def replay(patches: list[Patch], tree: Tree) -> Replay:
    """Apply the patches one after the other to the tree's touched files, in memory.

    A patch whose diff is broken (`error` set) fails as a whole and changes nothing;
    a hunk that does not apply is reported and skipped, the rest still applies.
    Without a tree (series-only) nothing can be checked: hunks on files that are not
    created by the series are "unknown", and only series-created files are built.
    """
    series_only = tree.series_only
    # One batch read of every touched file (nothing to read without a tree), and one
    # question for what the tree holds at each of them and their leading directories.
    touched = touched_paths(patches)
    base: Mapping[str, str | None] = (
        _EMPTY if series_only else MappingProxyType(tree.read_many(touched))
    )
    layout = Layout({} if series_only else tree.entries(with_ancestors(touched)))
    steps: list[Step] = []
    history = _History()
    for position, patch in enumerate(patches):
        overlay = _Writer(history, position)
        if patch.error:
            result = ApplyResult(patch.number, "failed", [], patch.error)
        else:
            results: list[HunkResult] = []
            for fd in patch.files:
                results.extend(_apply_one(fd, overlay, base, series_only, layout))
            bad = [r.message for r in results if r.status in ("failed", "unknown")]
            status = worst_status([r.status for r in results])
            result = ApplyResult(patch.number, status, results, "; ".join(dict.fromkeys(bad)))
        for path, content in dict.items(overlay):
            history.set(position, path, content)
        view = _Overlay(history, position, len(history.first))
        steps.append(Step(patch, result, view, base, tree))
    return Replay(steps, base, tree, tuple(touched))


def _fail(fd: FileDiff, msg: str) -> list[HunkResult]:
    """The whole file fails with `msg` (one result per hunk)."""
    return [HunkResult(fd.path, i, "failed", message=msg) for i in range(max(1, len(fd.hunks)))]


def _apply_one(
    fd: FileDiff,
    overlay: dict[str, str | None],
    base: Mapping[str, str | None],
    series_only: bool,
    layout: Layout,
) -> list[HunkResult]:
    """Apply one file's diff onto the overlay (in place); return its hunk results."""
    names = [n for n in (fd.source_path, fd.target_path, fd.path) if n]
    bad = next(((n, why) for n in names if (why := invalid_path(n)) is not None), None)
    if bad is not None:
        # Never read or write outside the tree or into git's metadata (a hostile or
        # careless diff, or a plain `diff -u /abs/a /abs/b`), as git apply refuses them:
        # the file fails, the rest of the series goes on.
        return _fail(fd, f"{bad[0]}: invalid path: {bad[1]}")
    if (why := layout.problem(fd, overlay)) is not None:
        return _fail(fd, why)
    source = fd.source_path if fd.is_rename and fd.source_path else fd.path
    known = source in overlay or not series_only
    if series_only and not known and not fd.is_new:
        # No tree: the file's content is unknown, so is whether the hunks apply.
        msg = f"{fd.path}: no tree to apply to (series-only)"
        n = max(1, len(fd.hunks))
        return [HunkResult(fd.path, i, "unknown", message=msg) for i in range(n)]
    content = overlay[source] if source in overlay else base.get(source)
    new, results = apply_file(content, fd)
    failed_file = any(r.status == "failed" for r in results) and (
        fd.is_new or fd.is_deleted or content is None
    )
    if failed_file:
        return results  # a file-level failure changes nothing
    if fd.is_rename and fd.source_path and fd.target_path and fd.source_path != fd.target_path:
        writes = {fd.source_path: None, fd.target_path: new}
    else:
        writes = {fd.path: new}
    for path, text in writes.items():
        existed = layout.kind(path, overlay) is not None
        overlay[path] = text
        layout.record(path, existed, text is not None)
    return results

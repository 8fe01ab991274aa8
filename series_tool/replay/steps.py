"""Replay a series over a tree snapshot in memory: only the files the series touches.

Every step holds a copy-on-write overlay: a fresh dict per patch with the content of
each file touched so far (None = deleted or absent). Unchanged strings are shared
between steps, so a 13-patch series over a few kernel files costs a few dict copies.
The base content of every touched file is read once, in one batch, before the replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from series_tool.models import ApplyResult, FileDiff, HunkResult, Patch

from .apply import apply_file, worst_status
from .layout import Layout, with_ancestors
from .paths import invalid_path
from .trees import Tree

_EMPTY: Mapping[str, str | None] = MappingProxyType({})


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
    current: dict[str, str | None] = {}
    for patch in patches:
        overlay = dict(current)  # copy-on-write: shares every unchanged string
        if patch.error:
            result = ApplyResult(patch.number, "failed", [], patch.error)
        else:
            results: list[HunkResult] = []
            for fd in patch.files:
                results.extend(_apply_one(fd, overlay, base, series_only, layout))
            bad = [r.message for r in results if r.status in ("failed", "unknown")]
            status = worst_status([r.status for r in results])
            result = ApplyResult(patch.number, status, results, "; ".join(dict.fromkeys(bad)))
        current = overlay
        steps.append(Step(patch, result, MappingProxyType(overlay), base, tree))
    return Replay(steps, base, tree)


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

"""Series-only mode: what the series itself shows of each file, as sparse line maps.

Without a tree, the only lines of a file that are known are the context and changed
lines of the hunks that touch it. Replaying the hunks over those partial images
(shifting known lines by each hunk's size change, exactly as the hunk headers say)
gives, at every step, the lines the series shows; references found there are all that
series-only mode can report, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from series_tool.models import FileDiff, Hunk


@dataclass
class SparseFile:
    """Known lines of one file (1-based line -> text) and the function each came from."""

    lines: dict[int, str] = field(default_factory=dict)
    functions: dict[int, str | None] = field(default_factory=dict)

    def runs(self) -> list[tuple[int, list[str]]]:
        """Consecutive known lines as (first line number, texts) runs, in order."""
        out: list[tuple[int, list[str]]] = []
        for ln in sorted(self.lines):
            if out and out[-1][0] + len(out[-1][1]) == ln:
                out[-1][1].append(self.lines[ln])
            else:
                out.append((ln, [self.lines[ln]]))
        return out


def _pre_range(h: Hunk) -> range:
    # A zero-length pre-image inserts after line source_start and replaces nothing.
    if h.source_length == 0:
        return range(0)
    return range(h.source_start, h.source_start + h.source_length)


def apply_sparse(
    before: SparseFile | None, fd: FileDiff, hunk_functions: list[str | None]
) -> SparseFile | None:
    """The sparse image after applying one file's hunks; None when the patch deletes the file.

    `hunk_functions[i]` is the function hunk i sits in (for naming references later).
    """
    if fd.is_deleted:
        return None
    old = before or SparseFile()
    hunks = sorted(fd.hunks, key=lambda h: h.source_start)
    after = SparseFile()
    for ln, text in old.lines.items():
        if any(ln in _pre_range(h) for h in hunks):
            continue  # replaced by the hunk's post-image below
        delta = 0
        for h in hunks:
            last_pre = h.source_start + h.source_length - 1 if h.source_length else h.source_start
            if ln > last_pre:
                delta += h.target_length - h.source_length
        after.lines[ln + delta] = text
        after.functions[ln + delta] = old.functions.get(ln)
    for i, h in enumerate(fd.hunks):
        func = hunk_functions[i] if i < len(hunk_functions) else None
        start = h.target_start if h.target_length else h.target_start + 1
        for j, text in enumerate(h.postimage()):
            after.lines[start + j] = text
            after.functions[start + j] = func
    return after


def learn_base(
    before: SparseFile | None, fd: FileDiff, hunk_functions: list[str | None]
) -> SparseFile:
    """Add what the hunks' pre-images reveal of the file *before* the patch to `before`."""
    known = before or SparseFile()
    for i, h in enumerate(fd.hunks):
        func = hunk_functions[i] if i < len(hunk_functions) else None
        for j, text in enumerate(h.preimage()):
            ln = h.source_start + j
            known.lines.setdefault(ln, text)
            known.functions.setdefault(ln, func)
    return known

"""Apply one file's hunks to its text in memory, the way GNU patch does.

Hand-written on purpose: unidiff only parses diffs, and neither GitPython nor git itself
can apply a hunk to a string without a worktree or index. The placement rules follow
GNU patch (checked against the real `patch` binary by the property tests):

* each hunk is tried where it says it goes, shifted by the offset the earlier hunks of
  the file needed, then at offsets +1, -1, +2, -2, ... (nearest first, later first);
* a hunk whose leading (trailing) context is shorter than its trailing (leading) one
  sits at the start (end) of the file and must match there;
* if no offset matches, fuzz 1 then fuzz 2 ignore that many outer context lines
  (never more than the hunk has); ignored context lines keep the file's text;
* a hunk never moves above the region the previous hunk changed;
* a hunk that cannot be placed is skipped and the others still apply (`patch -f`),
  without GNU's "reversed patch" guess.

Lines compare exactly, end of line included, so a "\\ No newline at end of file" line
only matches the file's unterminated last line. In a CRLF file (first line ends in
CRLF) lines also match when only the CR differs, and added lines get CRLF, so the file
keeps its line endings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from series_tool.models import ApplyStatus, FileDiff, Hunk, HunkResult

#: GNU patch's default maximum fuzz.
MAX_FUZZ = 2

_RANK: dict[str, int] = {"clean": 0, "offset": 1, "fuzz": 2, "unknown": 3, "failed": 4}


def worst_status(statuses: list[ApplyStatus]) -> ApplyStatus:
    """The worst of several statuses: failed > unknown > fuzz > offset > clean."""
    worst: ApplyStatus = "clean"
    for s in statuses:
        if _RANK[s] > _RANK[worst]:
            worst = s
    return worst


class _FileLines:
    """A file's lines, each with its terminator, made only when asked for: a hunk is
    placed by comparing a few lines, and the lines it does not change are copied in runs
    (`run`), so a 5,000-line file is never split into 5,000 strings (see `split_lines`)."""

    def __init__(self, text: str) -> None:
        self._parts = text.split("\n")
        # A text ending in a newline splits into one more (empty) part than it has lines.
        self.count = len(self._parts) - 1 if self._parts[-1] == "" else len(self._parts)
        self._last = len(self._parts) - 1  # the part with no newline after it

    def __getitem__(self, i: int) -> str:
        """Line i (0-based), with its newline unless it is the unterminated last one."""
        part = self._parts[i]
        return part + "\n" if i < self._last else part

    def run(self, start: int, end: int) -> str:
        """The lines of the slice [start:end] joined, terminators included ("" when
        there are none); any bounds, as a slice of the list of lines takes them."""
        start, end, _ = slice(start, end).indices(self.count)
        if start >= end:
            return ""
        joined = "\n".join(self._parts[start:end])
        return joined + "\n" if end <= self._last else joined


def split_lines(text: str) -> list[str]:
    """Split on LF only, keeping each line's terminator (str.splitlines also splits on
    \\r, \\f, \\x1c, ... which are ordinary bytes inside a C line)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


@dataclass
class _Body:
    """A hunk in the form the locator needs: pattern (pre-image) with line ends."""

    ops: list[tuple[str, str]]  # (' ' | '-' | '+', line with its terminator)
    pattern: list[str]
    prefix: int  # context lines before the first change
    suffix: int  # context lines after the last change


def _body(hunk: Hunk, crlf: bool) -> _Body:
    ops: list[tuple[str, str]] = []
    lines = hunk.lines
    for i, ln in enumerate(lines):
        if ln.kind == "\\":
            continue
        no_eol = i + 1 < len(lines) and lines[i + 1].kind == "\\"
        eol = "" if no_eol else ("\r\n" if crlf and not ln.text.endswith("\r") else "\n")
        ops.append((ln.kind, ln.text + eol))
    pattern = [t for k, t in ops if k != "+"]
    prefix = 0
    while prefix < len(ops) and ops[prefix][0] == " ":
        prefix += 1
    suffix = 0
    while suffix < len(ops) - prefix and ops[len(ops) - 1 - suffix][0] == " ":
        suffix += 1
    return _Body(ops, pattern, prefix, suffix)


def _strip_cr(line: str) -> str:
    return line[:-2] + "\n" if line.endswith("\r\n") else line


class _Locator:
    """GNU patch's hunk placement over the original lines of one file."""

    def __init__(self, lines: _FileLines, crlf: bool) -> None:
        self.lines = lines
        self.n = lines.count
        self.eq: Callable[[str, str], bool]
        if crlf:
            self.eq = lambda a, b: a == b or _strip_cr(a) == _strip_cr(b)
        else:
            self.eq = str.__eq__

    def match(self, where: int, pattern: list[str], skip_head: int, skip_tail: int) -> bool:
        """Does `pattern` (minus the ignored outer lines) match at 1-based line `where`?"""
        lines, eq = self.lines, self.eq
        for i in range(skip_head, len(pattern) - skip_tail):
            li = where + i
            if li < 1 or li > self.n or not eq(lines[li - 1], pattern[i]):
                return False
        return True

    def locate(self, body: _Body, guess: int, first: int, frozen: int, fuzz: int) -> int | None:
        """The 1-based line where the hunk's pattern starts, or None."""
        pat = len(body.pattern)
        if pat == 0:
            return guess  # a pure insertion matches anywhere: trust the line number
        context = max(body.prefix, body.suffix)
        head = fuzz + body.prefix - context  # negative: hunk is anchored at the start
        tail = fuzz + body.suffix - context  # negative: hunk is anchored at the end
        max_where = self.n - (pat - tail) + 1
        min_where = frozen + 1
        up = max_where - guess  # largest offset downwards in the file
        down = guess - min_where  # largest offset upwards
        limit = max(up, down)
        if guess <= down:
            down = guess - 1  # never above line 1
        if head < 0 and first <= 1:
            # Less leading than trailing context at line 1: the start of the file.
            off = 1 - guess
            if frozen <= body.prefix and off <= up and self.match(1, body.pattern, 0, tail):
                return 1
            return None
        head = max(head, 0)
        if tail < 0:
            # Less trailing than leading context: the hunk ends at the end of the file.
            off = guess - (self.n - pat + 1)
            if off <= down and self.match(guess - off, body.pattern, head, 0):
                return guess - off
            return None
        # When the guess itself is out of range, start at the nearest in-range offset.
        start = guess - max_where if up < 0 else (guess - min_where if down < 0 else 0)
        for off in range(start, limit + 1):
            if off <= up and self.match(guess + off, body.pattern, head, tail):
                return guess + off
            if off <= down and self.match(guess - off, body.pattern, head, tail):
                return guess - off
        return None


def _hunk_results(fd: FileDiff, status: ApplyStatus, message: str) -> list[HunkResult]:
    """The same verdict for every hunk (or one file-level result when there are none)."""
    n = max(1, len(fd.hunks))
    return [HunkResult(fd.path, i, status, message=message) for i in range(n)]


def apply_file(content: str | None, fd: FileDiff) -> tuple[str | None, list[HunkResult]]:
    """Apply every hunk of `fd` to `content` (None: the file does not exist).

    Returns the new content (None when the file is deleted) and one HunkResult per
    hunk. A failed hunk leaves its part of the file unchanged; the others still apply.
    A failed deletion keeps the old content. Renames are the caller's business.
    """
    path = fd.path
    if fd.is_binary:
        return content, _hunk_results(fd, "unknown", f"{path}: binary diff, contents not applied")
    if content is None and not fd.is_new:
        return None, _hunk_results(fd, "failed", f"{path}: no such file in the tree")
    if content is not None and fd.is_new and content != "":
        return content, _hunk_results(fd, "failed", f"{path}: new file already exists")
    text = content or ""
    if not fd.hunks:
        if fd.is_deleted:
            if text:
                msg = f"{path}: file to delete is not empty but the patch removes no lines"
                return content, _hunk_results(fd, "failed", msg)
            return None, []
        return text, []

    new_text, results = _apply_raw(text, fd) if fd.unparsed else _apply_hunks(text, fd)
    if fd.is_deleted:
        if any(r.status == "failed" for r in results):
            return content, results
        if new_text:
            msg = f"{path}: file to delete still has content after the patch"
            results.append(HunkResult(path, len(fd.hunks) - 1, "failed", message=msg))
            return content, results
        return None, results
    return new_text, results


def _only(body: str, kind: str) -> str | None:
    """The text of a raw hunk body whose lines are all `kind` lines (a final "\\ No
    newline" line allowed), markers removed; None when other lines are there."""
    t = "\n" + body
    lines = body.count("\n")
    marks = t.count("\n\\")
    if t.count("\n" + kind) + marks != lines or marks > 1:
        return None
    if marks:
        cut = body.rfind("\n", 0, len(body) - 1)  # the newline before the marker line
        if cut < 0 or body[cut + 1 : cut + 2] != "\\":
            return None
        body = body[:cut]  # the last line has no newline
    return ("\n" + body).replace("\n" + kind, "\n")[1:]


def _apply_raw(text: str, fd: FileDiff) -> tuple[str, list[HunkResult]]:
    """Apply the raw hunks of a file diff over the per-file limit (`FileDiff.unparsed`).

    Creating a file (one hunk of added lines) and deleting one whole (one hunk of removed
    lines equal to the file) are done on the text at C speed, without an object per line;
    anything else reads the hunks' lines and applies them as usual.
    """
    if len(fd.hunks) == 1:
        h = fd.hunks[0]
        added = _only(h.body, "+") if h.source_length == 0 else None
        if added is not None and not text:
            return added, [HunkResult(fd.path, 0, "clean")]
        removed = _only(h.body, "-") if h.target_length == 0 else None
        if removed is not None and removed == text and h.source_start <= 1:
            return "", [HunkResult(fd.path, 0, "clean")]
    lined = replace(fd, hunks=[replace(h, lines=h.all_lines(), body="") for h in fd.hunks])
    return _apply_hunks(text, lined)


def _apply_hunks(text: str, fd: FileDiff) -> tuple[str, list[HunkResult]]:
    lines = _FileLines(text)
    crlf = lines.count > 0 and lines[0].endswith("\r\n")
    loc = _Locator(lines, crlf)
    out: list[str] = []
    frozen = 0  # original lines already copied to `out` or deleted
    in_offset = 0  # where hunks matched minus where they said (cumulative, like GNU)
    out_offset = 0  # output lines added minus removed so far (for messages)
    results: list[HunkResult] = []

    for idx, hunk in enumerate(fd.hunks):
        body = _body(hunk, crlf)
        first = hunk.source_start if body.pattern else hunk.source_start + 1
        maxfuzz = min(MAX_FUZZ, max(body.prefix, body.suffix))
        where: int | None = None
        fuzz = 0
        for fuzz in range(maxfuzz + 1):
            where = loc.locate(body, first + in_offset, first, frozen, fuzz)
            if where is not None:
                break
        where_msg = f"hunk {idx + 1} of {fd.path}"
        if where is None:
            near = first + out_offset
            msg = f"{where_msg}: context not found near line {near}"
            results.append(HunkResult(fd.path, idx, "failed", message=msg))
            continue
        # The first change must not fall inside what an earlier hunk already wrote.
        p = where
        first_change = None
        for kind, _ in body.ops:
            if kind == " ":
                p += 1
            else:
                first_change = p
                break
        if first_change is not None and first_change - 1 < frozen:
            msg = f"{where_msg}: overlaps the previous hunk at line {where}"
            results.append(HunkResult(fd.path, idx, "failed", message=msg))
            continue

        in_offset = where - first
        p = where
        for kind, line in body.ops:
            if kind == " ":
                p += 1
                continue
            if copied := lines.run(frozen, p - 1):  # copy up to the change
                out.append(copied)
            frozen = max(frozen, p - 1)
            if kind == "-":
                frozen = p
                p += 1
            else:
                out.append(line)
        out_offset += sum(1 for k, _ in body.ops if k == "+") - sum(
            1 for k, _ in body.ops if k == "-"
        )
        status: ApplyStatus = "fuzz" if fuzz else ("offset" if in_offset else "clean")
        msg = ""
        if status != "clean":
            msg = f"{where_msg}: applied at line {where}"
            if fuzz:
                msg += f" with fuzz {fuzz}"
            if in_offset:
                msg += f" (offset {in_offset} lines)"
        results.append(HunkResult(fd.path, idx, status, offset=in_offset, fuzz=fuzz, message=msg))

    if rest := lines.run(frozen, lines.count):
        out.append(rest)
    # A line written without its newline (old last line, or a '+' line marked "\ No
    # newline") gets one when anything follows it, as GNU patch does. `out` holds added
    # lines and runs of copied lines; inside a run every line has its newline (only the
    # file's last line can lack one, and it ends its run).
    for i in range(len(out) - 1):
        if not out[i].endswith("\n"):
            out[i] += "\n"
    return "".join(out), results

"""Diff text -> list[FileDiff], using unidiff for the parsing itself.

unidiff does the work; this module maps its objects onto :mod:`series_tool.models`, normalises
paths and, when unidiff rejects a diff, finds *which* hunk is wrong so the message can name
it ("hunk 2 of mm/foo.c: expected 16 lines, found 13") and keeps the files before it.

Paths: one leading ``a/`` ``b/`` or git mnemonic prefix (``i/ w/ c/ o/``) is stripped;
``/dev/null`` means "no such side". Quoted names follow git's C-style quoting
(``"b/A \\303\\242 B.py"``: backslash escapes, octal bytes decoded as UTF-8), and are unquoted
to ``A â B.py``.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from dataclasses import dataclass, field

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from series_tool.errors import BadInput
from series_tool.models import FileDiff, Hunk, HunkLine, HunkLineKind

_KINDS: dict[str, HunkLineKind] = {" ": " ", "-": "-", "+": "+", "\\": "\\"}
_PREFIXES = ("a/", "b/", "i/", "w/", "c/", "o/")
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FILE_START = re.compile(r"^(diff --git |Index: |=== (?:added|modified|removed|renamed) )")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_c_path(name: str) -> str:
    """Undo git's C-style quoting of a path (``"a/\\303\\242"`` -> ``a/â``)."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            octal = body[i + 1 : i + 4]
            if len(octal) == 3 and all(c in "01234567" for c in octal):
                out.append(int(octal, 8) & 0xFF)
                i += 4
                continue
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                i += 2
                continue
        out.extend(ch.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "replace")


def _side(name: str | None) -> str | None:
    if name is None or name == "/dev/null" or name == "":
        return None if name != "" else ""
    return unquote_c_path(name)


def _strip_prefixes(source: str | None, target: str | None) -> tuple[str | None, str | None]:
    """Strip one mnemonic prefix when every present side carries one (else a no-prefix diff)."""
    present = [p for p in (source, target) if p]
    if present and all(p[:2] in _PREFIXES for p in present):
        return (
            source[2:] if source else source,
            target[2:] if target else target,
        )
    return source, target


def _convert_file(pf: PatchedFile) -> FileDiff:
    source, target = _strip_prefixes(_side(pf.source_file), _side(pf.target_file))
    is_new = bool(pf.is_added_file)
    is_deleted = bool(pf.is_removed_file)
    info = [str(ln) for ln in pf.patch_info or []]
    if any(ln.startswith("diff --git ") for ln in info):
        # git says so explicitly (/dev/null, "new file mode", "deleted file mode"):
        # unidiff's range heuristic would take a -U0 insertion at the top of a file
        # (@@ -0,0 +1 @@) for a new file, and a diff that empties a file for a deletion.
        is_new = pf.source_file == "/dev/null" or any(ln.startswith("new file mode") for ln in info)
        is_deleted = pf.target_file == "/dev/null" or any(
            ln.startswith("deleted file mode") for ln in info
        )
    # bzr/svn name both sides even for additions and deletions; trust unidiff's verdict.
    src = None if is_new else source
    tgt = None if is_deleted else target
    path = tgt if tgt is not None else (src or "")
    hunks = []
    for h in pf:
        lines = []
        for ln in h:
            kind = _KINDS.get(ln.line_type)
            if kind is None:
                continue  # unidiff's "" type: blank lines between files, not hunk lines
            text = ln.value[:-1] if ln.value.endswith("\n") else ln.value
            lines.append(HunkLine(kind, text, ln.source_line_no, ln.target_line_no))
        hunks.append(
            Hunk(
                source_start=h.source_start,
                source_length=h.source_length,
                target_start=h.target_start,
                target_length=h.target_length,
                section=h.section_header or "",
                lines=lines,
            )
        )
    return FileDiff(
        path=path,
        source_path=src,
        target_path=tgt,
        is_new=is_new,
        is_deleted=is_deleted,
        # unidiff calls any name change a rename, so `--- /old` `+++ /new` in a plain diff
        # would be one; only git's explicit "rename from" header makes a rename.
        is_rename=bool(pf.is_rename)
        and any(str(ln).startswith("rename from ") for ln in pf.patch_info or []),
        is_binary=bool(pf.is_binary_file),
        hunks=hunks,
    )


@dataclass(frozen=True)
class _Fault:
    file_start: int  # line index where the faulty file's header starts
    message: str


def _file_name_at(lines: list[str], start: int, end: int) -> str:
    """The best name for the file whose header spans lines[start:end]."""
    name = ""
    for ln in lines[start:end]:
        if ln.startswith("+++ ") or ln.startswith("--- "):
            cand = ln[4:].split("\t")[0].strip()
            if cand and cand != "/dev/null":
                name = cand
        elif ln.startswith("diff --git ") and not name:
            name = ln[len("diff --git ") :].split(" ")[-1]
        elif ln.startswith("Index: ") and not name:
            name = ln[len("Index: ") :].strip()
    src, _ = _strip_prefixes(unquote_c_path(name), None)
    return src or name or "diff"


def _locate_fault(lines: list[str]) -> _Fault | None:
    """Walk the hunks the way a patch applier does and report the first inconsistent one.

    unidiff only says "Hunk is shorter than expected"; people need the file and hunk number
    and the counts, so this re-counts (a few lines of arithmetic, not a second parser).
    """
    file_start = 0
    header_end = 0
    hunk_no = 0
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _FILE_START.match(line) or (
            line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ ")
        ):
            # A "--- " right after a "diff --git"/"Index:" header belongs to the same file.
            if not (line.startswith("--- ") and hunk_no == 0 and i - file_start < 8):
                file_start = i
                hunk_no = 0
            i += 2 if line.startswith("--- ") else 1
            header_end = i
            continue
        m = _HUNK_HEADER.match(line)
        if not m:
            i += 1
            continue
        hunk_no += 1
        header_end = max(header_end, file_start + 1)
        want_src = int(m.group(2)) if m.group(2) is not None else 1
        want_tgt = int(m.group(4)) if m.group(4) is not None else 1
        src = tgt = body = 0
        i += 1
        while i < n and (src < want_src or tgt < want_tgt):
            ln = lines[i]
            kind = ln[:1]
            if kind == " " or ln == "":
                src += 1
                tgt += 1
            elif kind == "-" and not ln.startswith("--- "):
                src += 1
            elif kind == "+" and not ln.startswith("+++ "):
                tgt += 1
            elif kind == "\\":
                pass
            else:
                break
            body += 1
            i += 1
        name = _file_name_at(lines, file_start, header_end)
        if src < want_src or tgt < want_tgt:
            expected = body + max(want_src - src, want_tgt - tgt)
            return _Fault(
                file_start, f"hunk {hunk_no} of {name}: expected {expected} lines, found {body}"
            )
        if src > want_src or tgt > want_tgt:
            return _Fault(
                file_start,
                f"hunk {hunk_no} of {name}: expected {want_src} old and {want_tgt} new lines,"
                f" found {src} and {tgt}",
            )
        extra = 0
        while (
            i + extra < n
            and lines[i + extra][:1] in ("-", "+", " ")
            and not (lines[i + extra].startswith(("--- ", "+++ ")))
        ):
            extra += 1
        if extra:
            # Hunk-body lines after the counts are used up: the hunk is longer than declared.
            return _Fault(
                file_start,
                f"hunk {hunk_no} of {name}: expected {body} lines, found {body + extra}",
            )
    return None


#: a hunk header number longer than this is junk: no file has a billion lines, and
#: int() (in unidiff too) refuses numbers of more than 4,300 digits with a ValueError
_MAX_LINE_DIGITS = 9
#: A hunk header's numbers (old start, old count, new start, new count).
_HUNK_NUMBERS = r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@"
_ANY_HUNK_HEADER = re.compile("^" + _HUNK_NUMBERS)


def _long_number(hunk_no: int, name: str, longest: int) -> str:
    """What is wrong with a hunk header holding a number too long to be a line number."""
    return f"hunk {hunk_no} of {name}: a line number of {longest} digits in its @@ header"


def _huge_line_number(lines: list[str]) -> _Fault | None:
    """The first hunk whose ``@@`` header holds a number too large to be a line number."""
    file_start = 0
    hunk_no = 0
    for i, line in enumerate(lines):
        if line[:1] not in ("@", "d", "I", "=", "-"):
            continue
        if _FILE_START.match(line) or (
            line.startswith("--- ")
            and i + 1 < len(lines)
            and lines[i + 1].startswith("+++ ")
            and not (hunk_no == 0 and i - file_start < 8)
        ):
            file_start, hunk_no = i, 0
            continue
        m = _ANY_HUNK_HEADER.match(line)
        if not m:
            continue
        hunk_no += 1
        longest = max(len(g) for g in m.groups() if g is not None)
        if longest > _MAX_LINE_DIGITS:
            name = _file_name_at(lines, file_start, i)
            return _Fault(
                file_start,
                _long_number(hunk_no, name, longest),
            )
    return None


def _patchset(text: str) -> PatchSet:
    return PatchSet(text)


# --------------------------------------------------------------------------- oversized files

#: One file's diff larger than this (a generated 200 MB table, a hostile patch) is not
#: modelled line by line: its hunks keep their raw text (`Hunk.body`), replay applies
#: that text, and references in the file are found by text only. A real source file's
#: diff is far smaller (the kernel's largest .c file is under 1 MB).
MAX_FILE_DIFF_BYTES = 16 * 1024 * 1024
#: the environment variable that sets another per-file limit (in bytes)
FILE_DIFF_LIMIT_ENV = "SERIES_TOOL_MAX_FILE_DIFF_BYTES"

# Each starts with the newline before its line: the regex engine scans for that one
# character fast, where a ``^`` with re.M is tried at every position of 200 MB.
_GIT_FILE = re.compile(r"\ndiff --git ")
_HUNK_AT = re.compile("\n" + _HUNK_NUMBERS + r"[ ]?([^\n]*)")
_NOT_HUNK_LINE = re.compile(r"\n[^ +\-\\\n]")
_LONG = _MAX_LINE_DIGITS + 1
_LONG_NUMBER = re.compile(rf"\n@@ -(?:[\d,]*\d{{{_LONG}}}|[\d,]* \+[\d,]*\d{{{_LONG}}})")


def file_diff_limit() -> int:
    """The per-file diff limit in bytes: `MAX_FILE_DIFF_BYTES`, unless the environment
    variable `FILE_DIFF_LIMIT_ENV` holds another (a positive integer)."""
    raw = os.environ.get(FILE_DIFF_LIMIT_ENV, "")
    return (
        int(raw) if raw.isdigit() and 0 < len(raw) <= 12 and int(raw) > 0 else MAX_FILE_DIFF_BYTES
    )


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n} bytes"


def _sections(text: str) -> list[tuple[int, int]]:
    """(start, end) of each file's diff, cut at its ``diff --git`` line (which no hunk
    line can look like); text before the first one is a section of its own."""
    starts = [m.start() + 1 for m in _GIT_FILE.finditer(text)]
    return list(itertools.pairwise([0, *starts, len(text)]))


def _counts(body: str) -> tuple[int, int]:
    """(pre-image lines, post-image lines) of a hunk body whose every line is a hunk line
    (an empty line is context, as unidiff reads it)."""
    t = "\n" + body
    plus, minus, marks = t.count("\n+"), t.count("\n-"), t.count("\n\\")
    context = body.count("\n") - plus - minus - marks  # " " lines and empty lines
    return context + minus, context + plus


_NO_NEWLINE = "\\ No newline at end of file"


def _walk_hunk(body: str, want_src: int, want_tgt: int, last: bool) -> tuple[str, str | None]:
    """The part of `body` that is the hunk, read line by line as unidiff reads it (the
    irregular cases), and what is wrong (None: nothing).

    The hunk ends where its counts are met; after that, empty lines are dropped and
    "\\ No newline" lines belong to it; any other text ends the file's hunks, which is an
    error when another hunk follows (`last` is False).
    """
    pos = src = tgt = 0
    started = False  # unidiff reads one line even for a hunk of no lines
    while not started or src < want_src or tgt < want_tgt:
        started = True
        if pos >= len(body):
            if src == want_src and tgt == want_tgt and last:
                break
            return "", f"expected {want_src} old and {want_tgt} new lines, found {src} and {tgt}"
        end = body.find("\n", pos)
        kind = body[pos] if pos < end else " "
        if kind == " ":
            src, tgt = src + 1, tgt + 1
        elif kind == "-":
            src += 1
        elif kind == "+":
            tgt += 1
        elif kind != "\\":
            return "", f"a line that is no hunk line after {src} old and {tgt} new lines"
        pos = end + 1
        if src > want_src or tgt > want_tgt:
            return "", f"expected {want_src} old and {want_tgt} new lines, found more"
    core = body[:pos]
    junk = False  # text after the hunk: unidiff reads it as the header of what follows
    while pos < len(body):
        end = body.find("\n", pos)
        line = body[pos:end]
        if junk and line.startswith((_NO_NEWLINE, "--- ", "+++ ")):
            return "", "text after it that is no hunk line"
        if line.startswith(_NO_NEWLINE):
            core += line + "\n"
        elif line:
            junk = True
        pos = end + 1
    return core, "text after it that is no hunk line" if junk and not last else None


def _bulk_hunk(m: re.Match[str], body: str, name: str, number: int, last: bool) -> Hunk | str:
    """The hunk of header `m` with its raw `body` (up to the next header), or what is wrong.

    A regular body (hunk lines only, as many as the header says, then perhaps empty
    lines) is checked with string counts; anything else is walked line by line.
    """
    longest = max(len(g) for g in m.groups()[:4] if g is not None)
    if longest > _MAX_LINE_DIGITS:
        return _long_number(number, name, longest)
    want_src = int(m.group(2)) if m.group(2) is not None else 1
    want_tgt = int(m.group(4)) if m.group(4) is not None else 1
    if body.endswith("\n") and not body.endswith("\n\n") and body != "\n":
        core = body  # no empty lines after the hunk (the usual case): no copy
    else:
        core = body.rstrip("\n") + "\n" if body.strip("\n") else ""
    tail_at = core.rfind("\n", 0, len(core) - 1) + 1  # the last line
    regular = (
        (want_src or want_tgt)
        and _NOT_HUNK_LINE.search("\n" + core[:1]) is None
        and _NOT_HUNK_LINE.search(core) is None
        and _counts(core) == (want_src, want_tgt)
        and (core[tail_at : tail_at + 1] != "\\" or core.startswith(_NO_NEWLINE, tail_at))
        and core.count("\n\\") <= 1
    )
    if not regular:
        core, error = _walk_hunk(body, want_src, want_tgt, last)
        if error is not None:
            return f"hunk {number} of {name}: {error}"
    return Hunk(
        source_start=int(m.group(1)),
        source_length=want_src,
        target_start=int(m.group(3)),
        target_length=want_tgt,
        section=m.group(5) or "",
        body=core,
    )


def _bulk_file(section: str, limit: int) -> tuple[FileDiff | None, str | None]:
    """One oversized file's diff with its hunks as raw text (see `MAX_FILE_DIFF_BYTES`):
    the file, or None when its header is not one file's; and what is wrong with it.

    Only the header goes through unidiff; the hunk bodies are checked against their
    headers' counts with string counts, at C speed and without an object per line.
    """
    first = _HUNK_AT.search(section)
    if first is None or not section.endswith("\n"):
        return None, None
    try:
        pfs = _patchset(section[: first.start() + 1])
    except (UnidiffParseError, ValueError):
        return None, None
    if len(pfs) != 1:
        return None, None
    fd = _convert_file(pfs[0])
    headers = list(_HUNK_AT.finditer(section, first.start()))
    for i, m in enumerate(headers):
        end = headers[i + 1].start() + 1 if i + 1 < len(headers) else len(section)
        hunk = _bulk_hunk(m, section[m.end() + 1 : end], fd.path, i + 1, i + 1 == len(headers))
        if isinstance(hunk, str):
            return None, hunk
        fd.hunks.append(hunk)
    fd.unparsed = (
        f"{fd.path}: file too large to parse (its diff is {_size(len(section))}, limit"
        f" {_size(limit)}):"
        " its lines are not modelled one by one, references in it are found by text only"
    )
    return fd, None


def _parse_oversized(
    text: str, where: str, mime_part: bool, limit: int
) -> tuple[list[FileDiff], str | None] | None:
    """Parse `text` when some file's diff in it is over `limit` (None when none is):
    the ordinary files through unidiff, the oversized ones as raw hunks."""
    sections = _sections(text)
    if all(end - start <= limit for start, end in sections):
        return None
    files: list[FileDiff] = []
    run = 0  # start of the ordinary files not parsed yet
    for start, end in sections:
        if end - start <= limit:
            continue
        if run < start:
            got, error = _parse_diff_partial(text[run:start], where)
            files += got
            if error is not None:
                return files, error
        fd, error = _bulk_file(text[start:end], limit)
        if fd is None and error is None:  # not one file's git diff: unidiff reads it
            got, error = _parse_diff_partial(text[start:end], where, mime_part)
            files += got
        elif fd is not None:
            files.append(fd)
        if error is not None:
            return files, error
        run = end
    if run < len(text):
        got, error = _parse_diff_partial(text[run:], where, mime_part)
        return files + got, error
    return files, None


def parse_diff_partial(
    text: str, where: str, mime_part: bool = False, limit: int | None = None
) -> tuple[list[FileDiff], str | None]:
    """The files of `text`, and what is wrong with it (see `_parse_diff_partial`).

    A file whose diff is over `limit` bytes (default `file_diff_limit()`) keeps its hunks
    as raw text and says so in `FileDiff.unparsed`.
    """
    return _parse_diff_partial(
        text, where, mime_part, file_diff_limit() if limit is None else limit
    )


def _parse_diff_partial(
    text: str, where: str, mime_part: bool = False, limit: int | None = None
) -> tuple[list[FileDiff], str | None]:
    """Parse ``text``; on a malformed diff return the files before the fault and a message.

    Never raises for a malformed diff: the message is what :func:`parse_diff` would raise.
    ``mime_part`` says the diff ended at a MIME boundary, which may have eaten the last
    (blank) context line; then up to two missing blank lines are tolerated. With a
    `limit`, files whose diff is larger are read by `_parse_oversized`.
    """
    if limit is not None and len(text) > limit:
        got = _parse_oversized(text, where, mime_part, limit)
        if got is not None:
            return got
    long = _LONG_NUMBER.search("\n" + text[:4096]) or _LONG_NUMBER.search(text)
    huge = _huge_line_number(text.split("\n")) if long else None
    if huge is not None:
        head = "\n".join(text.split("\n")[: huge.file_start])
        try:
            files = [_convert_file(pf) for pf in _patchset(head + "\n" if head else "")]
        except (UnidiffParseError, ValueError):
            files = []
        return files, huge.message
    try:
        return [_convert_file(pf) for pf in _patchset(text)], None
    except (UnidiffParseError, ValueError) as exc:
        trimmed = text.rstrip("\n") + "\n"
        if trimmed != text:
            # Blank lines after the diff (mail bodies often end so) are not hunk lines.
            try:
                return [_convert_file(pf) for pf in _patchset(trimmed)], None
            except (UnidiffParseError, ValueError):
                pass
        for pad in (1, 2) if mime_part and text.endswith("\n") else ():
            # Mailers trim a trailing " " context line to "", and the MIME boundary owns
            # the CRLF before it (RFC 2046): the last hunk ends a blank line short.
            try:
                return [_convert_file(pf) for pf in _patchset(text + "\n" * pad)], None
            except (UnidiffParseError, ValueError):
                continue
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline ending the last line does not start another one
        fault = _locate_fault(lines)
        if fault is None:
            # unidiff quotes the offending line with its newline; the message is one line.
            return [], "malformed diff: " + " ".join(str(exc).split())
        head = "\n".join(lines[: fault.file_start])
        try:
            files = [_convert_file(pf) for pf in _patchset(head + "\n" if head else "")]
        except (UnidiffParseError, ValueError):
            files = []
        return files, fault.message


def parse_diff(text: str, where: str) -> list[FileDiff]:
    """Parse a unified diff (git, hg, bzr, svn, plain) into :class:`FileDiff` objects.

    Raises :class:`BadInput` ``(where, "hunk N of FILE: expected X lines, found Y")`` when
    a hunk disagrees with its header or is truncated.
    """
    files, error = parse_diff_partial(text, where)
    if error is not None:
        raise BadInput(where, error)
    return files


# --------------------------------------------------------------------------- net diffstat

# A file is tracked as a list of items: ("g", n) n unknown original lines, ("o", text) a
# known original line, ("n", text) a line added by the series, ("d", text) a tombstone for
# a deleted original line (occupies no position; kept so the net diff can pair it up).
_Item = tuple[str, int, str]
_UNKNOWN_TAIL = 1 << 40


@dataclass(frozen=True)
class DiffStat:
    """What ``git diff --stat base..tip`` would print for a whole series.

    ``problems`` names the hunks that did not compose with the patches before them (a hunk
    beyond the end of a file an earlier patch created, say); the counts then leave those
    files out, so they are a lower bound and not git's numbers.
    """

    files: list[str]
    insertions: int
    deletions: int
    problems: list[str] = field(default_factory=list)


def _live(item: _Item) -> int:
    kind, n, _ = item
    return n if kind == "g" else (0 if kind == "d" else 1)


def _boundary(items: list[_Item], pos: int) -> int:
    """Index of the first item at live position ``pos`` (splitting a gap if needed)."""
    if pos < 0:
        raise ValueError("hunk before the start of the file")
    seen = 0
    for i, item in enumerate(items):
        width = _live(item)
        if seen == pos and width:
            return i
        if seen + width > pos:  # only a gap is wider than one line
            before = pos - seen
            items[i : i + 1] = [("g", before, ""), ("g", width - before, "")]
            return i + 1
        seen += width
    if seen != pos:
        raise ValueError("hunk beyond the end of the file")
    return len(items)


def _apply_hunk(items: list[_Item], hunk: Hunk) -> None:
    start = hunk.source_start if hunk.source_length == 0 else hunk.source_start - 1
    lo = _boundary(items, start)
    hi = _boundary(items, start + hunk.source_length)
    # Splitting at hi never moves the items before it, so lo stays valid.
    region = items[lo:hi]
    out: list[_Item] = []
    idx = 0

    def next_live() -> _Item:
        nonlocal idx
        while idx < len(region) and _live(region[idx]) == 0:
            out.append(region[idx])  # keep earlier tombstones in their place
            idx += 1
        if idx >= len(region):
            raise ValueError("hunk runs past its pre-image")
        item = region[idx]
        idx += 1
        if item[0] == "g":  # one unknown line; the rest of the gap goes back
            if item[1] > 1:
                region.insert(idx, ("g", item[1] - 1, ""))
            return ("o", 0, "")
        return item

    for ln in hunk.lines:
        if ln.kind == " ":
            item = next_live()
            out.append((item[0], 0, ln.text))
        elif ln.kind == "-":
            item = next_live()
            if item[0] == "o":
                out.append(("d", 0, ln.text))
            # removing a line the series added earlier: it simply disappears
        elif ln.kind == "+":
            out.append(("n", 0, ln.text))
    out.extend(region[idx:])
    items[lo:hi] = out


def _net_counts(items: list[_Item]) -> tuple[int, int]:
    """Pair deleted originals with added lines between the same anchors, as a diff would."""
    ins = dels = 0
    before: list[str] = []
    after: list[str] = []

    def flush() -> None:
        nonlocal ins, dels
        if len(before) <= 1 and len(after) <= 1:
            # One line at most on each side (a series' typical change): equal, or one
            # deleted and one added, as the matcher would say.
            same = before == after
            dels += 0 if same else len(before)
            ins += 0 if same else len(after)
        else:
            sm = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
            for tag, a1, a2, b1, b2 in sm.get_opcodes():
                if tag != "equal":
                    dels += a2 - a1
                    ins += b2 - b1
        before.clear()
        after.clear()

    for kind, _, text in items:
        if kind == "d":
            before.append(text)
        elif kind == "n":
            after.append(text)
        elif before or after:
            flush()
    if before or after:
        flush()
    return ins, dels


def series_diffstat(patches: list[list[FileDiff]], labels: list[str] | None = None) -> DiffStat:
    """Net diffstat of applying the patches in order (like ``git diff --stat base..tip``).

    Patches of a series are cut against each other's results, so their hunk positions are
    exact; composing them line by line needs no tree. Lines added by one patch and removed
    by a later one cancel out, which is why this differs from summing each patch's stat.

    Never raises: a hunk that does not fit what the earlier patches left (the series is
    inconsistent, or a patch is missing) is named in ``DiffStat.problems`` (with
    ``labels[i]`` for the i-th patch) and its file is left out of the counts.
    """
    state: dict[str, list[_Item] | None] = {}  # None: a file that stopped composing
    origin: dict[str, str | None] = {}  # current path -> its path at the base (None: new)
    deleted: set[str] = set()  # paths the series deleted (and did not create again)
    # Files git's --stat lists with no line counted: a mode change, a binary change, an
    # empty file created or deleted. Their diffs carry no hunk; hunk-less diffs of plain
    # files are exactly these (a rename is recognised by its paths instead).
    hunkless: set[str] = set()
    problems: list[str] = []
    for n, files in enumerate(patches):
        label = labels[n] if labels is not None and n < len(labels) else f"patch #{n + 1}"
        for fd in files:
            src = fd.source_path or fd.path
            items: list[_Item] | None
            if src in state:
                # Also for a "new" file: one the series deleted (or emptied, which unidiff
                # calls a deletion too) and now creates again. Continuing from what the
                # deletion left pairs old lines with new ones, as git diff base..tip does.
                items = state.pop(src)
                base = origin.pop(src)
                was_hunkless = src in hunkless
                hunkless.discard(src)
                deleted.discard(src)
            else:
                items = [] if fd.is_new else [("g", _UNKNOWN_TAIL, "")]
                base = None if fd.is_new else src
                was_hunkless = False
            if items is not None:
                for h in sorted(fd.hunks, key=lambda h: h.source_start, reverse=True):
                    try:
                        _apply_hunk(items, h)
                    except ValueError as exc:
                        problems.append(
                            f"{label}: hunk @@ -{h.source_start},{h.source_length} @@ of"
                            f" {fd.path} does not fit the file the patches before it left"
                            f" ({exc})"
                        )
                        items = None
                        break
            if items is not None and fd.is_deleted:
                # Nothing of a deleted file is left, not even the lines no hunk showed.
                items = [it for it in items if it[0] != "g"]
            state[fd.path] = items
            origin[fd.path] = base
            if fd.is_deleted:
                deleted.add(fd.path)
            if was_hunkless or (not fd.hunks and not fd.is_rename) or fd.is_binary:
                hunkless.add(fd.path)
    ins = dels = 0
    changed: list[str] = []
    for path, file_items in state.items():
        base = origin[path]
        if base is None and path in deleted:
            continue  # created and deleted again inside the series: git never sees it
        if file_items is None:
            changed.append(path)  # changed, by how much is unknown
            continue
        i, d = _net_counts(file_items)
        # A file the series creates or deletes, renames, or changes without lines (mode,
        # binary) is one of git's "N files changed" even with no line counted.
        if i or d or base != path or path in deleted or path in hunkless:
            changed.append(path)
        ins += i
        dels += d
    return DiffStat(sorted(changed), ins, dels, problems)

"""Read a SOURCE (mbox, gzip mbox, Maildir, patch directory, single mail, stdin) into raw messages.

mbox splitting follows ``git mailsplit`` rather than :mod:`mailbox`: a separator is only a
``From <addr-or-word> <date>`` line whose date carries a clock time and a year, so a body line
such as ``From not mangled but ...`` does not start a new message (``mailbox.mbox`` splits
there, which is wrong). mboxrd is detected by a ``From mboxrd@z`` separator (public-inbox,
lore) or by any ``>>From `` line (only mboxrd writers produce a doubly quoted From); in mboxrd
exactly one ``>`` is removed from ``>+From `` lines, in mboxo nothing is unescaped.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from series_tool.errors import BadInput

# "From <word> ... hh:mm[:ss] ... year": the clock time and a year are what tell a real
# separator from prose that happens to start with "From ".
_FROM_LINE = re.compile(rb"^From \S+ .*\d:\d\d(?::\d\d)?(?: +[A-Za-z+-]\S*)? +\d{4}\s*$")
# Each starts with the newline before its line (the regex engine scans for that one
# byte fast; a ``^`` with re.M is tried at every position of a 200 MB message); the
# first line is tried alone.
_MBOXRD_SEP = re.compile(rb"\nFrom mboxrd@z ")
_DOUBLE_QUOTED_FROM = re.compile(rb"\n>>+From ")
_FIRST_LINE = re.compile(rb"[\r\n]*([^\n]*)")
_MBOX_START = re.compile(rb"[\r\n\t ]*From ")
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_GZIP_MAGIC = b"\x1f\x8b"
#: refuse to inflate more than this (gzip bombs): 256 MiB of mail is ten times lore's
#: largest thread downloads, and inflating stops there instead of filling memory first
MAX_GZIP = 256 << 20
_GZIP_CHUNK = 1 << 20


@dataclass(frozen=True)
class RawMessage:
    """One message's bytes and where it came from (for error messages)."""

    data: bytes
    where: str  # e.g. "series.mbox: message 3"
    index: int  # 0-based position in the source


def is_from_line(line: bytes) -> bool:
    """Whether ``line`` is a valid mbox separator (``From <addr> <date>``), as git mailsplit."""
    return line.startswith(b"From ") and _FROM_LINE.match(line.rstrip(b"\r\n")) is not None


def is_mboxrd(data: bytes) -> bool:
    """Guess mboxrd: a ``From mboxrd@z`` separator or a ``>>From`` line (see module doc)."""
    head = b"\n" + data[:4096]
    return any(p.match(head) or p.search(data) for p in (_MBOXRD_SEP, _DOUBLE_QUOTED_FROM))


#: one line as ``bytes.splitlines(keepends=True)`` cuts it (LF, CRLF or a lone CR ends it)
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r)?")


def _line_at(data: bytes, pos: int) -> bytes:
    m = _LINE.match(data, pos)
    return m.group() if m else b""


def split_mbox(data: bytes, mboxrd: bool | None = None) -> list[bytes]:
    """Split mbox bytes into messages (separator lines dropped).

    Leading blank lines are skipped. When the data does not start with a separator it is a
    single bare RFC 822 message. ``mboxrd=None`` means detect. Only the lines starting
    with ``From `` are looked at, so a message of a million lines costs no object per line.
    """
    if mboxrd is None:
        mboxrd = is_mboxrd(data)
    start = 0
    while start < len(data) and not (first := _line_at(data, start)).strip():
        start += len(first)
    if start >= len(data):
        return []
    first = _line_at(data, start)
    second = start + len(first)
    lax_first = (
        first.startswith(b"From ")
        and second < len(data)
        and _HEADER_LINE.match(_line_at(data, second)) is not None
    )
    if not is_from_line(first) and not lax_first:
        return [data[start:]]
    messages: list[bytes] = []
    body: int | None = None  # where the current message starts (after its separator)
    at = data.find(b"From ", start)
    while at >= 0:
        # The first line is a separator even when its date is garbled (mbox writers that
        # drop the date); later ones must be valid, or body text would split messages.
        line = _line_at(data, at)
        if at == start or (data[at - 1 : at] in (b"\n", b"\r") and is_from_line(line)):
            if body is not None:
                messages.append(data[body:at])
            body = at + len(line)
        at = data.find(b"From ", at + 5)
    if body is not None:
        messages.append(data[body:])
    if mboxrd:
        messages = [_QUOTED_FROM.sub(rb"\1", m) for m in messages]
    return messages


def _decompress(data: bytes, where: str, limit: int = MAX_GZIP) -> bytes:
    """Inflate gzip data (concatenated members too), at most ``limit`` bytes of it.

    Inflates a megabyte at a time and stops as soon as the output passes the limit, so a
    gzip bomb costs ``limit`` bytes of memory, not what it would inflate to.
    """
    out = bytearray()
    rest = data
    try:
        while True:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = d.decompress(rest, _GZIP_CHUNK)
            while True:
                out += chunk
                if len(out) > limit:
                    raise BadInput(
                        where, f"gzip data inflates to more than {limit >> 20} MiB; refused"
                    )
                if d.eof or not d.unconsumed_tail:
                    break
                chunk = d.decompress(d.unconsumed_tail, _GZIP_CHUNK)
            if not d.eof:
                # zlib stops quietly at the end of the input: a cut-off download looks
                # complete.
                raise BadInput(where, "truncated gzip data (the stream ends before its end marker)")
            rest = d.unused_data
            # Concatenated gzip members (allowed by the format); trailing zero padding is not one.
            if not rest.strip(b"\0"):
                return bytes(out)
    except zlib.error as exc:
        raise BadInput(where, f"corrupt gzip data: {exc}") from None


def _check_message(msg: bytes, where: str, in_mbox: bool) -> None:
    """Reject data that is not mail, or a message cut off inside its header block."""
    if in_mbox and msg.startswith((b"\n", b"\r\n")):
        return  # an mbox entry with an empty header block (git mailsplit accepts it)
    m = _FIRST_LINE.match(msg)  # the first line after leading newlines (no copy of msg)
    first = m.group(1) if m else b""
    if not _HEADER_LINE.match(first):
        raise BadInput(where, "not a mail message (no headers)")
    if b"\n\n" not in msg and b"\r\n\r\n" not in msg and not msg.endswith(b"\n"):
        raise BadInput(where, "truncated message (it ends inside the header block)")


def split_bytes(
    data: bytes, name: str, first_index: int = 0, notes: list[str] | None = None
) -> list[RawMessage]:
    """Turn the bytes of one file (mbox, gzip mbox or single mail) into checked messages.

    In an mbox of several messages a damaged one (no headers, cut off inside them) is
    skipped, with a note naming it appended to ``notes``, as b4 reads such mboxes; only
    when no message is left is it an error (:class:`BadInput`, naming the first).
    """
    if data.startswith(_GZIP_MAGIC):
        data = _decompress(data, name)
    if not data or data.isspace():
        raise BadInput(name, "empty input")
    parts = split_mbox(data)
    in_mbox = _MBOX_START.match(data) is not None
    out: list[RawMessage] = []
    first_error: BadInput | None = None
    for i, part in enumerate(parts):
        where = f"{name}: message {i + 1}" if len(parts) > 1 else name
        try:
            _check_message(part, where, in_mbox)
        except BadInput as exc:
            if len(parts) == 1:
                raise
            first_error = first_error or exc
            if notes is not None:
                notes.append(f"skipped {exc.where}: {exc.message}")
            continue
        out.append(RawMessage(part, where, first_index + len(out)))
    if not out:
        raise first_error or BadInput(name, "empty input")
    return out


def _read_file(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(where, exc.strerror or str(exc)) from None


_MAILDIR_FIELD = re.compile(r"([A-Z#])(\d+)")


def maildir_key(name: str) -> tuple[int, int, int, tuple[tuple[str, int], ...], str]:
    """Delivery order of a Maildir file name ``SECS.UNIQUE.HOST[:2,FLAGS]``.

    The leading seconds and UNIQUE's ``M<microseconds>`` field give the delivery time; they
    must compare as numbers (``999999999`` is before ``1000000000``, ``M99`` before
    ``M100``), which sorting names as strings gets wrong. UNIQUE's other fields (``P<pid>``,
    ``Q<count>``, ``R``, ``I``, ``V``, ``#``) and the old ``PID`` / ``PID_N`` forms break
    ties; a name that does not follow the convention sorts after the rest, by name.
    """
    parts = name.split(":", 1)[0].split(".", 2)
    if len(parts) < 2 or not parts[0].isdigit():
        return (1, 0, 0, (), name)
    usec = 0
    fields: list[tuple[str, int]] = []
    unique = parts[1]
    if re.fullmatch(r"\d+(?:_\d+)?", unique):
        fields = [("P", int(n)) for n in unique.split("_")]  # old style: PID or PID_N
    else:
        for letter, digits in _MAILDIR_FIELD.findall(unique):
            if letter == "M":
                usec = int(digits)
            else:
                fields.append((letter, int(digits)))
    return (0, int(parts[0]), usec, tuple(fields), name)


def _maildir_files(path: Path) -> list[Path] | None:
    subdirs = [path / d for d in ("cur", "new")]
    if not any(d.is_dir() for d in subdirs):
        return None
    files: list[Path] = []
    for d in subdirs:
        if d.is_dir():
            files.extend(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
    # Delivery order, so that "keep the last resend" keeps the one delivered last.
    return sorted(files, key=lambda p: maildir_key(p.name))


#: BadInput messages that say a file is not mail at all (as opposed to broken mail)
_NOT_MAIL = ("not a mail message", "empty input")


def _read_directory(path: Path, source: str, notes: list[str]) -> list[RawMessage]:
    files = _maildir_files(path)
    if files is None:
        # A `git format-patch -o` directory: NNNN-*.patch sort into series order by name.
        files = sorted(
            (p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")),
            key=lambda p: p.name,
        )
    if not files:
        raise BadInput(source, "directory holds no mail files")
    out: list[RawMessage] = []
    for f in files:
        where = f"{source}/{f.relative_to(path)}"
        try:
            out.extend(split_bytes(_read_file(f, where), where, len(out), notes))
        except BadInput as exc:
            # A NOTES or README beside the patches is not a reason to reject them all;
            # broken mail (truncated headers, bad gzip) still is.
            if not exc.message.startswith(_NOT_MAIL):
                raise
            notes.append(f"skipped {where}: {exc.message}")
    if not out:
        raise BadInput(source, f"directory holds no mail files ({len(files)} other files)")
    return out


def read_source(source: str, stdin: BinaryIO | None = None) -> list[RawMessage]:
    """Read SOURCE into raw messages in source order (see :func:`read_source_notes`)."""
    return read_source_notes(source, stdin)[0]


def read_source_notes(
    source: str, stdin: BinaryIO | None = None
) -> tuple[list[RawMessage], list[str]]:
    """Read SOURCE into raw messages in source order, and notes on what was skipped.

    ``source`` is a file (mbox, mboxrd, gzip mbox, one bare mail), a Maildir, a directory of
    patch files, or ``-`` for ``stdin``. In a directory, files that are not mail (a NOTES
    beside the patches) are skipped with a note. Raises :class:`BadInput` for a missing or
    empty source, data that is not mail, or a message truncated inside its headers.
    """
    notes: list[str] = []
    if source == "-":
        if stdin is None:
            raise BadInput("-", "no standard input given")
        return split_bytes(stdin.read(), "<stdin>", 0, notes), notes
    path = Path(source)
    if path.is_dir():
        return _read_directory(path, source, notes), notes
    if not path.exists():
        raise BadInput(source, "no such file or directory")
    return split_bytes(_read_file(path, source), source, 0, notes), notes

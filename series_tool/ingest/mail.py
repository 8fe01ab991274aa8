"""One raw message -> decoded fields, body, in-body headers, diff split and trailers.

The stdlib :mod:`email` package (``BytesParser`` with the ``compat32`` policy, which never
raises on malformed headers) does the MIME work; this module decodes what it returns
defensively, because list archives hold every kind of broken mail.
"""

from __future__ import annotations

import base64
import binascii
import email.header
import email.utils
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from series_tool.models import Trailer

_PATCH_CTYPES = {"text/x-patch", "text/x-diff", "text/x-diff-patch", "application/x-patch"}
# How a diff's first line starts (`diff --git`, `diff -u`, svn's `Index:`, bzr's `===`);
# a `---` line followed by a `+++` one starts a diff too (see `find_diff_start`).
_DIFF_HEADERS = r"diff -|Index: |=== (?:added|modified|removed) "
_DIFF_START = re.compile(rf"^(?:{_DIFF_HEADERS})")
# Reply markers b4 and mutt know (English Re:, German Aw:, Scandinavian Sv:, Dutch Antw:)
# and Fwd:/Fw:, which is stripped but does not make a mail a reply: a forwarded patch is
# still the patch.
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|fwd?)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
_BRACKET = re.compile(r"^\s*\[([^\]]*)\]\s*")
# At most 6 digits: a longer "number" is junk (and int() refuses more than 4,300 digits);
# such a tag stays a plain prefix instead of a patch number, total or version.
_MAX_DIGITS = 6
_NUM_TOTAL = re.compile(r"^(\d{1,6})/(\d{1,6})$")
_VERSION = re.compile(r"^v(\d{1,6})$", re.IGNORECASE)
# `git format-patch --subject-prefix=PATCHv2` glues the version to the tag; b4 reads
# "PATCHv2" (and "RFCv2") as "PATCH v2".
_GLUED_VERSION = re.compile(r"^(PATCH|RFC)v(\d{1,6})$", re.IGNORECASE)
_MSGID = re.compile(r"<([^<>\s]+)>")
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*):[ \t]*(\S.*?)\s*$")
# What a reviewer may give in a reply besides *-by: (b4 collects these too)
_REPLY_TRAILERS = {"fixes", "link", "closes"}
_KNOWN_TRAILERS = {"fixes", "link", "cc", "closes", "change-id", "bug", "message-id"}
_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-fA-F]{7,64})\s*$")
_PREREQ = re.compile(r"^prerequisite-patch-id:\s*([0-9a-fA-F]{7,64})\s*$")
_FORMAT_PATCH_FROM = re.compile(
    r"^>?From [0-9a-f]{40}(?:[0-9a-f]{24})? Mon Sep 17 00:00:00 2001\s*$"
)
_INBODY = re.compile(r"^(From|Subject|Date):\s*(.*)$", re.IGNORECASE)
_MAILTO_JUNK = re.compile(r"<mailto:[^<>]*>")


@dataclass
class SubjectInfo:
    """What the ``[PATCH ...]`` tags of a subject say."""

    subject: str
    prefixes: list[str]
    number: int | None
    total: int | None
    version: int
    is_reply: bool  # started with Re:/Aw:/Sv:/Antw: (a reply, never a patch)
    #: a version tag was there (``v3``); an unlabelled patch answering a v3 cover is v3
    versioned: bool = False


@dataclass(frozen=True)
class PullRequest:
    """What a ``git request-pull`` mail asks to pull: the repository URL and the branch."""

    url: str
    branch: str | None


@dataclass
class Mail:
    """One decoded message with its diff split off (no grouping decisions yet)."""

    index: int
    where: str
    message_id: str
    in_reply_to: str | None
    references: list[str]
    raw_subject: str
    info: SubjectInfo
    author_name: str
    author_email: str
    sender_email: str  # header From: address (the one that sent this mail)
    date: str
    body: str  # decoded text of the message (all text parts)
    commit_message: str
    diff_text: str
    has_diff: bool
    trailers: list[Trailer] = field(default_factory=list)
    base_commit: str | None = None
    prerequisite_patch_ids: list[str] = field(default_factory=list)
    flowed: bool = False
    multipart: bool = False  # the body came from MIME parts (a boundary may end the diff)
    #: why the message could not be read (MIME nested too deep, ...); ingest skips it
    damage: str | None = None
    #: the Date header as seconds since the epoch (None when absent or unreadable)
    timestamp: float | None = None
    #: no Message-Id header (``git format-patch`` without ``--thread``): one was made up
    synthetic_id: bool = False
    #: a ``git request-pull`` mail (with or without a diff): not a patch to apply
    pull: PullRequest | None = None

    @property
    def author(self) -> str:
        """``Name <email>``, or whichever of the two is known."""
        if self.author_name and self.author_email and self.author_name != self.author_email:
            return f"{self.author_name} <{self.author_email}>"
        return self.author_email or self.author_name


# --------------------------------------------------------------------------- headers


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, falling back to UTF-8 then Latin-1 (never fails)."""
    for cs in (charset, "utf-8"):
        if not cs:
            continue
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError, ValueError, TypeError):
            continue
    return data.decode("latin-1")


def decode_words(raw: str | email.header.Header) -> str:
    """RFC 2047 encoded words (and raw 8-bit bytes) decoded, the value unfolded.

    Used for mail headers and for in-body ``From:``/``Subject:`` lines, which git mailinfo
    decodes the same way (``=?UTF-8?q?J=C3=B6rg?=`` -> ``Jörg``): text around an encoded
    word is kept as it is (``(=?UTF-8?q?J=C3=B6rg?=)`` -> ``(Jörg)``, no space added),
    only whitespace between two encoded words goes, and runs of whitespace become one
    space, as git prints headers.
    """
    if isinstance(raw, email.header.Header):
        # compat32 wraps headers holding raw 8-bit bytes in a Header of charset unknown-8bit.
        try:
            parts = email.header.decode_header(raw)
        except Exception:  # a fuzzed header must not stop ingest
            return _clean_space(str(raw))
        text = "".join(
            _decode_bytes(c, None if cs in (None, "unknown-8bit") else cs)
            if isinstance(c, bytes)
            else c
            for c, cs in parts
        )
        return _clean_space(_decode_encoded_words(text))
    return _clean_space(_decode_encoded_words(re.sub(r"\r?\n(?=[ \t])", "", str(raw))))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _decode_encoded_words(value: str) -> str:
    """Decode each ``=?charset?B|Q?text?=`` word in place (RFC 2047)."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        between = value[pos : m.start()]
        if not (pos and out and not between.strip(" \t")):
            out.append(between)  # whitespace between two encoded words is dropped
        charset = m.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        out.append(_decode_word(m.group(2).lower(), m.group(3), charset) or m.group(0))
        pos = m.end()
    out.append(value[pos:])
    return "".join(out)


def _decode_word(kind: str, text: str, charset: str) -> str | None:
    """One encoded word's text, or None when it is not valid (then it stays as written)."""
    try:
        if kind == "b":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = quopri.decodestring(text.replace("_", " ").encode("ascii"), header=True)
    except (ValueError, UnicodeEncodeError, binascii.Error):
        return None
    return _decode_bytes(data, charset)


def _clean_space(text: str) -> str:
    """NULs dropped, every run of whitespace one space, ends trimmed (git's cleanup_space)."""
    return re.sub(r"\s+", " ", text.replace("\x00", "")).strip()


def _unquote(value: str) -> str:
    """git mailinfo's unquoting of a From: value: ``"quoted strings"`` lose their quotes
    and backslashes; ``(comments)`` keep their parentheses (nested ones too) and lose
    their backslashes."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        i += 1
        if c == '"':
            while i < n:
                c = value[i]
                i += 1
                if c == "\\" and i < n:
                    out.append(value[i])
                    i += 1
                elif c == '"':
                    break
                else:
                    out.append(c)
        elif c == "(":
            out.append("(")
            depth = 1
            while i < n and depth:
                c = value[i]
                i += 1
                if c == "\\" and i < n:
                    out.append(value[i])
                    i += 1
                    continue
                depth += (c == "(") - (c == ")")
                out.append(c)
        else:
            out.append(c)
    return "".join(out)


def parse_address(value: str) -> tuple[str, str]:
    """``(name, email)`` from a From: value, the way git mailinfo reads it.

    Quoted strings are unquoted; RFC 822 comments stay in the name, as git keeps them
    (``A (zzz) U Thor <a@x> (Comment)`` -> ``A (zzz) U Thor (Comment)``), except that a
    name that is only a comment loses its parentheses (``<a@x> (A U Thor)`` -> ``A U
    Thor``). The address is the word around the ``@`` (or inside ``<>``). A name that is
    empty, longer than 60 characters or holds ``@<>`` is replaced by the address.
    """
    f = _unquote(value.strip())
    at = f.find("@")
    if at < 0:
        bra = f.find("<")
        ket = f.find(">", bra + 1) if bra >= 0 else -1
        if ket < 0:
            return "", ""  # no address at all: git treats the author as unknown
        addr = f[bra + 1 : ket]
        return _sane_name(f[:bra].strip(), addr), addr
    start = at
    while start > 0 and not f[start - 1].isspace() and f[start - 1] != "<":
        start -= 1
    end = at
    while end < len(f) and f[end] not in " \n\t\r\v\f>":
        end += 1
    addr = f[start:end]
    name_start = start - 1 if start > 0 and f[start - 1] == "<" else start
    name = f[:name_start] + " " + f[end + (1 if end < len(f) else 0) :]
    name = _clean_space(name)
    if len(name) >= 2 and name[0] == "(" and name[-1] == ")":
        name = name[1:-1].strip()
    return _sane_name(name, addr), addr


def _sane_name(name: str, addr: str) -> str:
    if not name or len(name) > 60 or any(c in name for c in "@<>"):
        return addr
    return name


def _msgids(value: str | None) -> list[str]:
    if not value:
        return []
    return _MSGID.findall(value)


# --------------------------------------------------------------------------- subject


_BIG_TAG = re.compile(r"^(?:v\d{7,}|\d+/\d+|(?:PATCH|RFC)v\d{7,})$", re.IGNORECASE)


def oversized_tags(prefixes: list[str]) -> list[str]:
    """Subject tags that look like ``M/T`` or ``vN`` but whose numbers are too long to read
    (shortened for messages); :func:`parse_subject` leaves them as plain prefixes."""
    out = []
    for tok in prefixes:
        if _BIG_TAG.match(tok) and not _NUM_TOTAL.match(tok) and not _VERSION.match(tok):
            out.append(tok if len(tok) <= 24 else f"{tok[:20]}... ({len(tok)} characters)")
    return out


def _small_number(tok: str) -> bool:
    return tok.isascii() and tok.isdigit() and len(tok) <= _MAX_DIGITS


def parse_subject(raw: str) -> SubjectInfo:
    """Strip ``Re:`` and every leading ``[...]`` group, reading version and M/T from them.

    Understands ``[PATCH v3 2/7]``, ``[RFC PATCH]``, ``[PATCH net-next v3 2/7]``,
    ``[net,v2,1/2]``, hg's ``[PATCH 1 of 2]`` and ``[PATCH 3/3 v2]``.
    """
    rest = raw.strip()
    is_reply = False
    prefixes: list[str] = []
    while True:
        m = _REPLY_PREFIX.match(rest)
        if m:
            if not m.group(1).lower().startswith("f"):
                is_reply = is_reply or not prefixes
            rest = rest[m.end() :]
            continue
        m = _BRACKET.match(rest)
        if m:
            for tok in re.split(r"[\s,]+", m.group(1)):
                glued = _GLUED_VERSION.match(tok)
                if glued:
                    prefixes.extend((glued.group(1), "v" + glued.group(2)))
                elif tok:
                    prefixes.append(tok)
            rest = rest[m.end() :]
            continue
        if rest.startswith(":"):
            rest = rest[1:]  # "[Patch]: Fix ..." -> "Fix ..."
            continue
        break
    number = total = None
    version = 1
    versioned = False
    for i, tok in enumerate(prefixes):
        m = _NUM_TOTAL.match(tok)
        if m and number is None:
            number, total = int(m.group(1)), int(m.group(2))
            continue
        if (
            tok.lower() == "of"
            and 0 < i < len(prefixes) - 1
            and _small_number(prefixes[i - 1])
            and _small_number(prefixes[i + 1])
            and number is None
        ):
            number, total = int(prefixes[i - 1]), int(prefixes[i + 1])
            continue
        mv = _VERSION.match(tok)
        if mv:
            version = int(mv.group(1)) or 1
            versioned = True
    return SubjectInfo(
        re.sub(r"\s+", " ", rest).strip(), prefixes, number, total, version, is_reply, versioned
    )


# --------------------------------------------------------------------------- body


def _undo_flowed(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: join soft-wrapped lines, remove space-stuffing."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        if line == "-- ":  # the signature separator is never a soft break
            out.append(pending + line)
            pending = ""
            continue
        if line.startswith(" "):
            line = line[1:]
        if line.endswith(" "):
            pending += line[:-1] if delsp else line
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken transfer encodings: use the raw payload
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:  # garbage in Content-Type parameters
        charset = None
    text = _decode_bytes(payload, charset)
    # CRLF from Windows mailers and quoted CR in base64 bodies: patches use LF.
    text = text.replace("\r\n", "\n")
    try:
        fmt = (part.get_param("format") or "").__str__().lower()
        delsp = (part.get_param("delsp") or "").__str__().lower() == "yes"
    except Exception:  # malformed mail: degrade, never crash
        fmt, delsp = "", False
    if fmt == "flowed":
        text = _undo_flowed(text, delsp)
    return text


def _is_flowed(msg: Message) -> bool:
    try:
        return str(msg.get_param("format") or "").lower() == "flowed"
    except Exception:  # malformed mail: degrade, never crash
        return False


def body_text(msg: Message) -> str:
    """All text/plain parts and patch attachments, decoded and joined; HTML is ignored."""
    if not msg.is_multipart():
        try:
            ctype = msg.get_content_type()
        except Exception:  # malformed mail: degrade, never crash
            ctype = "text/plain"
        if (ctype.startswith("text/") and ctype != "text/html") or ctype in _PATCH_CTYPES:
            return _part_text(msg)
        return _part_text(msg) if ctype == "application/octet-stream" else ""
    texts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            ctype = part.get_content_type()
        except Exception:  # malformed mail: degrade, never crash
            ctype = "text/plain"
        if ctype == "text/plain" or ctype in _PATCH_CTYPES:
            texts.append(_part_text(part))
    return "\n".join(t if t.endswith("\n") or not t else t + "\n" for t in texts)


# --------------------------------------------------------------------------- in-body headers


def _inbody_headers(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read ``From:``/``Subject:``/``Date:`` (and ``[PATCH] subj``) lines at the top of a body.

    Returns the headers and the index of the first line after them (and after the blank
    line that ends them). Folded continuation lines are joined as in mail headers.
    """
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and lines[i].startswith("[PATCH]") and lines[i][7:8].isspace():
        return {"subject": lines[i]}, _skip_blank(lines, i + 1)
    found: dict[str, str] = {}
    while i < len(lines):
        if _FORMAT_PATCH_FROM.match(lines[i]):
            # git format-patch's "From <sha> Mon Sep 17 00:00:00 2001" pasted into a body
            # (escaped as ">From " by mboxo writers): git mailinfo skips it, and the
            # in-body From:/Subject: after it still apply.
            i += 1
            continue
        m = _INBODY.match(lines[i])
        if not m:
            break
        key, value = m.group(1).lower(), m.group(2)
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
            value += " " + lines[i].strip()
            i += 1
        found.setdefault(key, value)
    if not found:
        return {}, 0
    if i < len(lines) and lines[i].strip() and lines[i].rstrip() != "---":
        # The block runs straight into text (a quoted reply): git drops the lines but does
        # not believe them, so keep the mail headers.
        return {}, i
    return found, _skip_blank(lines, i)


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


# --------------------------------------------------------------------------- diff split


def find_diff_start(lines: list[str]) -> int | None:
    """Index of the first diff header line: ``diff --git``, ``Index:``, or ``---``+``+++``."""
    for i, line in enumerate(lines):
        if _DIFF_START.match(line):
            return i
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            return i
    return None


def _is_trailer_name(name: str) -> bool:
    low = name.lower()
    return low.endswith("-by") or low in _KNOWN_TRAILERS


def canonical_trailer_name(name: str) -> str:
    """``reviewed-BY`` -> ``Reviewed-by``, ``CC`` -> ``Cc``."""
    return name[:1].upper() + name[1:].lower()


def clean_trailer_value(value: str) -> str:
    """Drop Outlook's ``<mailto:...>`` junk inside addresses."""
    return _MAILTO_JUNK.sub("", value).strip()


def parse_trailers(message: str) -> list[Trailer]:
    """Trailers of a commit message: the known ``Token: value`` lines of its last paragraph."""
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if not paragraphs:
        return []
    out: list[Trailer] = []
    for line in paragraphs[-1].split("\n"):
        m = _TRAILER.match(line)
        if m and _is_trailer_name(m.group(1)):
            out.append(Trailer(canonical_trailer_name(m.group(1)), clean_trailer_value(m.group(2))))
    return out


def reply_trailers(body: str) -> list[Trailer]:
    """Trailers a reviewer typed in a reply: unquoted ``Xxx-by:``, ``Fixes:``, ``Link:`` and
    ``Closes:`` lines anywhere."""
    out: list[Trailer] = []
    for line in body.split("\n"):
        if line.startswith(">"):
            continue
        m = _TRAILER.match(line.strip())
        if m and (m.group(1).lower().endswith("-by") or m.group(1).lower() in _REPLY_TRAILERS):
            out.append(Trailer(canonical_trailer_name(m.group(1)), clean_trailer_value(m.group(2))))
    return out


def _split_body(lines: list[str]) -> tuple[list[str], list[str], bool]:
    """(commit message lines, diff lines, has_diff). The message ends at ``---`` or the diff."""
    start = find_diff_start(lines)
    end_msg = start if start is not None else len(lines)
    for i in range(end_msg):
        if lines[i].rstrip() == "---":
            end_msg = i
            break
    if start is None:
        return lines[:end_msg], [], False
    diff = lines[start:]
    for i, line in enumerate(diff):
        if line == "-- ":  # signature: what follows is the git version or a list footer
            diff = diff[:i]
            break
    else:
        if diff and diff[-1] == "":
            diff = diff[:-1]  # split("\n") artefact of the body's final newline, not a line
    return lines[:end_msg], diff, True


# Each starts with a newline (the regex engine then scans for that one character fast,
# where a ``^`` with re.M is tried at every position); the first line is tried alone.
_DIFF_HEAD = rf"(?:{_DIFF_HEADERS}|--- [^\n]*\n\+\+\+ )"
_DIFF_LINE = re.compile(r"\n" + _DIFF_HEAD)
_DIFF_FIRST = re.compile(_DIFF_HEAD)
_SIGNATURE = re.compile(r"\n-- (?=\n|\Z)")
_META_LINE = re.compile(r"\n(?:base-commit|prerequisite-patch-id):[^\n]*")


def _lines_to_diff(text: str) -> tuple[list[str], int | None, int]:
    """The lines of `text` up to its diff's first two lines, where the diff starts
    (`find_diff_start` read on the text: None, and every line, when there is no diff)
    and the index of its first line in the lines.

    The diff itself stays one string (`_diff_and_meta`): a 200 MB patch is 18 M lines.
    """
    m = _DIFF_FIRST.match(text) or _DIFF_LINE.search(text)
    if m is None:
        lines = text.split("\n")
        return lines, None, len(lines)
    at = m.start() + (text[m.start()] == "\n")
    lines = text[:at].split("\n")[:-1]
    return lines + text[at:].split("\n", 2)[:2], at, len(lines)


def _diff_and_meta(text: str, at: int) -> tuple[str | None, list[str], str]:
    """The diff starting at `at` (up to a ``-- `` signature line), with its
    ``base-commit:``/``prerequisite-patch-id:`` lines taken out: (base, prerequisites,
    diff text ending in a newline, or "" when only empty lines are left). What
    `_split_body` then `_meta_lines` make of the diff's lines, done on the text."""
    sig = _SIGNATURE.search(text, at)
    diff = text[at : sig.start() + 1] if sig is not None else text[at:]
    if not _META_LINE.search(diff):  # the usual case: no copy of a large diff made here
        return None, [], (diff if diff.endswith("\n") else diff + "\n") if diff.strip("\n") else ""
    if diff.endswith("\n"):
        diff = diff[:-1]  # the newline ending the last line does not start another one
    # (start, end) of each metadata line; the diff's first line is a diff header.
    drop = [
        (m.start() + 1, m.end())
        for m in _META_LINE.finditer(diff)
        if _BASE_COMMIT.match(m.group()[1:]) or _PREREQ.match(m.group()[1:])
    ]
    base, prereqs, _ = _meta_lines([diff[i:j] for i, j in drop])
    if drop:
        parts: list[str] = []
        pos = 0
        for i, j in drop:
            parts.append(diff[pos:i])
            pos = j + 1  # the line and the newline ending it
        parts.append(diff[pos:])
        kept = "".join(parts)
        if drop[-1][1] == len(diff) and kept.endswith("\n"):
            kept = kept[:-1]  # the last line went: so does the newline before it
        diff = kept
    return base, prereqs, diff + "\n" if diff.strip("\n") else ""


def _meta_lines(lines: list[str]) -> tuple[str | None, list[str], list[str]]:
    """Pull ``base-commit:``/``prerequisite-patch-id:`` out of the text after the message."""
    base = None
    prereqs: list[str] = []
    kept: list[str] = []
    for line in lines:
        m = _BASE_COMMIT.match(line)
        if m:
            base = base or m.group(1).lower()
            continue
        m = _PREREQ.match(line)
        if m:
            prereqs.append(m.group(1).lower())
            continue
        kept.append(line)
    return base, prereqs, kept


# --------------------------------------------------------------------------- pull requests

_PULL_START = re.compile(r"^The following changes since commit\s+[0-9a-f]{7,64}", re.I | re.M)
_PULL_AT = re.compile(r"^are available in the git repository at:?[ \t]*$", re.I | re.M)
_PULL_URL = re.compile(r"^(?:[\w+.-]+://|[\w.-]+@[\w.-]+:)\S+$")


def find_pull_request(body: str) -> PullRequest | None:
    """The URL and branch of a ``git request-pull`` message, or None.

    request-pull writes "The following changes since commit SHA:", then "are available
    in the Git repository at:" and, after a blank line, ``  URL BRANCH`` (older versions:
    the branch on the next line, or none at all).
    """
    start = _PULL_START.search(body)
    if start is None:
        return None
    at = _PULL_AT.search(body, start.end())
    if at is None:
        return None
    words: list[str] = []
    for line in body[at.end() :].split("\n")[1:6]:
        if not line.strip():
            if words:
                break
            continue
        words += line.split()
        if len(words) >= 2:
            break
    if not words or not _PULL_URL.match(words[0]):
        return None
    branch = words[1] if len(words) > 1 and not words[1].endswith(":") else None
    return PullRequest(words[0], branch)


# --------------------------------------------------------------------------- entry point


_PARSER = BytesParser(policy=compat32)
#: multipart containers one message may hold; real mail has a handful
MAX_MULTIPARTS = 100
# After the newline before its line: the scan looks for that byte (fast), not at every
# position as a ``^`` with re.M would; the first line is counted alone.
_MULTIPART = re.compile(rb"\ncontent-type:[ \t]*(?:\r?\n[ \t]+)?multipart/", re.I)


#: a message larger than this with one plain part skips the email package's read of its
#: body, which makes a string per line (a 200 MB patch: 18 M of them)
BIG_MESSAGE = 1 << 20


def _parse_big(data: bytes) -> Message | None:
    """A large message of one non-MIME part as the email package reads it, without its
    line-by-line read of the body; None when the message is not such a one.

    Only when the header block ends at the first LF LF with no CR before it: the headers
    alone are parsed, and the body becomes the payload exactly as the parser's own
    non-multipart branch makes it (every line joined back, decoded ASCII with surrogates).
    """
    if len(data) <= BIG_MESSAGE:
        return None
    end = data.find(b"\n\n")
    if end < 0 or b"\r" in data[: end + 2]:
        return None
    msg = _PARSER.parsebytes(data[: end + 1], headersonly=True)
    if msg.get_payload() or msg.defects or msg.get_content_maintype() in ("multipart", "message"):
        return None
    msg.set_payload(data[end + 2 :].decode("ascii", "surrogateescape"))
    return msg


def parse_mail(data: bytes, index: int = 0, where: str = "") -> Mail:
    """Decode one raw message. Never raises for malformed content: it degrades instead.

    A message the email package cannot take apart (MIME parts nested so deep that its
    recursive parser overflows the stack) comes back with its headers only and
    ``Mail.damage`` saying why; callers skip such messages with a note.
    """
    multiparts = len(_MULTIPART.findall(data)) + bool(_MULTIPART.match(b"\n" + data[:4096]))
    if multiparts > MAX_MULTIPARTS:
        # Counted before parsing: the email package recurses once per nesting level, so
        # ~1,000 levels overflow its stack, and how many depends on the recursion limit.
        damage = f"more than {MAX_MULTIPARTS} MIME multiparts (nested too deep to read)"
    else:
        try:
            return _parse_mail(_parse_big(data) or _PARSER.parsebytes(data), index, where)
        except RecursionError:
            damage = "MIME parts nested too deep to read"
    try:
        head = _PARSER.parsebytes(data, headersonly=True)
        # The body is not read: without its parts a diff could be taken for something else.
        head.set_payload("")
        mail = _parse_mail(head, index, where)
    except RecursionError:  # pragma: no cover - headers alone do not nest
        mail = _parse_mail(_PARSER.parsebytes(b"\n"), index, where)
    mail.damage = damage
    return mail


def _parse_mail(msg: Message, index: int, where: str) -> Mail:
    # One pass over the headers (Message.get scans them all for every name asked).
    wanted = {"subject", "from", "date", "message-id", "in-reply-to", "references"}
    heads: dict[str, str] = {}
    for key, value in msg.raw_items():
        low = key.lower()
        if low in wanted and low not in heads:
            heads[low] = decode_words(msg.policy.header_fetch_parse(key, value))
    raw_subject = heads.get("subject", "")
    from_value = heads.get("from", "")
    name, addr = parse_address(from_value)
    sender = addr.lower()
    date = heads.get("date", "")
    ids = _msgids(heads.get("message-id"))
    message_id = ids[0] if ids else heads.get("message-id", "").strip("<> ")
    synthetic_id = not message_id
    if synthetic_id:
        message_id = f"no-message-id-{index + 1}@series-tool"
    irt = _msgids(heads.get("in-reply-to"))
    references = _msgids(heads.get("references"))

    text = body_text(msg)
    lines, diff_at, diff_index = _lines_to_diff(text)
    inbody, body_start = _inbody_headers(lines)
    subject_src = raw_subject
    if "subject" in inbody:
        subject_src = decode_words(inbody["subject"])
    if "from" in inbody:
        name, addr = parse_address(decode_words(inbody["from"]))
    if "date" in inbody:
        date = re.sub(r"\s+", " ", inbody["date"]).lstrip()  # as git mailinfo prints it
    msg_lines, _, has_diff = _split_body(lines[body_start:])
    base, prereqs, diff_text = (
        _diff_and_meta(text, diff_at) if diff_at is not None else (None, [], "")
    )
    # base-commit also sits above the diff (after ---) in covers and format-patch output.
    tail_start = body_start + len(msg_lines)
    tail = lines[tail_start:diff_index]
    base2, prereqs2, _ = _meta_lines(tail)
    if not has_diff:
        # A format-patch cover letter has no '---': base-commit and prerequisite-patch-id
        # close its body, after the diffstat. They are metadata, not message text.
        base3, prereqs3, msg_lines = _meta_lines(msg_lines)
        base2 = base2 or base3
        prereqs2 += [p for p in prereqs3 if p not in prereqs2]
    # Trailing empty lines stay: a mailer that trims trailing spaces turns the last " "
    # context line into "", and diffparse retries without them only if they do not fit.
    commit_message = "\n".join(msg_lines).strip("\n")
    info = parse_subject(subject_src)
    if "subject" in inbody:
        header_info = parse_subject(raw_subject)
        # In-body subjects rarely carry the [PATCH M/T] tags the mail header has.
        if info.number is None and header_info.number is not None:
            info.number, info.total = header_info.number, header_info.total
        if not info.versioned:
            info.version, info.versioned = header_info.version, header_info.versioned
        info.is_reply = info.is_reply and header_info.is_reply
    return Mail(
        index=index,
        where=where,
        message_id=message_id,
        in_reply_to=irt[0] if irt else None,
        references=references,
        raw_subject=raw_subject,
        info=info,
        author_name=name,
        author_email=addr,
        sender_email=sender,
        date=date,
        body=text,
        commit_message=commit_message,
        diff_text=diff_text,
        has_diff=has_diff,
        trailers=parse_trailers(commit_message),
        base_commit=base or base2,
        prerequisite_patch_ids=prereqs2 + [p for p in prereqs if p not in prereqs2],
        flowed=_is_flowed(msg),
        multipart=msg.is_multipart(),
        timestamp=timestamp_of(heads.get("date", "")),
        synthetic_id=synthetic_id,
        pull=find_pull_request(text) if "changes since commit" in text else None,
    )


def version_tagged(prefixes: list[str]) -> bool:
    """Whether subject tags (as :class:`SubjectInfo` keeps them) hold a ``vN`` tag."""
    return any(_VERSION.match(tok) for tok in prefixes)


def timestamp_of(date: str) -> float | None:
    """Seconds since the epoch of an RFC 2822 date, or None when it cannot be read."""
    try:
        parsed = email.utils.parsedate_tz(date)
        return float(email.utils.mktime_tz(parsed)) if parsed else None
    except (ValueError, OverflowError, TypeError):
        return None

"""Archive scale: every patch and cover of a list as a small record, grouped into series.

Reading a list archive (100,000 messages) must not keep every message in memory nor parse
one twice on the next run. Each message is decoded once into a :class:`MailRecord`: its
threading headers, what its subject tags say, and which C names its diff removes and adds
a definition of (the cheap part of the model stage's ``collect_defined``). Replies are
recognised from their headers alone and never decoded. Records are plain data (JSON in
the scan state); :func:`light_mail` turns them back into :class:`Mail` objects without
bodies, enough for :mod:`grouping`, so a later run groups old and new mail together and
re-reads from the archive only the messages of series it must check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from series_tool.models import Patch, Series

from . import grouping
from .diffparse import parse_diff_partial
from .mail import Mail, SubjectInfo, parse_mail, parse_subject, timestamp_of, version_tagged

# A header block's Subject (folded lines included) and an in-body "Subject:" line.
_SUBJECT = re.compile(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_INBODY_SUBJECT = re.compile(rb"^[ \t]*subject[ \t]*:", re.IGNORECASE | re.MULTILINE)
_ENCODED_WORD = re.compile(rb"=\?")
#: a base64 body or MIME part (its text, in-body headers included, is hidden until decoded)
_BASE64 = re.compile(rb"^content-transfer-encoding:[ \t]*base64", re.IGNORECASE | re.MULTILINE)


@dataclass
class MailRecord:
    """What grouping and selection need of one patch or cover mail (JSON-able)."""

    seq: int  # position in the archive (all runs together): grouping's message order
    epoch: str
    commit: str | None
    message_id: str
    in_reply_to: str | None
    references: list[str]
    raw_subject: str
    subject: str
    prefixes: list[str]
    number: int | None
    total: int | None
    version: int
    is_reply: bool
    author_name: str
    author_email: str
    sender_email: str
    date: str
    has_diff: bool
    #: C names the diff may remove a definition/declaration/macro of for good, and names
    #: it (re)defines where it removes something (see catalog._defined): a superset
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    #: the diff could not be looked at here (the series is then checked in full)
    undecided: bool = False
    #: a ``git request-pull`` mail: "URL BRANCH" (never a patch, whatever diff it carries)
    pull: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MailRecord:
        """The record back from :meth:`to_json`."""
        return cls(**data)


def quick_reply(data: bytes) -> bool:
    """True when the raw message is surely a reply (``Re:`` subject), without decoding it.

    Only the plain case answers True: an encoded subject, a base64 body or part (by its
    Content-Transfer-Encoding header) or an in-body ``Subject:`` line (which can turn a
    reply header into a patch, as git mailinfo reads it) leave the decision to
    :func:`parse_mail`.
    """
    end = data.find(b"\n\n")
    if end < 0:
        end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[: end + 1]
    m = _SUBJECT.search(head)
    # Encoded words elsewhere (a sender's name) do not change what the subject says.
    if m is None or _ENCODED_WORD.search(m.group(1)) or _BASE64.search(data):
        return False
    if _INBODY_SUBJECT.search(data, end):
        return False
    subject = re.sub(rb"\r?\n[ \t]+", b" ", m.group(1)).decode("utf-8", "replace")
    return parse_subject(subject).is_reply


def light_mail(r: MailRecord) -> Mail:
    """A body-less :class:`Mail` from a record: all that grouping reads."""
    info = SubjectInfo(
        r.subject,
        list(r.prefixes),
        r.number,
        r.total,
        r.version,
        r.is_reply,
        version_tagged(r.prefixes),
    )
    return Mail(
        index=r.seq,
        where=r.commit or str(r.seq),
        message_id=r.message_id,
        in_reply_to=r.in_reply_to,
        references=list(r.references),
        raw_subject=r.raw_subject,
        info=info,
        author_name=r.author_name,
        author_email=r.author_email,
        sender_email=r.sender_email,
        date=r.date,
        body="",
        commit_message="",
        diff_text="",
        has_diff=r.has_diff,
        timestamp=timestamp_of(r.date),
        synthetic_id=r.message_id.startswith("no-message-id-"),
    )


@dataclass
class CatalogSeries:
    """One version of one series, as records (before any message is read again)."""

    key: str  # the same for every version of a series: sender and title
    version: int
    title: str
    cover: MailRecord | None
    patches: list[MailRecord]  # in grouping's order (kept copies, by number)
    partial: bool  # a partial reroll inside an older version's thread

    @property
    def members(self) -> list[MailRecord]:
        """Cover (if any) and patches."""
        return ([self.cover] if self.cover else []) + self.patches

    def fingerprint(self) -> str:
        """What changes when new patches or copies join this version."""
        return " ".join(sorted(r.message_id for r in self.members))

    def may_remove_api(self) -> bool:
        """Whether the series is worth reading again: it removes something for good, or
        a patch's diff could not be looked at when it was decoded."""
        return bool(self.removes_for_good()) or any(r.undecided for r in self.patches)

    def removes_for_good(self) -> list[str]:
        """Names some patch removes a definition of and no later patch adds back.

        The same rule as the model stage's ``infer_migration`` uses for old symbols,
        from the records alone (so that series without one are never read again).
        """
        removed_at: dict[str, list[int]] = {}
        added_at: dict[str, list[int]] = {}
        for i, r in enumerate(self.patches):
            for n in r.removed:
                removed_at.setdefault(n, []).append(i)
            for n in r.added:
                added_at.setdefault(n, []).append(i)
        out = []
        for name, where in removed_at.items():
            last = max(where)
            if not any(j >= last for j in added_at.get(name, [])):
                out.append(name)
        return sorted(out)


#: a version written into the title itself ("... v2", "... (v3)", "... - V4")
_TITLE_VERSION = re.compile(r"[\s,:-]*[(\[]?\bv\d+[)\]]?\s*$", re.IGNORECASE)


def series_key(sender: str, title: str) -> str:
    """Versions of one series share a sender and a title (case, spacing and a version
    written at the end of the title aside)."""
    words = " ".join(_TITLE_VERSION.sub("", title).lower().split())
    return f"{sender.lower()} {words or title.lower()}"


def catalog_series(records: Iterable[MailRecord]) -> list[CatalogSeries]:
    """Group records into series versions with the project's grouping (see ``grouping``)."""
    recs = sorted(records, key=lambda r: r.seq)
    by_seq = {r.seq: r for r in recs}
    mails = [light_mail(r) for r in recs]
    cls = grouping.classify(mails)
    groups = grouping.group(mails, cls)
    grouping.adopt_partial_rerolls(mails, groups)
    out: list[CatalogSeries] = []
    for g in groups:
        if not g.patches:
            continue
        last: dict[int, Mail] = {}
        unnumbered: list[Mail] = []
        for m in sorted(g.patches, key=grouping.when):
            if m.info.number is None:
                unnumbered.append(m)
            else:
                last[m.info.number] = m  # the newest copy, as build_series keeps it
        ordered = [last[n] for n in sorted(last)] + unnumbered
        cover = by_seq[g.cover.index] if g.cover is not None else None
        first = cover or by_seq[ordered[0].index]
        title = first.subject
        out.append(
            CatalogSeries(
                key=series_key(first.sender_email, title),
                version=g.version,
                title=title,
                cover=cover,
                patches=[by_seq[m.index] for m in ordered],
                partial=g.partial_of is not None,
            )
        )
    return out


def newest_versions(all_series: list[CatalogSeries]) -> dict[str, CatalogSeries]:
    """Per series key, the version a maintainer would apply: the newest complete posting."""
    best: dict[str, CatalogSeries] = {}

    def rank(s: CatalogSeries) -> tuple[bool, int, int]:
        return (not s.partial, s.version, max(r.seq for r in s.members))

    for s in all_series:
        cur = best.get(s.key)
        if cur is None or rank(s) > rank(cur):
            best[s.key] = s
    return best


def full_series(
    cs: CatalogSeries, raw: Callable[[MailRecord], bytes | None], source: str
) -> Series | None:
    """The :class:`Series` of a catalog entry, its messages read again through ``raw``.

    Returns None when a message cannot be read any more (removed from the archive).
    """
    mails: dict[int, Mail] = {}
    for r in cs.members:
        data = raw(r)
        if data is None:
            return None
        mails[r.seq] = parse_mail(data, r.seq, r.commit or str(r.seq))
    patches: dict[int, Patch] = {}
    group = grouping.Group(root=cs.members[0].seq, version=cs.version)
    if cs.cover is not None:
        group.cover = mails[cs.cover.seq]
        patches[cs.cover.seq] = grouping.to_patch(group.cover, cover=True)
    for r in cs.patches:
        m = mails[r.seq]
        p = grouping.to_patch(m)
        if m.diff_text:
            p.files, p.error = parse_diff_partial(m.diff_text, m.where, m.multipart)
        patches[r.seq] = p
        group.patches.append(m)
    return grouping.build_series(group, patches, source)

"""Public entry of the ingest stage: SOURCE -> :class:`~series_tool.models.Ingested`.

read (mailsource) -> decode each message once (mail) -> classify and group (grouping) ->
parse each chosen patch's diff (diffparse) -> reply trailers -> pick a version.
"""

from __future__ import annotations

from typing import BinaryIO

from series_tool.errors import BadInput
from series_tool.models import Ingested, Patch, Series

from . import grouping
from .diffparse import parse_diff_partial
from .mail import Mail, parse_mail
from .mailsource import read_source_notes


def _where(source: str) -> str:
    return "<stdin>" if source == "-" else source


def parse_mails(source: str, stdin: BinaryIO | None = None) -> list[Mail]:
    """Read and decode every message of SOURCE (no grouping)."""
    return _parse_mails(source, stdin)[0]


def _parse_mails(source: str, stdin: BinaryIO | None) -> tuple[list[Mail], list[str]]:
    """Every readable message of SOURCE decoded, and notes on what was skipped.

    Damaged messages (see :attr:`Mail.damage`) are left out with a note naming each; when
    every message is damaged, that is bad input.
    """
    raws, notes = read_source_notes(source, stdin)
    mails: list[Mail] = []
    damaged: list[Mail] = []
    for r in raws:
        m = parse_mail(r.data, len(mails), r.where)
        if m.damage is not None:
            damaged.append(m)
            notes.append(f"skipped {m.where}: {m.damage}")
        else:
            mails.append(m)
    if damaged and not mails:
        raise BadInput(damaged[0].where or _where(source), damaged[0].damage or "damaged")
    return mails, notes


def _series_key(s: Series, g: grouping.Group) -> tuple[bool, int, int, int, int]:
    # Never a partial reroll inside an older version's thread (see
    # grouping.adopt_partial_rerolls); then the newest version; then a real series (cover
    # or numbered patches) over an orphan diff; then the fuller one; then the later one
    # (a resend).
    numbered = sum(1 for p in s.patches if p.number is not None) + (s.cover is not None)
    first_index = min(m.index for m in g.patches)
    return (g.partial_of is None, s.version, numbered, len(s.patches), first_index)


def ingest(source: str, version: int | None = None, stdin: BinaryIO | None = None) -> Ingested:
    """Read SOURCE and return the chosen series version and a summary of the others.

    ``source`` is an mbox/mboxrd file (optionally gzip-compressed), a Maildir, a directory
    of patch files, one bare mail, or ``-`` for ``stdin``. ``version`` selects ``vN``
    (default: the newest). Raises :class:`BadInput` for unreadable input, input without any
    patch, or a version that is not there. A malformed diff is reported on its patch
    (``Patch.error``) instead.
    """
    where = _where(source)
    mails, notes = _parse_mails(source, stdin)
    cls = grouping.classify(mails)
    if not cls.patches:
        raise BadInput(where, f"no patch found in {len(mails)} messages")
    groups = grouping.group(mails, cls)
    if version is None:
        grouping.adopt_partial_rerolls(mails, groups)
    groups = [g for g in groups if g.patches]
    patches: dict[int, Patch] = {}
    for g in groups:
        if g.cover is not None:
            patches[g.cover.index] = grouping.to_patch(g.cover, cover=True)
        for m in g.patches:
            p = grouping.to_patch(m)
            if m.diff_text:
                p.files, p.error = parse_diff_partial(m.diff_text, m.where, m.multipart)
                if p.error is not None and m.flowed:
                    p.error += " (the mail is format=flowed; its mailer may have re-wrapped it)"
            patches[m.index] = p
    built = [(grouping.build_series(g, patches, where), g) for g in groups]
    # Reply trailers: a reply to a patch touches it; a reply to a cover, all its patches.
    targets: dict[str, list[Patch]] = {}
    for s, _ in built:
        if s.cover is not None:
            targets[s.cover.message_id] = list(s.patches)
        for p in s.patches:
            targets.setdefault(p.message_id, [p])
    # Replies to the earlier copies of a resent patch or cover count for the kept copy.
    changed: list[tuple[str, str, str]] = []
    for s, g in built:
        more, diffs = grouping.superseded_targets(g, s)
        for old_id, kept in more.items():
            targets.setdefault(old_id, kept)
        changed += diffs
    members = {mails[i].message_id for i in cls.patches + cls.covers}
    remarks = grouping.apply_reply_trailers(mails, cls.replies, targets, members, changed)
    candidates = built
    if version is not None:
        candidates = [(s, g) for s, g in built if s.version == version]
        if not candidates:
            found = sorted({s.version for s, _ in built})
            raise BadInput(
                where,
                f"no version {version} in this source; found " + ", ".join(f"v{v}" for v in found),
            )
    chosen, _ = max(candidates, key=lambda sg: _series_key(sg[0], sg[1]))
    chosen_ids = {p.message_id for p in chosen.patches}
    if chosen.cover is not None:
        chosen_ids.add(chosen.cover.message_id)
    chosen.problems.extend(r for target, r in remarks if target in chosen_ids)
    chosen.problems.extend(notes)
    others = [grouping.summarize(s) for s, _ in built if s is not chosen]
    return Ingested(series=chosen, others=others)

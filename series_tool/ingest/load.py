"""Public entry of the ingest stage: SOURCE -> :class:`~series_tool.models.Ingested`.

read (mailsource) -> decode each message once (mail) -> classify and group (grouping) ->
parse each chosen patch's diff (diffparse) -> reply trailers -> pick a version.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass, replace
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


_Key = tuple[bool, int, int, int, tuple[bool, float, int]]


def _series_key(s: Series, g: grouping.Group) -> _Key:
    # Never a mis-tagged patch inside an older version's thread (see
    # grouping.adopt_partial_rerolls); then the newest version; then a real series (cover
    # or numbered patches) over an orphan diff; then the fuller one; then the one sent
    # last (by Date, not by position in the file: a resend).
    numbered = sum(1 for p in s.patches if p.number is not None) + (s.cover is not None)
    sent = max(grouping.when(m) for m in g.patches)
    return (g.partial_of is None, s.version, numbered, len(s.patches), sent)


@dataclass
class _Built:
    """Every series version of some mails, built, with reply trailers applied."""

    built: list[tuple[Series, grouping.Group]]
    #: (Message-Id of the patch or cover a remark is about, remark) for skipped trailers
    remarks: list[tuple[str, str]]
    #: pull requests met among the mails (skipped: nothing in them is a patch to check)
    pulls: list[Mail]


def _build(mails: list[Mail], where: str, version: int | None, diffs: bool = True) -> _Built | None:
    """Classify, group and build every series of ``mails``; None when there is no patch."""
    cls = grouping.classify(mails)
    pulls = [mails[i] for i in cls.pulls]
    if not cls.patches:
        return _Built([], [], pulls) if pulls else None
    groups = grouping.group(mails, cls)
    grouping.adopt_partial_rerolls(mails, groups, version)
    groups = [g for g in groups if g.patches]
    patches: dict[int, Patch] = {}
    for g in groups:
        if g.cover is not None:
            patches[g.cover.index] = grouping.to_patch(g.cover, cover=True)
        for m in g.patches:
            if m.index in patches:
                continue  # a patch a partial reroll took from the older version
            p = grouping.to_patch(m)
            if m.diff_text and diffs:
                p.files, p.error = parse_diff_partial(m.diff_text, m.where, m.multipart)
                if p.error is not None and m.flowed:
                    p.error += " (the mail is format=flowed; its mailer may have re-wrapped it)"
            patches[m.index] = p
    built = [(grouping.build_series(g, patches, where, diffstat=diffs), g) for g in groups]
    # Reply trailers: a reply to a patch touches it; a reply to a cover, all its patches.
    targets: dict[str, list[Patch]] = {}
    for s, _ in built:
        if s.cover is not None:
            # A partial reroll shares its cover with the version it completes: a reply to
            # that cover touches both versions' patches (each patch once).
            have = targets.setdefault(s.cover.message_id, [])
            have += [p for p in s.patches if all(p is not q for q in have)]
        for p in s.patches:
            targets.setdefault(p.message_id, [p])
    # Replies to the earlier copies of a resent patch or cover count for the kept copy.
    changed: list[tuple[str, str, str]] = []
    for s, g in built:
        more, stale = grouping.superseded_targets(g, s)
        for old_id, kept in more.items():
            targets.setdefault(old_id, kept)
        changed += stale
    members = {mails[i].message_id for i in cls.patches + cls.covers}
    remarks = grouping.apply_reply_trailers(mails, cls.replies, targets, members, changed)
    return _Built(built, remarks, pulls)


def _choose(
    built: list[tuple[Series, grouping.Group]],
    remarks: list[tuple[str, str]],
    where: str,
    version: int | None,
) -> Ingested:
    """The version asked for (else the newest) of ``built``, the others summarised."""
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
    numbers = {p.number for p in chosen.patches if p.number is not None}
    for s, _ in built:
        again = sorted({p.number for p in s.patches if p.number in numbers})
        if s is not chosen and s.version == chosen.version and again and s.patches:
            # Resent with new Message-Ids: patchwork's second series. Not merged, but said.
            chosen.problems.append(
                f"another v{s.version} series resends patch {', '.join(map(str, again))}"
                f" <{s.patches[0].message_id}>; it is listed with the others, not merged"
            )
    others = [grouping.summarize(s) for s, _ in built if s is not chosen]
    return Ingested(series=chosen, others=others)


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
    result = _build(mails, where, version)
    if result is None:
        raise BadInput(where, f"no patch found in {len(mails)} messages")
    if not result.built:
        raise BadInput(
            where,
            f"{_pull_text(result.pulls[0])}; series-tool checks patch series, so there is"
            " nothing to check (fetch the branch and `git format-patch` it to check it)",
        )
    got = _choose(result.built, result.remarks, where, version)
    got.series.problems.extend(f"skipped {_pull_text(m)}" for m in result.pulls)
    got.series.problems.extend(notes)
    return got


def _pull_text(m: Mail) -> str:
    """``a pull request (git request-pull) for URL BRANCH <Message-Id>``."""
    assert m.pull is not None
    what = m.pull.url + (f" {m.pull.branch}" if m.pull.branch else "")
    return f"a pull request (git request-pull) for {what} <{m.message_id}>"


def group_series(mails: Iterable[Mail], source: str = "", diffs: bool = True) -> list[Ingested]:
    """Group already-parsed mails (a whole list archive) into series, newest version each.

    ``mails`` come from :func:`parse_mail` (one raw message each; their ``index`` should
    be their position, and is renumbered when it is not unique). Versions of one series
    are tied together by threading (v2 sent in reply to v1) and by sender and title; each
    returned :class:`Ingested` holds the newest version (by version, then Date) as
    ``series`` and the older ones as ``others``, in the order the series first appear.
    ``diffs=False`` skips parsing the diffs and the net diffstat (``Patch.files`` stay
    empty) for a fast first pass. Near-linear in the number of mails.
    """
    batch = [m for m in mails if m.damage is None]
    if len({m.index for m in batch}) != len(batch):
        batch = [replace(m, index=i) for i, m in enumerate(batch)]
    # Grouping makes a few objects per mail and frees none; with 100k mails the cyclic
    # collector's full passes over them cost a third of the time, for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _build(batch, source, None, diffs)
        if result is None or not result.built:
            return []
        return [
            _choose(family, result.remarks, source, None)
            for family in grouping.families(batch, result.built)
        ]
    finally:
        if collecting:
            gc.enable()

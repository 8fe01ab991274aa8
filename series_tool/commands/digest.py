"""A raw archive message -> its catalog record (scan's first pass, run in worker processes).

Here, not in the ingest stage, because the record says which C definitions the diff removes
and adds: that takes the model stage's parser, which ingest must not depend on.
"""

from __future__ import annotations

from dataclasses import replace

from series_tool.ingest import Mail, MailRecord, parse_diff_partial, parse_mail, quick_reply
from series_tool.model import (
    SideCache,
    defined_on_changed_lines,
    header_symbol,
    is_c_path,
    is_header,
    private_removed,
)


def _defined(mail: Mail) -> tuple[list[str], list[str]]:
    """Names whose definition the diff may remove for good, and those it adds back.

    A cheap superset of what the model stage's ``collect_defined`` finds (the exact
    answer comes later, from ``checks.api_removals`` on the few series that pass): only
    hunks with '-' lines are parsed, their post-image only when the pre-image defined
    something, and a name a hunk removes and adds back (a changed signature) is dropped;
    so is what a ``.c`` file keeps to itself (its macros, members, ``static`` functions:
    ``model.private_removed``). A deleted header counts under its include name (as
    ``collect_defined`` has it), a created one as added.
    """
    files, _ = parse_diff_partial(mail.diff_text, mail.where, mail.multipart)
    removed: set[str] = set()
    added: set[str] = set()
    for fd in files:
        if fd.is_binary or not is_c_path(fd.path):
            continue
        if is_header(fd.path) and (fd.is_deleted or fd.is_new):
            (removed if fd.is_deleted else added).add(header_symbol(fd.path))
        for hunk in fd.hunks:
            if not hunk.removed:
                continue
            # Each side of the hunk is parsed once (at most): the pre-image alone first,
            # the post-image only when the pre-image defined something.
            cache: SideCache = {}
            pre_only = replace(hunk, lines=[ln for ln in hunk.lines if ln.kind != "+"])
            gone, _ = defined_on_changed_lines(pre_only, cache=cache)
            if gone and not is_header(fd.path):
                # What a .c file keeps to itself is no API (model.offered_names): a
                # static helper removed does not make a series worth reading again.
                private = private_removed(pre_only, cache)
                gone = [n for n in gone if n not in private]
            if gone and hunk.added:
                post_only = replace(hunk, lines=[ln for ln in hunk.lines if ln.kind != "-"])
                _, back = defined_on_changed_lines(post_only)
                removed.update(set(gone) - set(back))
                added.update(back)
            elif gone:
                removed.update(gone)
    return sorted(removed - added), sorted(added)


def digest(item: tuple[bytes, int, str, str | None, str]) -> MailRecord | None:
    """A raw message -> its record, or None for a reply (or other mail grouping ignores).

    A pull request (``git request-pull``) gets a record with ``pull`` set and its diff
    not looked at: scan sets it aside (and says so) instead of reading it as a patch.

    ``item`` is ``(data, seq, epoch, commit, where)``; a plain tuple so that worker
    processes can be handed it.
    """
    data, seq, epoch, commit, where = item
    if quick_reply(data):
        return None
    mail = parse_mail(data, seq, where)
    if mail.info.is_reply:
        return None
    info = mail.info
    pull = None
    if mail.pull is not None:
        pull = mail.pull.url + (f" {mail.pull.branch}" if mail.pull.branch else "")
    undecided = False
    removed: list[str] = []
    added: list[str] = []
    if mail.has_diff and mail.diff_text and pull is None:
        try:
            removed, added = _defined(mail)
        except Exception:  # one odd diff must not stop a whole archive; decide later
            undecided = True
    return MailRecord(
        seq=seq,
        epoch=epoch,
        commit=commit,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        raw_subject=mail.raw_subject,
        subject=info.subject,
        prefixes=list(info.prefixes),
        number=info.number,
        total=info.total,
        version=info.version,
        is_reply=info.is_reply,
        author_name=mail.author_name,
        author_email=mail.author_email,
        sender_email=mail.sender_email,
        date=mail.date,
        has_diff=mail.has_diff,
        removed=removed,
        added=added,
        undecided=undecided,
        pull=pull,
    )

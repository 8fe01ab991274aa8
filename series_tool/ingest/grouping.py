"""Messages -> series and versions, the way a careful maintainer reads a thread.

Classification: a mail with a diff is a patch, unless it is a ``Re:`` reply (threaded or
not); a ``0/N`` mail without a diff is a cover; a diff-less mail that the first patch of the
same author answers is a "naked" cover; any other diff-less mail that replies to something
is a reply (with or without ``Re:``). Grouping: a numbered patch joins the nearest patch or
cover of the same version it is threaded to (In-Reply-To, then References newest first);
unthreaded roots then join a group with the same author, version and total that lacks their
number (lists without threading, patchwork's base-no-references). Unnumbered patches stay
alone except under a naked cover. All of it is linear in the number of messages (a
union-find).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from series_tool.models import Patch, Series, SeriesSummary, Trailer

from .diffparse import series_diffstat
from .mail import Mail, reply_trailers

_ADDR_CHARS = "<>"
#: the largest [PATCH M/T] total whose missing numbers are listed one by one
MAX_LISTED_TOTAL = 10_000


@dataclass
class Group:
    """Mails of one series version, before they become a :class:`Series`."""

    root: int
    version: int
    cover: Mail | None = None
    patches: list[Mail] = field(default_factory=list)
    #: root of the older version whose thread this partial reroll sits in (see
    #: :func:`adopt_partial_rerolls`); such a group is never the default choice
    partial_of: int | None = None
    notes: list[str] = field(default_factory=list)  # remarks for Series.problems
    #: earlier copies of a resent cover letter (the group keeps the last one)
    old_covers: list[Mail] = field(default_factory=list)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _ancestors(m: Mail) -> list[str]:
    """Message-Ids this mail answers, nearest first (linear: References may hold 300k ids)."""
    out: list[str] = []
    seen: set[str] = set()
    for ref in (m.in_reply_to, *reversed(m.references)):
        if ref and ref not in seen:
            seen.add(ref)
            out.append(ref)
    return out


@dataclass
class Classified:
    """Mails sorted into patches, covers and replies (indexes into the mail list)."""

    patches: list[int]
    covers: list[int]
    replies: list[int]


def classify(mails: list[Mail]) -> Classified:
    """Decide what each mail is (see the module docstring)."""
    by_id = {m.message_id: i for i, m in enumerate(mails)}
    patches: list[int] = []
    covers: set[int] = set()
    rest: list[int] = []
    for i, m in enumerate(mails):
        # A "Re:" mail is a reply even when it carries a diff (a reviewer's suggested
        # change) and even when its threading headers were lost: b4 never takes it as a
        # patch, and the patch it answers stays the one of the series.
        if m.has_diff and not m.info.is_reply:
            patches.append(i)
        elif not m.has_diff and m.info.number == 0 and not m.info.is_reply:
            covers.add(i)
        else:
            rest.append(i)
    patch_set = set(patches)
    # A "naked" cover: no 0/N tag, but a patch from the same author answers it directly.
    for i in patches:
        parent = by_id.get(mails[i].in_reply_to or "")
        if (
            parent is not None
            and parent not in patch_set
            and parent not in covers
            and not mails[parent].has_diff
            and not mails[parent].info.is_reply
            and mails[parent].sender_email == mails[i].sender_email
            and mails[parent].info.number is None
        ):
            covers.add(parent)
    replies = [i for i in rest if i not in covers and _ancestors(mails[i])]
    return Classified(patches, sorted(covers), replies)


def group(mails: list[Mail], cls: Classified) -> list[Group]:
    """Group patches and covers into series versions, in order of first appearance."""
    by_id = {m.message_id: i for i, m in enumerate(mails)}
    members = set(cls.patches) | set(cls.covers)
    naked = {i for i in cls.covers if mails[i].info.number is None}
    uf = _UnionFind(len(mails))
    linked: set[int] = set()
    for i in sorted(members):
        m = mails[i]
        unnumbered = m.info.number is None and i not in naked
        for ref in _ancestors(m):
            j = by_id.get(ref)
            if j is None or j not in members or j == i:
                continue
            if unnumbered and j not in naked:
                break  # an orphan diff answering a series forms its own series
            if mails[j].info.version == m.info.version or j in naked:
                uf.union(i, j)
                linked.add(i)
                break
            # Threaded to another version (v2 under v1): look further up for its own kind.
    # Unthreaded numbered roots: same author, version and total, no number in common.
    numbers: dict[int, set[int]] = {}
    for i in sorted(members):
        num = mails[i].info.number
        if num is not None:
            numbers.setdefault(uf.find(i), set()).add(num)
    # A lone unthreaded copy of a mail already seen (same sender, version, total, number
    # and subject: one patch re-sent without In-Reply-To/References) is a resend within
    # that series, not a new one; build_series then keeps the last copy as a duplicate. A
    # resend with its own thread (a cover and its patches) stays a series of its own, as
    # patchwork keeps it.
    thread_size = Counter(uf.find(i) for i in members)
    same_mail: dict[tuple[str, int, int | None, int, str], list[int]] = {}
    for i in sorted(members):
        m = mails[i]
        if m.info.number is not None:
            shape = (m.sender_email, m.info.version, m.info.total, m.info.number, m.info.subject)
            same_mail.setdefault(shape, []).append(i)

    def join(a: int, b: int) -> None:
        theirs = numbers.get(uf.find(a), set())
        mine = numbers.get(uf.find(b), set())
        old_roots = {uf.find(a), uf.find(b)}
        uf.union(a, b)
        new_root = uf.find(b)
        for r in old_roots - {new_root}:
            numbers.pop(r, None)
        numbers[new_root] = theirs | mine

    open_groups: dict[tuple[str, int, int | None], list[int]] = {}
    for i in sorted(members):
        m = mails[i]
        if i in linked or m.info.number is None or _has_member_ancestor(m, by_id, members):
            continue
        key = (m.sender_email, m.info.version, m.info.total)
        mine = numbers.get(uf.find(i), set())
        for root in open_groups.get(key, []):
            theirs = numbers.setdefault(uf.find(root), set())
            if theirs.isdisjoint(mine):
                join(root, i)
                break
        else:
            shape = (*key, m.info.number, m.info.subject)
            earlier = [j for j in same_mail.get(shape, []) if j < i and uf.find(j) != uf.find(i)]
            if earlier and thread_size[uf.find(i)] == 1:
                join(earlier[-1], i)
            else:
                open_groups.setdefault(key, []).append(i)
    # `git format-patch --stdout` of commits by several authors: unthreaded patches of one
    # series carry each commit's author. Groups of the same version and total whose numbers
    # do not collide are one series, whoever sent them (after same-sender grouping, so that
    # two people's series in one mailbox only merge when nothing contradicts it).
    by_shape: dict[tuple[int, int | None], list[int]] = {}
    for (_, version, total), roots in open_groups.items():
        if total is None:
            continue
        for root in roots:
            r = uf.find(root)
            if r not in by_shape.setdefault((version, total), []):
                by_shape[(version, total)].append(r)
    for (_, total), roots in by_shape.items():
        merged: list[int] = []
        for r in roots:
            mine = numbers.get(uf.find(r), set())
            for other in merged:
                theirs = numbers.get(uf.find(other), set())
                if theirs.isdisjoint(mine) and len(theirs | mine) <= (total or 0):
                    a, b = uf.find(other), uf.find(r)
                    uf.union(other, r)
                    numbers[uf.find(r)] = theirs | mine
                    for old_root in {a, b} - {uf.find(r)}:
                        numbers.pop(old_root, None)
                    break
            else:
                merged.append(r)
    groups: dict[int, Group] = {}
    for i in sorted(members):
        r = uf.find(i)
        g = groups.get(r)
        if g is None:
            g = groups[r] = Group(root=r, version=mails[i].info.version)
        if i in cls.covers:
            if g.cover is None or mails[i].index > g.cover.index:
                if g.cover is not None:
                    g.old_covers.append(g.cover)
                g.cover = mails[i]  # a resent cover replaces the first one
            else:
                g.old_covers.append(mails[i])
        else:
            g.patches.append(mails[i])
    return list(groups.values())


def _numbers_and_total(g: Group) -> tuple[set[int], int | None]:
    """The patch numbers a group holds and its total (the cover's, else the commonest)."""
    numbers = {m.info.number for m in g.patches if m.info.number is not None}
    if g.cover is not None and g.cover.info.total is not None:
        return numbers, g.cover.info.total
    totals = Counter(m.info.total for m in g.patches if m.info.total is not None)
    return numbers, (totals.most_common(1)[0][0] if totals else None)


def adopt_partial_rerolls(mails: list[Mail], groups: list[Group]) -> None:
    """Keep a partial reroll inside an older version's thread from passing for the newest.

    The rule: a group with no cover and fewer numbered patches than its total, threaded
    into the thread of a group of an *older* version, is a partial reroll (one patch
    re-sent as "v3 2/3" in reply to v2's 2/3, or a v2 patch mis-tagged v3 in v2's own
    thread). A maintainer applies the older, complete version: the reroll is marked
    (``partial_of``) so that it is never the default choice, its patches that the older
    version lacks fill those gaps (as b4 fills a partial reroll's gaps from the previous
    version, in the other direction), and every patch it holds is named in the older
    version's notes, with its own version, so nothing is swapped silently. ``--version``
    does not go through here: it selects exactly the version asked for.
    """
    group_of: dict[str, int] = {}
    for gi, g in enumerate(groups):
        for m in [*g.patches, *([g.cover] if g.cover else [])]:
            group_of[m.message_id] = gi
    for gi, g in enumerate(groups):
        numbers, total = _numbers_and_total(g)
        if g.cover is not None or total is None or len(numbers) >= total:
            continue
        host: Group | None = None
        for m in g.patches:
            for ref in _ancestors(m):
                hi = group_of.get(ref)
                if hi is not None and hi != gi and groups[hi].version < g.version:
                    host = groups[hi]
                    break
            if host is not None:
                break
        if host is None:
            continue
        g.partial_of = host.root
        host_numbers, host_total = _numbers_and_total(host)
        kept: list[Mail] = []
        for m in sorted(g.patches, key=lambda x: x.index):
            n = m.info.number
            tag = f"patch {n} tagged v{g.version} <{m.message_id}>"
            if (
                n is not None
                and n not in host_numbers
                and host_total is not None
                and 1 <= n <= host_total
            ):
                host.patches.append(m)
                host_numbers.add(n)
                host.notes.append(
                    f"{tag} sits in v{host.version}'s thread as a partial reroll;"
                    f" it fills v{host.version}'s gap"
                )
            else:
                kept.append(m)
                host.notes.append(
                    f"{tag} is a partial reroll inside v{host.version}'s thread; using"
                    f" v{host.version}'s (--version {g.version} selects the reroll)"
                )
        g.patches = kept


def _has_member_ancestor(m: Mail, by_id: dict[str, int], members: set[int]) -> bool:
    return any(by_id.get(r) in members for r in _ancestors(m))


# --------------------------------------------------------------------------- to models


def to_patch(m: Mail, cover: bool = False) -> Patch:
    """A :class:`Patch` from a decoded mail (files are filled in by the caller)."""
    return Patch(
        number=0 if cover else m.info.number,
        total=m.info.total,
        version=m.info.version,
        subject=m.info.subject,
        raw_subject=m.raw_subject,
        prefixes=list(m.info.prefixes),
        message_id=m.message_id,
        in_reply_to=m.in_reply_to,
        references=list(m.references),
        author=m.author,
        author_name=m.author_name,
        author_email=m.author_email,
        date=m.date,
        commit_message=m.commit_message,
        trailers=[Trailer(t.name, t.value) for t in m.trailers],
        diff_text=m.diff_text,
        base_commit=m.base_commit,
        prerequisite_patch_ids=list(m.prerequisite_patch_ids),
        source_index=m.index,
        body=m.body,
    )


def build_series(g: Group, patches: dict[int, Patch], source: str) -> Series:
    """Order a group's patches by number and note what a maintainer would worry about."""
    problems: list[str] = list(g.notes)
    last_by_number: dict[int, Mail] = {}
    unnumbered: list[Mail] = []
    counts: Counter[int] = Counter()
    for m in sorted(g.patches, key=lambda x: x.index):
        if m.info.number is None:
            unnumbered.append(m)
        else:
            counts[m.info.number] += 1
            last_by_number[m.info.number] = m  # keep the LAST resend
    duplicates = sorted(n for n, c in counts.items() if c > 1)
    for n in duplicates:
        problems.append(f"patch {n} appears {counts[n]} times; keeping the last one")
    ordered = [patches[last_by_number[n].index] for n in sorted(last_by_number)]
    ordered += [patches[m.index] for m in unnumbered]
    totals = Counter(m.info.total for m in g.patches if m.info.total is not None)
    if g.cover is not None and g.cover.info.total is not None:
        totals[g.cover.info.total] += 1
    total: int | None = None
    if g.cover is not None and g.cover.info.total is not None:
        total = g.cover.info.total
    elif totals:
        total = totals.most_common(1)[0][0]
    if len(totals) > 1:
        problems.append("totals disagree: " + ", ".join(f"/{t}" for t in sorted(totals)))
    missing: list[int] = []
    if total is not None and total > MAX_LISTED_TOTAL and last_by_number:
        # "[PATCH 1/100000000]": listing what is missing would take gigabytes.
        problems.append(
            f"the total /{total} is implausible (more than {MAX_LISTED_TOTAL} patches);"
            " missing patches are not listed"
        )
    elif total is not None and last_by_number:
        missing = [n for n in range(1, total + 1) if n not in last_by_number]
        if missing:
            problems.append("missing patches: " + ", ".join(str(n) for n in missing))
        extra = [n for n in last_by_number if n > total]
        if extra:
            problems.append(
                "patches beyond the total of " + f"{total}: " + ", ".join(map(str, extra))
            )
    if g.cover is None and total is not None and total > 1:
        problems.append("no cover letter")
    for m in unnumbered:
        problems.append(f"unnumbered patch <{m.message_id}> (no [PATCH M/T] tag)")
    cover = patches[g.cover.index] if g.cover is not None else None
    title = cover.subject if cover else (ordered[0].subject if ordered else "")
    base = cover.base_commit if cover and cover.base_commit else None
    if base is None:
        base = next((p.base_commit for p in ordered if p.base_commit), None)
    net = series_diffstat([p.files for p in ordered], [p.label for p in ordered])
    if net.problems:
        # A partial count would look like git's; better no diffstat and the reason.
        problems.append("no net diffstat: " + "; ".join(net.problems))
    return Series(
        diffstat=None if net.problems else (len(net.files), net.insertions, net.deletions),
        version=g.version,
        title=title,
        total=total,
        cover=cover,
        patches=ordered,
        missing=missing,
        duplicates=duplicates,
        base_commit=base,
        problems=problems,
        source=source,
    )


def summarize(s: Series) -> SeriesSummary:
    """The short form listed in ``Ingested.others``."""
    return SeriesSummary(
        version=s.version,
        title=s.title,
        total=s.total,
        numbers=[p.number for p in s.patches if p.number is not None],
    )


# --------------------------------------------------------------------------- reply trailers


def _diff_identity(diff_text: str) -> list[str]:
    """A diff's lines without its ``index`` lines (blob ids differ with the base, not the
    change) and trailing blanks: two copies with equal identities make the same change."""
    return [ln.rstrip() for ln in diff_text.rstrip("\n").split("\n") if not ln.startswith("index ")]


def superseded_targets(
    g: Group, s: Series
) -> tuple[dict[str, list[Patch]], list[tuple[str, str, str]]]:
    """Where replies to the earlier copies of a resent patch (or cover) should go.

    A reviewer often answers the first copy of a patch that is then resent unchanged (new
    Message-Id, same diff); the series keeps the last copy, and the review still holds for
    it. Returns the targets for such copies (an earlier copy with an identical diff -> the
    kept patch; an earlier cover -> every patch, as for the kept cover) and, for copies
    whose diff changed, ``(earlier Message-Id, kept Message-Id, label)`` so that their
    trailers are reported rather than carried over or dropped silently.
    """
    targets: dict[str, list[Patch]] = {}
    changed: list[tuple[str, str, str]] = []
    kept_ids = {p.message_id for p in s.patches}
    for m in g.patches:
        if m.message_id in kept_ids or m.info.number is None:
            continue
        kept = s.patch(m.info.number)
        if kept is None:
            continue
        if _diff_identity(m.diff_text) == _diff_identity(kept.diff_text):
            targets[m.message_id] = [kept]
        else:
            changed.append((m.message_id, kept.message_id, kept.label))
    if s.cover is not None:
        for old in g.old_covers:
            targets[old.message_id] = list(s.patches)
    return targets, changed


def _address(value: str) -> str | None:
    start, end = value.rfind("<"), value.rfind(">")
    if 0 <= start < end:
        return value[start + 1 : end].strip().lower()
    for word in value.split():
        if "@" in word:
            return word.strip(_ADDR_CHARS + "()\"'").lower()
    return None


def _norm(t: Trailer) -> tuple[str, str]:
    return t.name.lower(), " ".join(t.value.split()).lower()


def apply_reply_trailers(
    mails: list[Mail],
    replies: list[int],
    targets: dict[str, list[Patch]],
    members: set[str],
    changed: list[tuple[str, str, str]] | None = None,
) -> list[tuple[str, str]]:
    """Add reviewers' trailers from replies to the patches they answer.

    Returns ``(target Message-Id, remark)`` pairs for the trailers it skipped.

    ``targets`` maps a patch's Message-Id to the patches a reply to it should touch (the
    patch itself, or every patch for a cover). A reply to a reply climbs to the patch. A
    trailer whose address differs from the reply's sender is skipped (b4's default).
    ``changed`` lists earlier copies of resent patches whose diff differs from the kept
    copy (see :func:`superseded_targets`): trailers given to them are reported, not added.
    """
    by_id = {m.message_id: m for m in mails}
    stale = {old: (kept, label) for old, kept, label in changed or []}
    remarks: list[tuple[str, str]] = []
    for i in sorted(replies, key=lambda k: mails[k].index):
        reply = mails[i]
        target = _reply_target(reply, by_id, members)
        if target is not None and target in stale:
            kept, label = stale[target]
            for t in reply_trailers(reply.body):
                remarks.append(
                    (
                        kept,
                        f"not carried over {t.name}: {t.value} from reply <{reply.message_id}>:"
                        f" it answers an earlier copy <{target}> of {label} whose diff differs"
                        " from the kept one",
                    )
                )
            continue
        if target is None or target not in targets:
            continue
        for t in reply_trailers(reply.body):
            if all(_norm(t) in {_norm(x) for x in p.trailers} for p in targets[target]):
                continue  # restating a trailer the patch already has is not a mismatch
            addr = _address(t.value)
            if addr is not None and reply.sender_email and addr != reply.sender_email:
                remarks.append(
                    (
                        target,
                        f"ignored {t.name}: {t.value} from reply <{reply.message_id}>: "
                        f"the address differs from the sender's ({reply.sender_email})",
                    )
                )
                continue
            for p in targets[target]:
                if _norm(t) in {_norm(x) for x in p.trailers}:
                    continue
                p.trailers.append(
                    Trailer(t.name, t.value, from_reply=True, reply_message_id=reply.message_id)
                )
    return remarks


def _reply_target(reply: Mail, by_id: dict[str, Mail], members: set[str]) -> str | None:
    """The patch or cover a reply belongs to, climbing through replies to replies."""
    seen: set[str] = set()
    current: Mail | None = reply
    while current is not None:
        for ref in _ancestors(current):
            if ref in members:
                return ref
        nxt = by_id.get(current.in_reply_to or "")
        if nxt is None or nxt.message_id in seen:
            return None
        seen.add(nxt.message_id)
        current = nxt
    return None

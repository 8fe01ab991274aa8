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
from dataclasses import dataclass, field, replace

from series_tool.models import Patch, Series, SeriesSummary, Trailer

from .diffparse import series_diffstat
from .mail import Mail, oversized_tags, reply_trailers

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
    #: root of the older version whose thread this mis-tagged partial group sits in (see
    #: :func:`adopt_partial_rerolls`); such a group is never the default choice
    partial_of: int | None = None
    #: root of the older version this partial reroll was completed from (b4's reroll)
    reroll_of: int | None = None
    #: the series' title when no mail of its own gives it (a reroll: the older cover's)
    title: str | None = None
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
    #: ``git request-pull`` mails (with or without a diff): recognised, never patches
    pulls: list[int] = field(default_factory=list)


def classify(mails: list[Mail]) -> Classified:
    """Decide what each mail is (see the module docstring)."""
    by_id = {m.message_id: i for i, m in enumerate(mails)}
    patches: list[int] = []
    covers: set[int] = set()
    rest: list[int] = []
    pulls: list[int] = []
    for i, m in enumerate(mails):
        if m.pull is not None and not m.info.is_reply:
            pulls.append(i)  # what it asks is a merge, not a patch to apply
            continue
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
    return Classified(patches, sorted(covers), replies, pulls)


#: how many recent unthreaded groups of one sender and shape a root may join (newest
#: first, as patchwork does); a bound keeps grouping linear over a years-long archive
_OPEN_CANDIDATES = 16


def when(m: Mail) -> tuple[bool, float, int]:
    """Sort key "sent earlier": by Date, mails without a readable one last, then position."""
    return (m.timestamp is None, m.timestamp or 0.0, m.index)


class _Groups:
    """Union-find over mail indexes that also tracks the patch numbers of each set."""

    def __init__(self, n: int) -> None:
        self.uf = _UnionFind(n)
        self.numbers: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        return self.uf.find(x)

    def nums(self, x: int) -> set[int]:
        return self.numbers.get(self.find(x), set())

    def disjoint(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        return ra == rb or self.nums(ra).isdisjoint(self.nums(rb))

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        na, nb = self.numbers.pop(ra, set()), self.numbers.pop(rb, set())
        if len(na) < len(nb):  # merge the smaller set into the larger: linear overall
            na, nb = nb, na
        na |= nb
        self.uf.union(ra, rb)
        self.numbers[self.find(ra)] = na


def group(mails: list[Mail], cls: Classified) -> list[Group]:
    """Group patches and covers into series versions, in order of first appearance.

    As patchwork does: mails are taken in the order they were sent (Date); a patch joins
    the series of the nearest patch or cover it is threaded to, of its own version (an
    unlabelled patch joins whatever version it answers, and takes that version), unless
    that series already holds its number: then it starts a new series (a resend threaded
    into the first posting is a second series, not duplicates). A cover letter starts its
    thread and never joins one above it. Unthreaded numbered patches join the newest
    unthreaded series of the same sender, version and total that lacks their number.
    """
    by_id = {m.message_id: i for i, m in enumerate(mails)}
    members = set(cls.patches) | set(cls.covers)
    covers = set(cls.covers)
    naked = {i for i in covers if mails[i].info.number is None}
    order = sorted(members, key=lambda k: when(mails[k]))
    gs = _Groups(len(mails))
    for i in order:
        num = mails[i].info.number
        if num is not None:
            gs.numbers[i] = {num}
    linked: set[int] = set()
    for i in order:
        m = mails[i]
        if i in covers:
            continue
        unnumbered = m.info.number is None
        for ref in _ancestors(m):
            j = by_id.get(ref)
            if j is None or j not in members or j == i:
                continue
            if unnumbered and j not in naked:
                break  # an orphan diff answering a series forms its own series
            mj = mails[j]
            if j in naked or not m.info.versioned or mj.info.version == m.info.version:
                if gs.disjoint(i, j):
                    gs.union(i, j)
                    linked.add(i)
                break  # its number is taken there: a resend, a series of its own
            # Threaded to another version (v2 under v1): look further up for its own kind.
    open_groups: dict[tuple[str, int, int | None], list[int]] = {}
    for i in order:
        m = mails[i]
        if i in linked or m.info.number is None or _has_member_ancestor(m, by_id, members):
            continue
        key = (m.sender_email, m.info.version, m.info.total)
        candidates = open_groups.setdefault(key, [])
        for root in reversed(candidates[-_OPEN_CANDIDATES:]):
            if gs.disjoint(root, i):
                gs.union(root, i)
                break
        else:
            candidates.append(i)
    # `git format-patch --stdout` (no --thread, so no Message-Id) of commits by several
    # authors: unthreaded patches of one series carry each commit's author. Groups of the
    # same version and total whose numbers do not collide are one series, whoever sent
    # them. Only for mails without a Message-Id: in a list archive every mail has one, and
    # two people's lone patches of the same shape are not one series.
    by_shape: dict[tuple[int, int | None], list[int]] = {}
    for (_, version, total), roots in open_groups.items():
        if total is None:
            continue
        for root in roots:
            if mails[root].synthetic_id:
                by_shape.setdefault((version, total), []).append(root)
    for (_, total), roots in by_shape.items():
        merged: list[int] = []
        for r in sorted(roots, key=lambda k: when(mails[k])):
            for other in reversed(merged[-_OPEN_CANDIDATES:]):
                if gs.disjoint(other, r) and len(gs.nums(other) | gs.nums(r)) <= (total or 0):
                    gs.union(other, r)
                    break
            else:
                merged.append(r)
    return _collect(mails, sorted(members), covers, gs)


def _collect(mails: list[Mail], members: list[int], covers: set[int], gs: _Groups) -> list[Group]:
    """Groups in order of first appearance; unlabelled members take the group's version."""
    by_root: dict[int, list[int]] = {}
    for i in members:
        by_root.setdefault(gs.find(i), []).append(i)
    groups: list[Group] = []
    for idxs in by_root.values():
        explicit = [mails[i].info.version for i in idxs if mails[i].info.versioned]
        version = max(explicit) if explicit else mails[idxs[0]].info.version
        g = Group(root=idxs[0], version=version)
        for i in sorted(idxs, key=lambda k: when(mails[k])):
            m = mails[i]
            if m.info.version != version:
                # "[PATCH 1/4]" under "[PATCH net-next v3 0/4]": one v3 series (patchwork)
                m = replace(m, info=replace(m.info, version=version))
            if i in covers:
                if g.cover is not None:
                    g.old_covers.append(g.cover)
                g.cover = m  # a resent cover (sent later) replaces the first one
            else:
                g.patches.append(m)
        g.patches.sort(key=lambda x: x.index)
        groups.append(g)
    return groups


def _numbers_and_total(g: Group) -> tuple[set[int], int | None]:
    """The patch numbers a group holds and its total (the cover's, else the commonest)."""
    numbers = {m.info.number for m in g.patches if m.info.number is not None}
    if g.cover is not None and g.cover.info.total is not None:
        return numbers, g.cover.info.total
    totals = Counter(m.info.total for m in g.patches if m.info.total is not None)
    return numbers, (totals.most_common(1)[0][0] if totals else None)


def _sane_reroll(g: Group, host: Group, by_id: dict[str, Mail]) -> bool:
    """b4's test for a partial reroll: each of its patches answers (directly or up the
    In-Reply-To chain) the older version's patch with the same number and total."""
    host_ids = {m.message_id for m in host.patches}
    for m in g.patches:
        seen: set[str] = set()
        parent = by_id.get(m.in_reply_to or "")
        while parent is not None and parent.message_id not in seen:
            seen.add(parent.message_id)
            if (
                parent.message_id in host_ids
                and parent.info.number == m.info.number
                and parent.info.total == m.info.total
            ):
                break
            parent = by_id.get(parent.in_reply_to or "")
        else:
            return False
        if parent is None:
            return False
    return bool(g.patches)


def adopt_partial_rerolls(
    mails: list[Mail], groups: list[Group], version: int | None = None
) -> None:
    """Partial rerolls inside an older version's thread, as b4 reads them.

    A group with no cover and fewer numbered patches than its total, threaded into the
    thread of a group of an *older* version, is a partial reroll. When each of its patches
    answers the older version's patch of the same number (``v3 2/2`` sent in reply to
    ``v2 2/2``), it is a real reroll and, as in b4, the newer version: the patches it does
    not resend are taken from the older version (when it is the version asked for, or
    none is), and the series says which (``reroll_of``). Otherwise it is more likely a
    mis-tagged patch of the older version (``v3 3/3`` answering v2's cover): by default the
    older, complete version is used, the mis-tagged patch fills its gap, and both are
    named in the notes (``partial_of`` keeps it from being the default); ``--version``
    still selects exactly the version asked for.
    """
    by_id = {m.message_id: m for m in mails}
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
        if _sane_reroll(g, host, by_id):
            if version is None or version == g.version:
                _reconstitute(g, host, numbers, total)
            continue
        if version is not None:
            continue
        _fill_host(g, host)


def _reconstitute(g: Group, host: Group, numbers: set[int], total: int) -> None:
    """Complete the partial reroll ``g`` with the older version's other patches (b4)."""
    g.reroll_of = host.root
    if host.cover is not None:
        g.title = host.cover.info.subject
        if g.cover is None:
            # b4 carries the cover over too: replies to it (trailers) hold for the reroll.
            g.cover = host.cover
            g.notes.append(
                f"v{g.version} is a partial reroll: cover letter taken from"
                f" v{host.version} <{host.cover.message_id}>"
            )
    resent = ", ".join(str(n) for n in sorted(numbers))
    newest: dict[int, Mail] = {}
    for m in sorted(host.patches, key=when):
        n = m.info.number
        if n is not None and n not in numbers and 1 <= n <= min(total, MAX_LISTED_TOTAL):
            newest[n] = m
    for n, m in sorted(newest.items()):
        g.patches.append(m)
        g.notes.append(
            f"v{g.version} is a partial reroll (it resends patch {resent} of {total} in reply"
            f" to v{host.version}'s): patch {n} taken from v{host.version} <{m.message_id}>"
        )


def _fill_host(g: Group, host: Group) -> None:
    """A mis-tagged patch in an older version's thread fills that version's gap."""
    g.partial_of = host.root
    host_numbers, host_total = _numbers_and_total(host)
    kept: list[Mail] = []
    for m in sorted(g.patches, key=lambda x: x.index):
        n = m.info.number
        tag = f"patch {n} tagged v{g.version} <{m.message_id}>"
        fits = n is not None and host_total is not None and 1 <= n <= host_total
        if n is not None and fits and n not in host_numbers:
            host.patches.append(m)
            host_numbers.add(n)
            host.notes.append(
                f"{tag} sits in v{host.version}'s thread but does not answer its patch {n};"
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


def build_series(g: Group, patches: dict[int, Patch], source: str, diffstat: bool = True) -> Series:
    """Order a group's patches by number and note what a maintainer would worry about.

    ``diffstat=False`` leaves out the net diffstat (for a fast first pass over an archive).
    """
    problems: list[str] = list(g.notes)
    last_by_number: dict[int, Mail] = {}
    unnumbered: list[Mail] = []
    counts: Counter[int] = Counter()
    for m in sorted(g.patches, key=when):
        if m.info.number is None:
            unnumbered.append(m)
        else:
            counts[m.info.number] += 1
            last_by_number[m.info.number] = m  # keep the newest copy (by Date)
    duplicates = sorted(n for n, c in counts.items() if c > 1)
    for n in duplicates:
        problems.append(f"patch {n} appears {counts[n]} times; keeping the newest one")
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
    for m in sorted(g.patches, key=lambda x: x.index):
        for tag in oversized_tags(m.info.prefixes):
            problems.append(
                f"<{m.message_id}>: subject tag {tag} holds a number too large to be a patch"
                " number or version (more than 6 digits); not read"
            )
    for m in unnumbered:
        problems.append(f"unnumbered patch <{m.message_id}> (no [PATCH M/T] tag)")
    cover = patches[g.cover.index] if g.cover is not None else None
    title = cover.subject if cover else g.title or (ordered[0].subject if ordered else "")
    base = cover.base_commit if cover and cover.base_commit else None
    if base is None:
        base = next((p.base_commit for p in ordered if p.base_commit), None)
    stat: tuple[int, int, int] | None = None
    if diffstat:
        net = series_diffstat([p.files for p in ordered], [p.label for p in ordered])
        if net.problems:
            # A partial count would look like git's; better no diffstat and the reason.
            problems.append("no net diffstat: " + "; ".join(net.problems))
        else:
            stat = (len(net.files), net.insertions, net.deletions)
    return Series(
        diffstat=stat,
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


#: versions of one series with the same sender and title are at most this far apart
_FAMILY_WINDOW = 180 * 86400.0


def families(
    mails: list[Mail], built: list[tuple[Series, Group]]
) -> list[list[tuple[Series, Group]]]:
    """Split series versions into series: versions threaded into one another (v2 sent in
    reply to v1, a resend into the first posting), or sent by the same person under the
    title or patch subject within 180 days, are one series. In order of first appearance;
    linear in the number of mails."""
    uf = _UnionFind(len(built))
    owner: dict[str, int] = {}
    for k, (_, g) in enumerate(built):
        for m in [*g.patches, *([g.cover] if g.cover else []), *g.old_covers]:
            owner.setdefault(m.message_id, k)
    for k, (_, g) in enumerate(built):
        for m in [*g.patches, *([g.cover] if g.cover else [])]:
            for ref in _ancestors(m):
                other = owner.get(ref)
                if other is not None and other != k:
                    uf.union(k, other)
                    break
    last: dict[tuple[str, str], tuple[float | None, int]] = {}
    order = sorted(range(len(built)), key=lambda k: min(when(m) for m in built[k][1].patches))
    for k in order:
        s, g = built[k]
        head = g.cover or min(g.patches, key=when)
        sent = head.timestamp
        # The title, and each patch's subject: v3 without a cover still shares them with v2.
        titles = {s.title, *(m.info.subject for m in g.patches)}
        for title in titles:
            key = (head.sender_email, " ".join(title.lower().split()))
            prev = last.get(key)
            if prev is not None:
                before, other = prev
                if sent is None or before is None or abs(sent - before) <= _FAMILY_WINDOW:
                    uf.union(k, other)
            last[key] = (sent, k)
    out: dict[int, list[tuple[Series, Group]]] = {}
    for k in order:
        out.setdefault(uf.find(k), []).append(built[k])
    return list(out.values())


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
            # Only a person's trailer (Reviewed-by: Name <addr>) must come from that person;
            # a Link: or Closes: URL may hold an '@' (a lore Message-Id) and is no address.
            addr = _address(t.value) if t.name.lower().endswith("-by") else None
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

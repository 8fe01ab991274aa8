"""Learn a variant rule from the series itself, for a split API that no rules file covers.

The series' own conversions are labelled examples: each converted caller chose a variant,
and the analysis of that caller (before the series) says which calls receive the returned
pointer and whether it escapes. The writer variant is the one whose callers let the
pointer escape, else the one with more parameters (the extra out-value the writer must
recheck); its write operations are the calls only writer callers make. The result is a
`MigrationRule` like a TOML one, marked as learned so every choice made with it asks
for review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from series_tool.models import Migration, Series

from .conversion import Conversion
from .rules import MigrationRule, Operations
from .variants import located_sites, usage_at

#: Analysis depth when learning: follow static helpers as the shipped rules do.
_FOLLOW = 2


def learn_rule(
    series: Series,
    migration: Migration,
    conv: Conversion,
    read: Callable[[str], str | None],
) -> MigrationRule | None:
    """A rule for `conv.old` learned from the series' conversions (None if they do not tell).

    `read(path)` gives files before the series. Which variant is the writer comes from
    behaviour, never from names: the one the series gives callers that write through the
    pointer or let it escape (the others' callers never do); else the prototypes (the one
    variant whose result is not `const`, or the one that hands back an extra out-value).
    """
    old = conv.old
    probe = MigrationRule(old=old, variants=tuple(migration.new), follow_depth=_FOLLOW)
    ops: dict[str, set[str]] = {}
    changed: Counter[str] = Counter()  # callers that write through it or let it escape
    escaped: Counter[str] = Counter()
    for site, text, line, tree in located_sites(series, old, migration.new, read):
        usage = usage_at(text, site.file, line, old, probe, tree)
        ops.setdefault(site.new, set()).update(usage.callees)
        changed[site.new] += bool(usage.writes or usage.escapes)
        escaped[site.new] += len(usage.escapes)
    if len(ops) != 2:
        return None  # one variant used (or more than two): nothing to contrast
    roles = _roles(conv, list(ops), changed)
    if roles is None:
        return None
    reader, writer, evidence = roles
    write_ops = frozenset(ops[writer] - ops[reader])
    read_ops = frozenset(ops[reader])
    learned = ", ".join(sorted(write_ops)) or "none"
    return MigrationRule(
        old=old,
        variants=tuple(migration.new),
        reader=reader,
        writer=writer,
        write_ops=write_ops,
        read_ops=read_ops,
        unknown_is_write=True,
        escape_is_write=escaped[writer] > 0 or not write_ops,
        follow_depth=_FOLLOW,
        writer_doubt=(
            f"the choice of {writer}() was learned from the series' own conversions "
            f"({evidence}; calls seen only in its callers: {learned}); confirm it, and do "
            f"what those callers do after taking the lock"
        ),
        reader_doubt=(
            f"the choice of {reader}() was learned from the series' own conversions "
            f"({evidence}); confirm the caller only reads"
        ),
    )


def _roles(
    conv: Conversion, variants: list[str], changed: Counter[str]
) -> tuple[str, str, str] | None:
    """(reader, writer, evidence) of two variants, from what their series callers do and
    their prototypes; None when nothing tells or the evidence disagrees."""
    votes: list[tuple[str, str, str]] = []
    a, b = variants
    if bool(changed[a]) != bool(changed[b]):
        writer = a if changed[a] else b
        reader = b if writer == a else a
        votes.append((reader, writer, f"the series gives {writer}() callers that write"))
    votes.extend(_prototype_votes(conv, variants))
    return _agreed(votes)


def _prototype_votes(conv: Conversion, variants: list[str]) -> list[tuple[str, str, str]]:
    """(reader, writer, why) from the two variants' prototypes: the one whose result points
    to const only reads; the one handing back an extra out-value is the writer."""
    votes: list[tuple[str, str, str]] = []
    a, b = variants
    protos = {v: conv.variants[v].proto for v in variants}
    const = [v for v, p in protos.items() if p is not None and p.returns_const]
    if len(const) == 1 and all(p is not None and p.pointee for p in protos.values()):
        reader = const[0]
        writer = b if reader == a else a
        votes.append((reader, writer, f"only {reader}() returns a pointer to const"))
    shaped = _by_prototype(conv, variants)
    if shaped is not None:
        reader, writer, extra = shaped
        votes.append((reader, writer, f"only {writer}() hands back {extra} to recheck"))
    return votes


def _agreed(votes: list[tuple[str, str, str]]) -> tuple[str, str, str] | None:
    """The roles every vote gives, with all the reasons; None without votes or agreement."""
    if not votes or len({(r, w) for r, w, _ in votes}) != 1:
        return None
    return votes[0][0], votes[0][1], "; ".join(e for _, _, e in votes)


def roles_rule(
    series: Series,
    migration: Migration,
    conv: Conversion,
    ops: Operations,
    read: Callable[[str], str | None],
) -> MigrationRule | None:
    """Reader and writer of a split API from behaviour: `ops` says which calls write
    through the returned pointer; the series' own conversions say which variant callers
    that write were given (and which the readers were). Without conversions, the variant
    that hands back an extra out-value the others lack (what a writer must recheck) is the
    writer, and every choice asks for review. None when nothing tells."""
    variants = conv.related()
    if len(variants) != 2:
        return None
    probe = MigrationRule(
        old=conv.old,
        variants=tuple(variants),
        write_ops=ops.write_ops,
        write_prefixes=ops.write_prefixes,
        read_ops=ops.read_ops,
        escape_is_write=ops.escape_is_write,
        follow_depth=ops.follow_depth,
    )
    chose: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    for site, text, line, tree in located_sites(series, conv.old, variants, read):
        usage = usage_at(text, site.file, line, conv.old, probe, tree)
        writes = bool(usage.writes or (usage.escapes and ops.escape_is_write))
        chose[writes][site.new] += 1
    writer = chose[True].most_common(1)[0][0] if chose[True] else None
    reader = chose[False].most_common(1)[0][0] if chose[False] else None
    if writer and reader and writer == reader:
        return None  # the series does not contrast them
    if writer or reader:
        writer = writer or next(v for v in variants if v != reader)
        reader = reader or next(v for v in variants if v != writer)
        review_w = review_r = ""
    else:
        agreed = _agreed(_prototype_votes(conv, variants))
        if agreed is None:
            return None
        reader, writer, why = agreed
        review_w = (
            f"{writer}() was taken as the writer variant because {why}; the series converts "
            "no caller to confirm it"
        )
        review_r = (
            f"{reader}() was taken as the reader variant because {why}; the series converts "
            "no caller to confirm it"
        )
    return replace(
        probe,
        reader=reader,
        writer=writer,
        writer_doubt=review_w,
        reader_doubt=review_r,
        writer_review=ops.writer_review,
        reader_review=ops.reader_review,
    )


def _by_prototype(conv: Conversion, variants: list[str]) -> tuple[str, str, str] | None:
    """(reader, writer, extra parameter) when one variant keeps the old parameters and the
    other adds only pointer out-parameters."""
    plain = [v for v in variants if conv.variants[v].pure_rename]
    more = [
        v
        for v in variants
        if not conv.variants[v].dropped
        and conv.variants[v].extras
        and all(s.param.pointee for s in conv.variants[v].extras)
    ]
    if len(plain) != 1 or len(more) != 1 or plain == more:
        return None
    extra = ", ".join(s.param.name for s in conv.variants[more[0]].extras)
    return plain[0], more[0], extra

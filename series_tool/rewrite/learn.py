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

from collections.abc import Callable, Mapping

from tree_sitter import Tree

from series_tool.models import Migration, Series

from .conversion import series_sites
from .rules import MigrationRule
from .variants import _locate, parse_text, usage_at

#: Analysis depth when learning: follow static helpers as the shipped rules do.
_FOLLOW = 2


def learn_rule(
    series: Series,
    migration: Migration,
    old: str,
    read: Callable[[str], str | None],
    param_counts: Mapping[str, int],
) -> MigrationRule | None:
    """A rule for `old` learned from the series' conversions (None if they do not tell).

    `read(path)` gives files before the series; `param_counts[variant]` how many
    parameters each new variant takes.
    """
    probe = MigrationRule(old=old, variants=tuple(migration.new), follow_depth=_FOLLOW)
    ops: dict[str, set[str]] = {}
    escaped: dict[str, int] = {}
    trees: dict[str, Tree] = {}  # one parse per file, however many sites it has
    for site in series_sites(series, old, migration.new):
        text = read(site.file)
        if text is None or site.line is None:
            continue
        tree = trees.get(site.file)
        if tree is None:
            tree = trees[site.file] = parse_text(text)
        line = _locate(text, old, site.old_args, site.line, tree)
        usage = usage_at(text, site.file, line, old, probe, tree)
        ops.setdefault(site.new, set()).update(usage.callees)
        escaped[site.new] = escaped.get(site.new, 0) + len(usage.escapes)
    if len(ops) < 2:
        return None  # one variant used (or none): nothing to contrast
    ranked = sorted(ops, key=lambda v: (escaped.get(v, 0), param_counts.get(v, 0), v))
    reader, writer = ranked[0], ranked[-1]
    others = set().union(*(ops[v] for v in ops if v != writer))
    write_ops = frozenset(ops[writer] - others)
    read_ops = frozenset(others)
    learned = ", ".join(sorted(write_ops)) or "none"
    return MigrationRule(
        old=old,
        variants=tuple(migration.new),
        reader=reader,
        writer=writer,
        write_ops=write_ops,
        read_ops=read_ops,
        unknown_is_write=True,
        escape_is_write=escaped.get(writer, 0) > 0 or not write_ops,
        follow_depth=_FOLLOW,
        writer_review=(
            f"the choice of {writer}() was learned from the series' own conversions "
            f"(write operations seen only in its callers: {learned}); confirm it, and do "
            f"what those callers do after taking the lock"
        ),
        reader_review=(
            f"the choice of {reader}() was learned from the series' own conversions; "
            "confirm the caller only reads"
        ),
    )

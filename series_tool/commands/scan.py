"""`series-tool scan`: read a list archive, find the series that remove an API, check them.

The flow, and where each part lives:

1. read the messages added since the last run (ingest.read_archive: one cat-file pipe),
   each decoded once into a small record (ingest.digest, in worker processes);
2. group the old records (from the state) and the new ones into series and keep the
   newest version of each (ingest.catalog_series / newest_versions);
3. series holding a new message whose patches remove a definition for good are read
   again in full (ingest.read_commits, full_series) and kept when the tree offers what they
   remove (checks.api_removals);
4. verify and bisect-report each against the tree, and write its report, patchwork
   check, reply mail and HTML page (scanout), then the index and the state.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from series_tool.errors import BadInput
from series_tool.ingest import (
    CatalogSeries,
    MailRecord,
    catalog_series,
    digest,
    full_series,
    is_git_archive,
    newest_versions,
    parse_since,
    read_archive,
    read_commits,
)
from series_tool.models import Ingested

from .scanout import SeriesResult, load_state, save_state, write_index, write_series

EXIT_OK = 0
EXIT_FINDING = 1

#: below this many new messages, worker processes cost more than they save
_POOL_THRESHOLD = 2000


@dataclass
class ScanStats:
    """Counts for the progress bar and the summary."""

    messages: int = 0
    records: int = 0
    series: int = 0
    candidates: int = 0
    checked: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _items(
    archive: str, after: dict[str, str] | None, since: Any, first_seq: int, raw: dict[int, bytes]
) -> Iterator[tuple[bytes, int, str, str | None, str]]:
    seq = first_seq
    for msg in read_archive(archive, after, since):
        if msg.commit is None:
            raw[seq] = msg.data  # an mbox: no commit to read it back from later
        yield (msg.data, seq, msg.epoch, msg.commit, msg.where)
        seq += 1


def _digest_all(
    items: Iterator[tuple[bytes, int, str, str | None, str]],
    jobs: int,
    on_message: Any,
) -> tuple[list[MailRecord], int]:
    """Records of every message (replies dropped) and how many messages were read."""
    records: list[MailRecord] = []
    count = 0
    first = []
    # Peek: a handful of new messages is decoded here; a whole archive in workers.
    for item in items:
        first.append(item)
        if len(first) >= _POOL_THRESHOLD:
            break
    if len(first) < _POOL_THRESHOLD or jobs <= 1:
        for item in [*first, *items]:
            count += 1
            rec = digest(item)
            on_message(rec)
            if rec is not None:
                records.append(rec)
        return records, count

    def chained() -> Iterator[tuple[bytes, int, str, str | None, str]]:
        yield from first
        yield from items

    # fork: the workers need nothing but the function; spawn would re-import everything.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        for rec in pool.imap(digest, chained(), chunksize=64):
            count += 1
            on_message(rec)
            if rec is not None:
                records.append(rec)
    return records, count


def run_scan(args: argparse.Namespace) -> int:
    """`series-tool scan`: exit 0 when every checked series is fine, 1 when one fails."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from series_tool.render import console_for

    archive = args.archive
    if not os.path.exists(archive):
        raise BadInput(archive, "no such file or directory")
    out_dir = args.output_dir
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise BadInput("-o", f"{out_dir} exists and is not a directory")
    since = parse_since(args.since) if args.since else None
    git_archive = is_git_archive(archive)
    state = load_state(out_dir)
    if args.all or state.get("archive") != os.path.abspath(archive) or not git_archive:
        # A new archive, --all, or an mbox (no commits to resume from): start over, but
        # keep the verdicts so that unchanged series are not checked again needlessly.
        checked_before = state.get("series", {}) if not args.all else {}
        state = {"archive": os.path.abspath(archive), "heads": {}, "next_seq": 0, "records": []}
        state["series"] = checked_before
    stats = ScanStats()
    started = time.monotonic()
    err = console_for(sys.stderr)
    raw_mbox: dict[int, bytes] = {}
    results: list[SeriesResult] = []
    with ExitStack() as stack:
        progress = stack.enter_context(
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
                disable=args.quiet,
            )
        )
        read_task = progress.add_task("messages read", total=None)
        series_task = progress.add_task("series found", total=None)
        check_task = progress.add_task("series checked", total=None)

        def on_message(rec: MailRecord | None) -> None:
            progress.advance(read_task)

        heads_before = dict(state["heads"])
        items = _items(archive, heads_before or None, since, state["next_seq"], raw_mbox)
        new_records, stats.messages = _digest_all(items, args.jobs, on_message)
        stats.seconds["read"] = time.monotonic() - started
        state["next_seq"] += stats.messages
        if git_archive:
            from series_tool.ingest import archive_heads

            state["heads"] = archive_heads(archive)
        old_records = [MailRecord.from_json(r) for r in state["records"]]
        stats.records = len(old_records) + len(new_records)
        todo: list[CatalogSeries] = []
        if new_records:
            t0 = time.monotonic()
            newest = newest_versions(catalog_series([*old_records, *new_records]))
            stats.seconds["group"] = time.monotonic() - t0
            stats.series = len(newest)
            progress.update(series_task, completed=len(newest), total=len(newest))
            fresh = {r.seq for r in new_records}
            todo = [
                s
                for s in newest.values()
                if any(r.seq in fresh for r in s.members)
                and s.removes_for_good()
                and state["series"].get(s.key, {}).get("fingerprint") != s.fingerprint()
            ]
        stats.candidates = len(todo)
        progress.update(check_task, total=len(todo))
        t0 = time.monotonic()
        results = _check_all(args, archive, todo, raw_mbox, state, progress, check_task, stats)
        stats.seconds["check"] = time.monotonic() - t0
        state["records"] = [r.to_json() for r in [*old_records, *new_records]]
    os.makedirs(out_dir, exist_ok=True)
    save_state(out_dir, state)
    write_index(out_dir, state["series"])
    stats.seconds["total"] = time.monotonic() - started
    return _summary(args, stats, results, state)


def _check_all(
    args: argparse.Namespace,
    archive: str,
    todo: list[CatalogSeries],
    raw_mbox: dict[int, bytes],
    state: dict[str, Any],
    progress: Any,
    task: Any,
    stats: ScanStats,
) -> list[SeriesResult]:
    from series_tool.checks import analyse, api_removals, bisect_report, verify_report
    from series_tool.replay import Tree, open_tree

    wanted = [(r.epoch, r.commit) for s in todo for r in s.members if r.commit]
    blobs = read_commits(archive, wanted) if wanted else {}

    def raw(r: MailRecord) -> bytes | None:
        return blobs.get(r.commit) if r.commit else raw_mbox.get(r.seq)

    trees: dict[str | None, Tree] = {}
    results: list[SeriesResult] = []
    for cs in todo:
        series = full_series(cs, raw, archive)
        progress.advance(task)
        if series is None:
            continue
        key = None if args.base else series.base_commit
        if key not in trees:
            trees[key] = open_tree(args.repo, args.base, series.base_commit, os.getcwd())
        tree = trees[key]
        removals = api_removals(series, tree)
        if not removals:
            state["series"].pop(cs.key, None)
            continue
        an = analyse(Ingested(series=series), tree)
        verify = verify_report(an)
        bisect = bisect_report(an)
        lead_raw = raw(cs.cover or cs.patches[0])
        result = SeriesResult.build(cs, series, removals, verify, bisect, lead_raw, args.list)
        entry = write_series(args.output_dir, result, args.url_base)
        state["series"][cs.key] = entry
        results.append(result)
        stats.checked += 1
    return results


def _summary(
    args: argparse.Namespace, stats: ScanStats, results: list[SeriesResult], state: dict[str, Any]
) -> int:
    from series_tool.render import console_for, scan_text, to_json

    summary = {
        "archive": state["archive"],
        "output": os.path.abspath(args.output_dir),
        "messages_read": stats.messages,
        "records": stats.records,
        "series_found": stats.series,
        "series_checked": stats.checked,
        "checked": [r.summary() for r in results],
        "seconds": {k: round(v, 3) for k, v in stats.seconds.items()},
    }
    if args.format == "json":
        sys.stdout.write(to_json(summary))
    else:
        scan_text(console_for(sys.stdout), summary)
    return EXIT_FINDING if any(r.state == "fail" for r in results) else EXIT_OK

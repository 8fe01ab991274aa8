"""`series-tool scan`: read a list archive, find the series that remove an API, check them.

The flow, and where each part lives:

1. read the messages added since the last run (ingest.read_archive: one cat-file pipe),
   each decoded once into a small record (commands.digest, in worker processes);
2. group the old records (from the state) and the new ones into series and keep the
   newest version of each (ingest.catalog_series / newest_versions);
3. series holding a new message whose patches remove a definition for good are read
   again in full (ingest.read_commits, full_series) and kept when the tree offers what they
   remove (checks.api_removals);
4. check each against the tree in a child process within a time budget: does it apply,
   then verify and bisect-report (scancheck); write its report, patchwork check, reply
   mail and HTML page (scanout), then the index and the state (scanstate).
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
    ArchivePlan,
    CatalogSeries,
    MailRecord,
    ThreadEntry,
    catalog_series,
    full_series,
    is_git_archive,
    newest_versions,
    parse_since,
    plan_archive,
    read_commits,
    read_plan,
    thread_entry,
)

from .scancheck import SeriesChecker
from .scanout import write_index
from .scanstate import (
    STATE_FILE,
    load_records,
    load_state,
    new_state,
    save_records,
    save_state,
    save_threads,
)

EXIT_OK = 0
EXIT_FINDING = 1

#: below this many new messages, worker processes cost more than they save
_POOL_THRESHOLD = 2000
#: series whose messages are read back from the archive together
_BATCH = 200


@dataclass
class ScanStats:
    """Counts for the progress bar and the summary."""

    messages: int = 0
    records: int = 0
    series: int = 0
    candidates: int = 0
    checked: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    #: pull requests met in the new mail (skipped: a merge to ask for, not patches)
    pulls: list[dict[str, str]] = field(default_factory=list)


def _items(
    plan: ArchivePlan, first_seq: int, raw: dict[int, bytes], threads: list[ThreadEntry]
) -> Iterator[tuple[bytes, int, str, str | None, str]]:
    seq = first_seq
    for msg in read_plan(plan):
        if msg.commit is None:
            raw[seq] = msg.data  # an mbox: no commit to read it back from later
        else:
            threads.append(thread_entry(msg))  # replies too: --message-id takes threads
        yield (msg.data, seq, msg.epoch, msg.commit, msg.where)
        seq += 1


def _digest_all(
    plan: ArchivePlan,
    first_seq: int,
    raw: dict[int, bytes],
    threads: list[ThreadEntry],
    jobs: int,
    on_message: Any,
) -> tuple[list[MailRecord], int]:
    """Records of every message (replies dropped) and how many messages were read."""
    from .digest import digest  # the C parser: only when there is mail to read

    records: list[MailRecord] = []
    count = 0
    if plan.total < _POOL_THRESHOLD or jobs <= 1:
        for item in _items(plan, first_seq, raw, threads):
            count += 1
            rec = digest(item)
            on_message(rec)
            if rec is not None:
                records.append(rec)
        return records, count
    # fork: the workers need nothing but the function (spawn would re-import everything),
    # and they are forked before the cat-file pipe opens, so none of them holds it.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        for rec in pool.imap(digest, _items(plan, first_seq, raw, threads), chunksize=64):
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
    if args.jobs < 1:
        raise BadInput("--jobs", f"must be at least 1, not {args.jobs}")
    if not args.budget > 0:
        raise BadInput("--budget", f"must be a positive number of seconds, not {args.budget:g}")
    since = parse_since(args.since) if args.since else None
    git_archive = is_git_archive(archive)
    state = load_state(out_dir)
    state_path = os.path.join(out_dir, STATE_FILE)
    if args.all or state.get("archive") != os.path.abspath(archive) or not git_archive:
        # A new archive, --all, or an mbox (no commits to resume from): start over, but
        # keep the verdicts so that unchanged series are not checked again needlessly.
        checked_before = state.get("series", {}) if not args.all else {}
        state = new_state(os.path.abspath(archive), checked_before)
    stats = ScanStats()
    started = time.monotonic()
    err = console_for(sys.stderr)
    raw_mbox: dict[int, bytes] = {}
    threads: list[ThreadEntry] = []
    results: list[dict[str, Any]] = []
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
        plan = plan_archive(archive, heads_before or None, since)
        progress.update(read_task, total=plan.total)
        new_records, stats.messages = _digest_all(
            plan, state["next_seq"], raw_mbox, threads, args.jobs, on_message
        )
        stats.pulls = [
            {"message_id": r.message_id, "subject": r.subject, "pull": r.pull}
            for r in new_records
            if r.pull is not None
        ]
        new_records = [r for r in new_records if r.pull is None]
        stats.seconds["read"] = time.monotonic() - started
        state["next_seq"] += stats.messages
        state["heads"] = {**state["heads"], **plan.heads}
        stats.records = int(state.get("records_count", 0)) + len(new_records)
        todo: list[CatalogSeries] = []
        retry = any(e.get("retry") for e in state["series"].values())
        if new_records or (stats.messages and retry):
            t0 = time.monotonic()
            # The earlier records become objects only when new mail may join their series.
            old_records = load_records(out_dir, state)
            newest = newest_versions(catalog_series([*old_records, *new_records]))
            stats.seconds["group"] = time.monotonic() - t0
            stats.series = len(newest)
            progress.update(series_task, completed=len(newest), total=len(newest))
            fresh = {r.seq for r in new_records}
            # A series left unchecked for lack of time is tried again (with new mail).
            todo = [
                s
                for s in newest.values()
                if (
                    any(r.seq in fresh for r in s.members)
                    or state["series"].get(s.key, {}).get("retry")
                )
                and s.may_remove_api()
                and state["series"].get(s.key, {}).get("fingerprint") != s.fingerprint()
            ]
        stats.candidates = len(todo)
        progress.update(check_task, total=len(todo))
        t0 = time.monotonic()
        results = _check_all(args, archive, todo, raw_mbox, state, progress, check_task, stats)
        stats.seconds["check"] = time.monotonic() - t0
    os.makedirs(out_dir, exist_ok=True)
    # Nothing new (the bot's usual run): leave the state and the index as they are.
    # A state of the first format (records inside) is moved to the new one once.
    migrate = "records" in state
    if (
        stats.messages
        or state["heads"] != heads_before
        or migrate
        or not os.path.exists(state_path)
    ):
        save_records(out_dir, state, new_records)
        save_threads(out_dir, state, threads)
        save_state(out_dir, state)
    if stats.messages or not os.path.exists(os.path.join(out_dir, "index.html")):
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
) -> list[dict[str, Any]]:
    """Check every series of ``todo`` (see scancheck); the summary line of each result."""
    results: list[dict[str, Any]] = []

    def done(cs: CatalogSeries, outcome: dict[str, Any]) -> None:
        progress.advance(task)
        if outcome.get("drop"):
            state["series"].pop(cs.key, None)  # removes nothing the tree offers
            return
        state["series"][cs.key] = outcome["entry"]
        results.append({**outcome["summary"], "state": outcome["state"]})
        stats.checked += 1

    checker = SeriesChecker(args, args.jobs, args.budget, done)
    try:
        # Read the messages back a batch of series at a time: a whole archive's candidates
        # at once would hold hundreds of megabytes of mail.
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]
            wanted = [(r.epoch, r.commit) for s in batch for r in s.members if r.commit]
            blobs = read_commits(archive, wanted) if wanted else {}

            def raw(r: MailRecord, blobs: dict[str, bytes] = blobs) -> bytes | None:
                return blobs.get(r.commit) if r.commit else raw_mbox.get(r.seq)

            for cs in batch:
                series = full_series(cs, raw, archive)
                if series is None:
                    progress.advance(task)
                    continue  # a message was removed from the archive meanwhile
                checker.submit(cs, series, raw(cs.cover or cs.patches[0]))
        checker.finish()
    finally:
        checker.abort()
    return results


def _summary(
    args: argparse.Namespace, stats: ScanStats, results: list[dict[str, Any]], state: dict[str, Any]
) -> int:
    from series_tool.render import console_for, scan_text, to_json

    summary = {
        "archive": state["archive"],
        "output": os.path.abspath(args.output_dir),
        "messages_read": stats.messages,
        "records": stats.records,
        "series_found": stats.series,
        "series_checked": stats.checked,
        "pulls_skipped": len(stats.pulls),
        "pulls": stats.pulls,
        "checked": results,
        "seconds": {k: round(v, 3) for k, v in stats.seconds.items()},
    }
    if args.format == "json":
        sys.stdout.write(to_json(summary))
    else:
        scan_text(console_for(sys.stdout), summary)
    return EXIT_FINDING if any(r["state"] == "fail" for r in results) else EXIT_OK

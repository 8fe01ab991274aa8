"""Check the selected series of a scan: each in its own process, within a time budget.

One series is checked in one forked child process (up to ``--jobs`` at a time): it opens
the tree, asks whether the series removes an API the tree has, whether it applies (the
first failing patch ends the check: a result, cheap to get), and only then runs the one
analysis verify and bisect-report share; it writes the series' files and sends back a
small JSON outcome. A child still running when its budget (``--budget`` seconds) runs
out is killed with every process it started (git grep, cat-file), and the series gets
the verdict "not checked: over budget" (a warning, never an OK). A child that dies
without an answer gets "not checked: internal error".

The child inherits the parsed series through fork (nothing to pickle), and nothing it
does can leave the parent's git pipes or the user's repository in another state.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from series_tool.errors import BadInput
from series_tool.ingest import CatalogSeries
from series_tool.models import Ingested, Series

from .scanout import SeriesResult, write_series

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from series_tool.replay import Replay, Tree

#: the outcome a child sends back: {"drop": True} (removes nothing the tree has), or
#: {"entry": state entry, "summary": summary line, "state": verdict}
Outcome = dict[str, Any]


def first_failure(series: Series, tree: Tree) -> tuple[dict[str, Any] | None, Replay | None]:
    """The first patch that does not apply to the tree (replayed in memory), or None; and
    the replay (None without a tree).

    A cheap question (only the files the series touches are read) asked before verify,
    whose tree-wide grep is the expensive part: most of an old archive does not apply to
    a newer tree, and for those the answer is the failing patch.
    """
    from series_tool.replay import replay

    if tree.series_only:
        return None, None
    rep = replay(series.patches, tree)
    for step in rep.steps:
        if step.apply.status == "failed":
            patch = series.patch(step.apply.patch) if step.apply.patch is not None else None
            return {
                "patch": step.apply.patch,
                "status": "failed",
                "subject": patch.subject if patch else "",
                "message": step.apply.message,
            }, rep
    return None, rep


def _result(
    args: argparse.Namespace, cs: CatalogSeries, series: Series, lead_raw: bytes | None
) -> SeriesResult | None:
    """The verdict on one series, or None when it removes nothing the tree offers."""
    from series_tool.checks import (
        analyse,
        api_removals,
        bisect_report,
        still_removed,
        verify_report,
    )
    from series_tool.replay import open_tree

    tree = open_tree(args.repo, args.base, series.base_commit, os.getcwd())
    removals = api_removals(series, tree)
    if not removals:
        return None
    failure, rep = first_failure(series, tree)
    if failure is not None:
        info = {"kind": tree.kind, "path": getattr(tree, "path", None)}
        info["base"] = getattr(tree, "base", None)
        return SeriesResult.not_applying(cs, series, removals, info, failure, lead_raw, args.list)
    if rep is not None and rep.steps:
        # What the series leaves defined (another #ifdef branch of a macro) is not gone.
        removals = still_removed(removals, rep.base.get, rep.steps[-1].read)
        if not removals:
            return None
    an = analyse(Ingested(series=series), tree)
    return SeriesResult.build(
        cs, series, removals, verify_report(an), bisect_report(an), lead_raw, args.list
    )


def check_series(
    args: argparse.Namespace, cs: CatalogSeries, series: Series, lead_raw: bytes | None
) -> Outcome:
    """Check one series and write its files (in the calling process)."""
    try:
        result = _result(args, cs, series, lead_raw)
        if result is None:
            return {"drop": True}
    except BadInput as exc:
        # A series the checks cannot read is a result about that series (said in its
        # report), not the end of the scan.
        result = SeriesResult.unchecked(cs, series, exc.message, lead_raw, args.list)
    except Exception as exc:  # a bug on one series must not hide all the others
        if os.environ.get("SERIES_TOOL_DEBUG"):
            traceback.print_exc()
        reason = f"internal error: {type(exc).__name__}: {exc} (please report it)"
        result = SeriesResult.unchecked(cs, series, reason, lead_raw, args.list)
    return outcome_of(args, result)


def outcome_of(args: argparse.Namespace, result: SeriesResult) -> Outcome:
    """Write a result's files; the outcome the parent keeps."""
    entry = write_series(args.output_dir, result, args.url_base)
    return {"entry": entry, "summary": result.summary(), "state": result.state}


def _child(
    conn: Connection,
    args: argparse.Namespace,
    cs: CatalogSeries,
    series: Series,
    lead_raw: bytes | None,
) -> None:
    # Its own process group: on budget, the parent kills it and every git it started.
    os.setpgid(0, 0)
    try:
        outcome = check_series(args, cs, series, lead_raw)
    except BadInput as exc:  # the output folder could not be written
        outcome = {"bad_input": [exc.where, exc.message]}
    conn.send(outcome)
    conn.close()
    # Out at once: the usual exit flushes stdio, whose locks the parent's progress thread
    # may have held at fork time (the child never writes there; it must not wait there).
    os._exit(0)


@dataclass
class _Running:
    process: BaseProcess
    conn: Connection
    cs: CatalogSeries
    series: Series
    lead_raw: bytes | None
    deadline: float


def _kill(process: BaseProcess) -> None:
    pid = process.pid
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.join()


class SeriesChecker:
    """Runs :func:`check_series` for each series given, ``jobs`` at a time, each in a
    forked child within ``budget`` seconds; ``on_done(cs, outcome)`` gets every outcome
    (in the parent, in the order they finish)."""

    def __init__(
        self,
        args: argparse.Namespace,
        jobs: int,
        budget: float,
        on_done: Callable[[CatalogSeries, Outcome], None],
    ) -> None:
        self.args = args
        self.jobs = jobs
        self.budget = budget
        self.on_done = on_done
        self._ctx = multiprocessing.get_context("fork")
        self._running: list[_Running] = []

    def submit(self, cs: CatalogSeries, series: Series, lead_raw: bytes | None) -> None:
        """Start checking a series (waiting first while ``jobs`` children run)."""
        while len(self._running) >= self.jobs:
            self._collect()
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=_child, args=(sender, self.args, cs, series, lead_raw), daemon=True
        )
        process.start()
        sender.close()
        assert process.pid is not None
        # Also here, so that no kill can come before the child's own setpgid; an error
        # means it did it already (or is gone: its pipe says so).
        with contextlib.suppress(PermissionError, ProcessLookupError):
            os.setpgid(process.pid, process.pid)
        deadline = time.monotonic() + self.budget
        self._running.append(_Running(process, receiver, cs, series, lead_raw, deadline))

    def finish(self) -> None:
        """Wait for every child still running."""
        while self._running:
            self._collect()

    def abort(self) -> None:
        """Kill every child still running, with the processes it started (an interrupt
        or an error in the parent: nothing may go on checking behind the user's back)."""
        for r in self._running:
            _kill(r.process)
            r.conn.close()
        self._running.clear()

    def _collect(self) -> None:
        """Wait for one child to answer or run out of budget; hand over its outcome."""
        now = time.monotonic()
        timeout = max(0.0, min(r.deadline for r in self._running) - now)
        ready = wait([r.conn for r in self._running], timeout=timeout)
        now = time.monotonic()
        for r in list(self._running):
            if r.conn in ready:
                try:
                    outcome: Outcome = r.conn.recv()
                except (EOFError, OSError):
                    r.process.join()
                    outcome = self._unchecked(r, self._died(r))
                else:
                    r.process.join(timeout=5)
                    if r.process.is_alive():  # answered, then stuck: it has nothing left
                        _kill(r.process)
            elif now >= r.deadline:
                _kill(r.process)
                reason = f"over budget: still running after {self.budget:g} s (--budget)"
                outcome = self._unchecked(r, reason)
                # No fingerprint: the next run with new mail tries it again.
                outcome["entry"] = {**outcome["entry"], "fingerprint": None, "retry": True}
            else:
                continue
            r.conn.close()
            self._running.remove(r)
            if "bad_input" in outcome:
                where, message = outcome["bad_input"]
                raise BadInput(where, message)
            self.on_done(r.cs, outcome)

    @staticmethod
    def _died(r: _Running) -> str:
        code = r.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return f"internal error: the checking process ended with {how} (please report it)"

    def _unchecked(self, r: _Running, reason: str) -> Outcome:
        result = SeriesResult.unchecked(r.cs, r.series, reason, r.lead_raw, self.args.list)
        return outcome_of(self.args, result)

"""Time `series-tool scan` on a real list archive against `git cat-file` over the same repo.

The archive is a public-inbox epoch repository, e.g. the linuxppc-dev mirror on GitHub
(linux-mailinglist-archives/linuxppc-dev.lists.ozlabs.org.0, ~100,000 messages); it is
never copied into the project. In one run this prints:

- the floor: `git cat-file --batch-all-objects --batch` (every object of the repo read once);
- scan from scratch (`--all`, a fresh -o DIR) against the tree, with its own phase times
  (read = reading and decoding every message, group = grouping, check = selection, verify
  and bisect-report);
- scan again with no new mail (the incremental case), median of 5.

Usage: python benchmarks/bench_scan.py ARCHIVE [--repo TREE] [--jobs N]
(TREE defaults to the linux-source-6.12 repository the kernel tests use.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import kernel_repo_or_reason, run_timed

ROOT = Path(__file__).resolve().parents[1]


def _scan(archive: str, repo: str, out: str, jobs: int, *extra: str) -> tuple[float, dict]:  # type: ignore[type-arg]
    """Wall time and JSON summary of one scan; prints its CPU time (all processes)."""
    cmd = [sys.executable, "-m", "series_tool.cli", "scan", archive, "--repo", repo]
    cmd += ["-o", out, "--format", "json", "-q", "--jobs", str(jobs), *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if code not in (0, 1):
            raise SystemExit(f"scan exited {code}: {stderr.read().decode()[-2000:]}")
        summary = json.loads(stdout.read())
    # CPU time (scan, its worker processes and git): on a shared machine the wall time
    # also counts other people's work, this does not.
    summary["cpu"] = usage.ru_utime + usage.ru_stime
    return elapsed, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive")
    ap.add_argument("--repo")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-o", "--keep", metavar="DIR", help="scan into DIR and keep it (to look at)")
    args = ap.parse_args()
    repo = args.repo
    if repo is None:
        path, reason = kernel_repo_or_reason()
        if path is None:
            raise SystemExit(reason)
        repo = str(path)
    count = subprocess.run(
        ["git", "--git-dir", args.archive, "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    floor, _ = run_timed(
        ["git", "--git-dir", args.archive, "cat-file", "--batch-all-objects", "--batch"], ROOT
    )
    load = os.getloadavg()[0]
    print(f"archive: {args.archive} ({count} messages); tree: {repo}; {args.jobs} jobs")
    print(f"load average {load:.1f} on {os.cpu_count()} cores at the start")
    print(f"floor   git cat-file --batch-all-objects --batch: {floor:.1f} s")
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        out = args.keep or str(Path(tmp) / "out")
        full, rep = _scan(args.archive, repo, out, args.jobs, "--all")
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in rep["seconds"].items())
        print(
            f"scan from scratch: {full:.1f} s wall, {rep['cpu']:.1f} s CPU ({phases}); "
            f"{rep['messages_read']} messages, "
            f"{rep['series_found']} series, {rep['series_checked']} API-removal series checked"
        )
        print(
            f"  ratio to the floor: {full / floor:.1f}x; reading+grouping "
            f"{rep['seconds']['read'] + rep['seconds'].get('group', 0):.1f} s"
        )
        states: dict[str, int] = {}
        for s in rep["checked"]:
            states[s["state"]] = states.get(s["state"], 0) + 1
        print(f"  verdicts: {states}")
        again = [_scan(args.archive, repo, out, args.jobs)[0] for _ in range(5)]
        print(
            f"scan, no new mail: median {statistics.median(again):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in again)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

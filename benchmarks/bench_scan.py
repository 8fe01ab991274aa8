"""Time `series-tool scan` on a real list archive against `git cat-file` over the same repo.

The archive is a public-inbox epoch repository, e.g. the linuxppc-dev mirror on GitHub
(linux-mailinglist-archives/linuxppc-dev.lists.ozlabs.org.0, ~100,000 messages); it is
never copied into the project. In one run this prints:

- the floor: `git cat-file --batch-all-objects --batch` (every object of the repo read once);
- scan from scratch (`--all`, a fresh -o DIR) against the tree, with its own phase times
  (read = reading and decoding every message, group = grouping, check = selection, verify
  and bisect-report);
- scan again with no new mail (the incremental case), median of 5;
- `show --message-id` of the archive's first message: reading the whole archive, and
  with `--scan-dir` (the thread index the scan keeps).

Wall and CPU (user+sys of the command and its children) are printed side by side, with
the load average: on a shared machine the CPU times are the fair comparison.

Usage: python benchmarks/bench_scan.py ARCHIVE [--repo TREE] [--jobs N] [--budget S]
(TREE defaults to the linux-source-6.12 repository the kernel tests use.)
"""

from __future__ import annotations

import argparse
import email
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import kernel_repo_or_reason

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, int, bytes]:
    """(wall, CPU of the process and its children, exit status, stdout) of one run.

    The runs get the XDG_CACHE_HOME main() chose: an empty one unless --word-index (the
    git grep path a first run on a tree takes).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if code not in ok:
            raise SystemExit(f"{' '.join(cmd[:4])} exited {code}: {stderr.read().decode()[-2000:]}")
        # CPU time (the command, its worker processes and git): on a shared machine the
        # wall time also counts other people's work, this does not.
        return elapsed, usage.ru_utime + usage.ru_stime, code, stdout.read()


def _scan(archive: str, repo: str, out: str, jobs: int, *extra: str) -> tuple[float, dict]:  # type: ignore[type-arg]
    """Wall time and JSON summary of one scan (its CPU time under "cpu")."""
    cmd = [sys.executable, "-m", "series_tool.cli", "scan", archive, "--repo", repo]
    cmd += ["-o", out, "--format", "json", "-q", "--jobs", str(jobs), *extra]
    elapsed, cpu, _, stdout = _timed(cmd)
    summary = json.loads(stdout)
    summary["cpu"] = cpu
    return elapsed, summary


def _first_message_id(archive: str) -> str:
    """The Message-Id of the archive's first message that has one (any thread will do)."""
    commits = subprocess.run(
        ["git", "--git-dir", archive, "rev-list", "--reverse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for commit in commits[:100]:
        data = subprocess.run(
            ["git", "--git-dir", archive, "cat-file", "blob", f"{commit}:m"],
            capture_output=True,
            check=False,
        ).stdout
        msg = email.message_from_bytes(data.split(b"\n\n", 1)[0] + b"\n\n")
        if msg["Message-Id"]:
            return str(msg["Message-Id"]).strip().strip("<>")
    raise SystemExit(f"{archive}: no Message-Id in its first 100 messages")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def main() -> int:
    # Each line as soon as it is known (a whole-archive run is long; the file may be read
    # while it goes on).
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive")
    ap.add_argument("--repo")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--budget", type=float, default=120.0, help="scan --budget (seconds)")
    ap.add_argument("-o", "--keep", metavar="DIR", help="scan into DIR and keep it (to look at)")
    ap.add_argument(
        "--word-index",
        action="store_true",
        help="let verify use the tree's word index (`series-tool index`) if one was built",
    )
    args = ap.parse_args()
    repo = args.repo
    if repo is None:
        path, reason = kernel_repo_or_reason()
        if path is None:
            raise SystemExit(reason)
        repo = str(path)
    if not args.word_index:
        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="series-tool-bench-")
    count = subprocess.run(
        ["git", "--git-dir", args.archive, "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"archive: {args.archive} ({count} messages); tree: {repo}; {args.jobs} jobs")
    print(f"{_load()} at the start")
    floor_cmd = ["git", "--git-dir", args.archive, "cat-file", "--batch-all-objects", "--batch"]
    floor, floor_cpu, _, _ = _timed(floor_cmd)
    print(
        f"floor   git cat-file --batch-all-objects --batch: {floor:.1f} s wall, "
        f"{floor_cpu:.1f} s CPU"
    )
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        out = args.keep or str(Path(tmp) / "out")
        budget = ["--budget", str(args.budget)]
        full, rep = _scan(args.archive, repo, out, args.jobs, "--all", *budget)
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in rep["seconds"].items())
        print(
            f"scan from scratch: {full:.1f} s wall, {rep['cpu']:.1f} s CPU ({phases}); "
            f"{rep['messages_read']} messages, "
            f"{rep['series_found']} series, {rep['series_checked']} API-removal series checked"
        )
        reading = rep["seconds"]["read"] + rep["seconds"].get("group", 0)
        print(
            f"  ratio to the floor: {full / floor:.1f}x wall, {rep['cpu'] / floor_cpu:.1f}x CPU; "
            f"reading+grouping {reading:.1f} s wall"
        )
        states: dict[str, int] = {}
        over = 0
        for s in rep["checked"]:
            states[s["state"]] = states.get(s["state"], 0) + 1
            over += s["description"].startswith("not checked: over budget")
        print(f"  verdicts: {states}; not checked for lack of time: {over}")
        print(f"  {_load()} after the scan")
        again = [_scan(args.archive, repo, out, args.jobs) for _ in range(5)]
        walls = [t for t, _ in again]
        cpus = [r["cpu"] for _, r in again]
        print(
            f"scan, no new mail: median {statistics.median(walls):.2f} s wall, "
            f"{statistics.median(cpus):.2f} s CPU "
            f"(runs: {', '.join(f'{t:.2f}' for t in walls)})"
        )
        mid = _first_message_id(args.archive)
        show = [sys.executable, "-m", "series_tool.cli", "show", "--message-id", mid]
        show += ["--archive", args.archive, "--format", "json"]
        # A thread without a patch is exit 2 ("no patch found"): still a thread read.
        whole = _timed(show, (0, 1, 2))
        indexed = _timed([*show, "--scan-dir", out], (0, 1, 2))
        same = "same output" if whole[3] == indexed[3] else "DIFFERENT OUTPUT"
        print(
            f"show --message-id <{mid}>: whole archive {whole[0]:.1f} s wall, "
            f"{whole[1]:.1f} s CPU; with --scan-dir {indexed[0]:.2f} s wall, "
            f"{indexed[1]:.2f} s CPU ({same})"
        )
    print(f"{_load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scale workloads of issue 11 on Debian's 6.12 tree, each next to its floor (git grep -w).

Workloads (the series are generated from the kernel tree at run time, see series_gen.py):
  kmemdup   verify v4 --old kmemdup                          target <= 2x git grep
  kzalloc   verify v4 --old kzalloc                          target <= 3x, <= 300 MB
  rename1k  verify of a 1,000-patch rename series             target <= 3x, <= 500 MB
  series5k  verify of a 5,000-patch rename series             target < 30 s
  index100  100 reference searches through `series-tool index`'s word index, in one process,
            against 10 git greps                                  target: ratio < 1
Each round runs the floor and then ours, alternating; medians and the peak RSS of ours
(process tree) are printed, then one table. The machine may be shared: read the ratios.
Run: python benchmarks/bench_scale.py [--rounds N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from series_gen import series
from timing import CORPUS, ROOT, kernel_repo_or_reason


@dataclass
class Workload:
    name: str
    ours: list[str]
    floor: list[str]
    target: str
    ours_ok: tuple[int, ...] = (0, 1)
    #: Extra environment of ours (the git-grep workloads get an empty XDG_CACHE_HOME).
    env: dict[str, str] | None = None


def _tool() -> list[str]:
    # This checkout's code, not whatever `series-tool` is installed on PATH.
    os.environ["PYTHONPATH"] = str(ROOT)
    compileall.compile_dir(str(ROOT / "series_tool"), quiet=1)
    return [sys.executable, "-m", "series_tool.cli"]


def workloads(repo: Path, names: set[str] | None) -> list[Workload]:
    """The workloads asked for (all by default); series are generated when first needed."""
    tool = _tool()
    v4 = str(CORPUS / "pte-nolock" / "v4.mbox")
    out: list[Workload] = []

    def want(name: str) -> bool:
        return names is None or name in names

    # No word index (`series-tool index` of ~/.cache): these measure the git grep path.
    fresh = {"XDG_CACHE_HOME": tempfile.mkdtemp(prefix="series-tool-bench-")}
    for sym, target in (("kmemdup", "<= 2x"), ("kzalloc", "<= 3x, <= 300 MB")):
        if want(sym):
            out.append(
                Workload(
                    sym,
                    [*tool, "verify", v4, "--old", sym, "--format", "json"],
                    ["git", "grep", "-w", sym],
                    target,
                    env=fresh,
                )
            )
    for name, sym, n, target in (
        ("rename1k", "of_property_read_u32", 1000, "<= 3x, <= 500 MB"),
        ("series5k", "regmap_write", 5000, "< 30 s"),
    ):
        if want(name):
            mbox = str(series(repo, sym, n))
            out.append(
                Workload(
                    name,
                    [*tool, "verify", mbox, "--format", "json"],
                    ["git", "grep", "-w", sym],
                    target,
                    env=fresh,
                )
            )
    if want("index100"):
        syms = ["pte_offset_map_nolock", "pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"]
        query = (
            "import sys; from series_tool.replay import GitTree, WordIndex; "
            "t = GitTree('.'); assert WordIndex.for_commit('.', 'HEAD') is not None; "
            f"[t.grep_words({syms!r}) for _ in range(100)]"
        )
        grep10 = " ; ".join(["git grep -w -P '(?:" + "|".join(syms) + ")' >/dev/null"] * 10)
        out.append(
            Workload(
                "index100",
                [sys.executable, "-c", query],
                ["sh", "-c", grep10],
                "100 queries < 10 greps (ratio < 1)",
            )
        )
    return out


def ensure_index(repo: Path) -> None:
    """Build the word index of the kernel's HEAD once (timed), and check it answers as
    git grep does for a few symbols."""
    sys.path.insert(0, str(ROOT))
    from series_tool.replay import GitTree, WordIndex, build_index

    if WordIndex.for_commit(str(repo), "HEAD") is None:
        start = time.perf_counter()
        path, files, words = build_index(str(repo))
        took = time.perf_counter() - start
        print(f"index built in {took:.0f} s: {files} files, {words} words, {path}")
    tree = GitTree(str(repo))
    for syms in (["kmemdup"], ["pte_offset_map_nolock", "pte_offset_map_lock"]):
        indexed = tree.grep_words(syms)
        grepped = tree._grep_rev(syms)
        assert indexed == grepped, f"index and git grep differ for {syms}"


def _run(
    cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0, 1), env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and peak RSS (KiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **env} if env else None,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed: {err}")
    return wall, usage.ru_utime + usage.ru_stime, int(usage.ru_maxrss)


def measure(w: Workload, repo: Path, rounds: int) -> tuple[float, float, float, float, int]:
    """Medians (wall, CPU) of ours and of the floor, and our peak RSS in KiB. The machine
    may be shared: the CPU ratio is the steadier one there."""
    _run(w.floor, repo)  # warm the page cache for both
    ours: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    peak = 0
    for _ in range(rounds):
        fw, fc, _ = _run(w.floor, repo)
        ow, oc, rss = _run(w.ours, repo, w.ours_ok, w.env)
        floor.append((fw, fc))
        ours.append((ow, oc))
        peak = max(peak, rss)
    mo = statistics.median(t for t, _ in ours)
    mf = statistics.median(t for t, _ in floor)
    co = statistics.median(c for _, c in ours)
    cf = statistics.median(c for _, c in floor)
    print(f"{w.name}: ours {mo:.2f} s wall, {co:.2f} s CPU (runs {[round(t, 2) for t, _ in ours]})")
    print(f"  floor {' '.join(w.floor)[:70]}: {mf:.2f} s wall, {cf:.2f} s CPU")
    print(f"  ratio {mo / mf:.2f} wall, {co / cf:.2f} CPU; peak {peak // 1024} MB")
    return mo, mf, co, cf, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="workload names (default: all)")
    args = ap.parse_args()
    repo, reason = kernel_repo_or_reason()
    if repo is None:
        print(f"skipped: {reason}")
        return 0
    rows = []
    if not args.only or "index100" in args.only:
        ensure_index(repo)
    for w in workloads(repo, set(args.only) if args.only else None):
        mo, mf, co, cf, peak = measure(w, repo, args.rounds)
        rows.append((w.name, mo, mf, co, cf, peak, w.target))
    print(
        f"\n{'workload':<10} {'ours s':>7} {'floor s':>7} {'ratio':>6} {'CPU ratio':>9} "
        f"{'peak MB':>8}  target"
    )
    for name, mo, mf, co, cf, peak, target in rows:
        print(
            f"{name:<10} {mo:7.2f} {mf:7.2f} {mo / mf:6.2f} {co / cf:9.2f} {peak // 1024:8d}  "
            f"{target}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

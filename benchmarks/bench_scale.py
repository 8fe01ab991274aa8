"""Scale workloads of issue 11 on Debian's 6.12 tree, each next to its floor (git grep -w).

Workloads (the series are generated from the kernel tree at run time, see series_gen.py):
  kmemdup   verify v4 --old kmemdup                          target <= 2x git grep
  kzalloc   verify v4 --old kzalloc                          target <= 3x, <= 300 MB
  rename1k  verify of a 1,000-patch rename series             target <= 3x, <= 500 MB
  series5k  verify of a 5,000-patch rename series             target < 30 s
Each round runs the floor and then ours, alternating; medians and the peak RSS of ours
(process tree) are printed, then one table. The machine may be shared: read the ratios.
Run: python benchmarks/bench_scale.py [--rounds N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from series_gen import series
from timing import CORPUS, ROOT, kernel_repo_or_reason, run_timed


@dataclass
class Workload:
    name: str
    ours: list[str]
    floor: list[str]
    target: str
    ours_ok: tuple[int, ...] = (0, 1)


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

    for sym, target in (("kmemdup", "<= 2x"), ("kzalloc", "<= 3x, <= 300 MB")):
        if want(sym):
            out.append(
                Workload(
                    sym,
                    [*tool, "verify", v4, "--old", sym, "--format", "json"],
                    ["git", "grep", "-w", sym],
                    target,
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
                )
            )
    return out


def measure(w: Workload, repo: Path, rounds: int) -> tuple[float, float, int]:
    """Median seconds of ours and of the floor, and our peak RSS in KiB."""
    run_timed(w.floor, repo)  # warm the page cache for both
    t_ours: list[float] = []
    t_floor: list[float] = []
    peak = 0
    for _ in range(rounds):
        tf, _ = run_timed(w.floor, repo)
        to, rss = run_timed(w.ours, repo, w.ours_ok)
        t_floor.append(tf)
        t_ours.append(to)
        peak = max(peak, rss)
    mo, mf = statistics.median(t_ours), statistics.median(t_floor)
    print(f"{w.name}: ours {mo:.2f} s (runs {', '.join(f'{t:.2f}' for t in t_ours)}), ")
    print(f"  floor {' '.join(w.floor)} {mf:.2f} s, ratio {mo / mf:.2f}, peak {peak // 1024} MB")
    return mo, mf, peak


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
    for w in workloads(repo, set(args.only) if args.only else None):
        mo, mf, peak = measure(w, repo, args.rounds)
        rows.append((w.name, mo, mf, peak, w.target))
    print(f"\n{'workload':<10} {'ours s':>8} {'grep s':>8} {'ratio':>6} {'peak MB':>8}  target")
    for name, mo, mf, peak, target in rows:
        print(f"{name:<10} {mo:8.2f} {mf:8.2f} {mo / mf:6.2f} {peak // 1024:8d}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

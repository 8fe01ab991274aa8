"""`bisect-report --build kernel` of the real v4 (13 steps) on Debian's 6.12 tree, x86_64.

Target (issue 13): configure + every step's targeted objects <= 3 minutes on 2 cores.
Baseline, same run, same configuration, at the base: `make -j2 mm/` (every object of the
directory the series lives in) and, with --full, one full `make -j2` (the floor a naive
per-step build multiplies by 13; it takes long: run it once).

Run: python benchmarks/bench_build.py [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import CORPUS, ROOT, kernel_repo_or_reason


def _run(argv: list[str], cwd: Path, log: Path) -> float:
    start = time.perf_counter()
    with open(log, "ab") as out:
        subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also time one full make -j2")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    kernel, reason = kernel_repo_or_reason()
    if kernel is None:
        print(f"skipped: {reason}")
        return 0
    with tempfile.TemporaryDirectory(prefix="series-tool-bench-build-") as tmp:
        work = Path(tmp)
        repo = work / "linux.git"  # the user's repository: a bare clone sharing the objects
        subprocess.run(["git", "clone", "-q", "--bare", "--shared", str(kernel), str(repo)])
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        start = time.perf_counter()
        series = str(CORPUS / "pte-nolock" / "v4.mbox")
        argv = [sys.executable, "-m", "series_tool.cli", "bisect-report", series]
        argv += ["--repo", str(repo), "--build", "kernel", "--jobs", str(args.jobs)]
        proc = subprocess.run(
            [*argv, "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            raise SystemExit(f"series-tool exited {proc.returncode}: {proc.stderr}")
        rep = json.loads(proc.stdout)
        # x86_64 only (the target): other architectures are built too when their cross
        # compilers are installed, and listed apart.
        conf = [c for c in rep["kernel_build"]["configurations"] if c["arch"] == "x86"]
        others = [c["arch"] for c in rep["kernel_build"]["configurations"] if c["arch"] != "x86"]
        configure = sum(c["seconds"] for c in conf)
        steps = [rep["base_build"], *(s["build"] for s in rep["steps"])]
        building = sum(float(b.get("seconds_by_arch", {}).get("x86", 0)) for b in steps)
        objects = [len(b.get("objects", {}).get("x86", [])) for b in steps]
        if others:
            print(f"(also built for {', '.join(others)}: not counted below)")
        statuses = [b["status"] for b in steps]
        print(f"series-tool --build kernel, v4, {len(steps) - 1} steps + base, x86_64:")
        print(f"  configure {configure:.1f} s; targeted objects {building:.1f} s ({objects})")
        print(f"  configure + all steps {configure + building:.1f} s (target <= 180 s)")
        print(f"  whole run incl. analysis and worktree {wall:.1f} s; statuses {statuses}")

        # Baseline: the same configuration, at the base, in a full worktree of our own.
        tree = work / "tree"
        out = work / "out"
        log = work / "baseline.log"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(tree)])
        try:
            enabled = [a for c in conf for w in c["enabled"] for a in ("--enable", w)]
            t_conf = _run(["make", f"O={out}", "defconfig"], tree, log)
            if enabled:
                subprocess.run(
                    ["scripts/config", "--file", str(out / ".config"), *enabled], cwd=tree
                )
            t_conf += _run(["make", f"O={out}", "olddefconfig"], tree, log)
            t_mm = _run(["make", f"O={out}", f"-j{args.jobs}", "mm/"], tree, log)
            print(f"baseline: defconfig {t_conf:.1f} s; make -j{args.jobs} mm/ {t_mm:.1f} s")
            ratio = (configure + building) / t_mm
            print(f"  ratio (configure + all steps) / (make mm/ once) = {ratio:.2f}")
            if args.full:
                t_full = _run(["make", f"O={out}", f"-j{args.jobs}"], tree, log)
                print(f"  full make -j{args.jobs} at the base: {t_full:.1f} s")
                print(f"  naive per-step floor: 13 x {t_full:.0f} s = {13 * t_full:.0f} s")
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)])
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

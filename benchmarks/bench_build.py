"""`bisect-report --build kernel` of the real v4 (13 steps) on Debian's 6.12 tree, x86_64.

Target (issue 13): configure + every step's targeted objects <= 3 minutes on 2 cores.
Baseline, same run, same configuration, at the base: `make -j2 mm/` (every object of the
directory the series lives in) and one full `make -j2` (the floor a naive per-step build
multiplies by 13; it takes long: --skip-full leaves it out, and the output says so).
Wall and CPU (user+sys of the processes, from os.wait4 and series-tool's own accounting)
are printed side by side, with the load average: under load, CPU is the fair number.

Run: python benchmarks/bench_build.py [--skip-full]
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


def _run(argv: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a command and everything it waited for."""
    start = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: see {log}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--skip-full", action="store_true", help="leave out the full make -j2 (it takes long)"
    )
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
        print(f"before: {_load()}")
        start = time.perf_counter()
        series = str(CORPUS / "pte-nolock" / "v4.mbox")
        argv = [sys.executable, "-m", "series_tool.cli", "bisect-report", series]
        argv += ["--repo", str(repo), "--build", "kernel", "--jobs", str(args.jobs)]
        report, errors = work / "report.json", work / "stderr.log"
        with open(report, "wb") as out, open(errors, "wb") as err:
            proc = subprocess.Popen([*argv, "--format", "json"], stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        cpu_all = usage.ru_utime + usage.ru_stime
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            raise SystemExit(f"series-tool exited {code}: {errors.read_text()[-2000:]}")
        rep = json.loads(report.read_text())
        # x86_64 only (the target): other architectures are built too when their cross
        # compilers are installed, and listed apart.
        conf = [c for c in rep["kernel_build"]["configurations"] if c["arch"] == "x86"]
        others = [c["arch"] for c in rep["kernel_build"]["configurations"] if c["arch"] != "x86"]
        configure = sum(c["seconds"] for c in conf)
        configure_cpu = sum(c.get("cpu_seconds", 0.0) for c in conf)
        steps = [rep["base_build"], *(s["build"] for s in rep["steps"])]
        building = sum(float(b.get("seconds_by_arch", {}).get("x86", 0)) for b in steps)
        objects = [len(b.get("objects", {}).get("x86", [])) for b in steps]
        if others:
            print(f"(also built for {', '.join(others)}: not counted below, CPU includes them)")
        building_cpu = sum(float(b.get("cpu_seconds", 0.0)) for b in steps)
        statuses = [b["status"] for b in steps]
        per_step = [b.get("seconds_by_arch", {}).get("x86", 0) for b in steps]
        print(f"series-tool --build kernel, v4, {len(steps) - 1} steps + base, x86_64:")
        print(f"  configure {configure:.1f} s wall, {configure_cpu:.1f} s CPU")
        print(f"  targeted objects {building:.1f} s wall, {building_cpu:.1f} s CPU")
        print(f"    objects per step {objects}; seconds per step {per_step}")
        total, total_cpu = configure + building, configure_cpu + building_cpu
        print(
            f"  configure + all steps {total:.1f} s wall (target <= 180 s), {total_cpu:.1f} s CPU"
        )
        print(f"  whole run incl. analysis and worktree {wall:.1f} s wall, {cpu_all:.1f} s CPU")
        print(f"  statuses {statuses}")
        print(f"after series-tool: {_load()}")

        # Baseline: the same configuration, at the base, in a full worktree of our own.
        tree = work / "tree"
        out = work / "out"
        log = work / "baseline.log"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(tree)])
        try:
            enabled = [a for c in conf for w in c["enabled"] for a in ("--enable", w)]
            t_conf, c_conf = _run(["make", f"O={out}", "defconfig"], tree, log)
            if enabled:
                subprocess.run(
                    ["scripts/config", "--file", str(out / ".config"), *enabled], cwd=tree
                )
            t, c = _run(["make", f"O={out}", "olddefconfig"], tree, log)
            t_conf, c_conf = t_conf + t, c_conf + c
            t_mm, c_mm = _run(["make", f"O={out}", f"-j{args.jobs}", "mm/"], tree, log)
            print(f"baseline: defconfig {t_conf:.1f} s wall, {c_conf:.1f} s CPU")
            print(f"  make -j{args.jobs} mm/ {t_mm:.1f} s wall, {c_mm:.1f} s CPU")
            print(
                f"  ratio (configure + all steps) / (make mm/ once): wall {total / t_mm:.2f}, "
                f"CPU {total_cpu / c_mm:.2f}"
            )
            if args.skip_full:
                print(f"  full make -j{args.jobs}: skipped (--skip-full)")
            else:
                t_full, c_full = _run(["make", f"O={out}", f"-j{args.jobs}"], tree, log)
                print(
                    f"  full make -j{args.jobs} at the base (after mm/): {t_full:.1f} s wall, "
                    f"{c_full:.1f} s CPU; naive per-step floor 13 x that = {13 * t_full:.0f} s"
                )
                print(
                    f"  ratio (configure + all steps) / (full make once): wall "
                    f"{total / (t_full + t_mm):.2f}, CPU {total_cpu / (c_full + c_mm):.2f}"
                )
            print(f"after baseline: {_load()}")
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)])
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

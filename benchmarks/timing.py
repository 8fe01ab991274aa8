"""Side-by-side timing helpers for the benchmarks: our command and its baseline, same run."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/kernel.py builds the kernel repository

from kernel import CORPUS, kernel_repo_or_reason  # noqa: E402

__all__ = [
    "CORPUS",
    "compare",
    "installed_tool",
    "kernel_repo_or_reason",
    "run_timed",
    "run_timed_cpu",
]


def installed_tool() -> str:
    """The installed `series-tool`, with its package's bytecode compiled first.

    An installed package has its bytecode compiled (pip does it); an editable install under
    PYTHONDONTWRITEBYTECODE=1 would recompile every module on every run instead. The runs
    get an empty XDG_CACHE_HOME: no word index (`series-tool index`), so they measure the
    git grep path a first run on a tree takes.
    """
    import compileall
    import shutil

    import series_tool

    tool = shutil.which("series-tool") or sys.exit("series-tool is not installed (pip install .)")
    compileall.compile_dir(str(Path(series_tool.__file__).parent), quiet=1)
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="series-tool-bench-")
    return tool


def run_timed(cmd: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall time of one run and the peak RSS (KiB) of the process tree, via GNU time-like wait4."""
    elapsed, rss, _ = run_timed_cpu(cmd, cwd, ok_codes)
    return elapsed, rss


def run_timed_cpu(
    cmd: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)
) -> tuple[float, int, float]:
    """(wall time, peak RSS in KiB, CPU time) of one run.

    The CPU time is user + system of the process and every child it waited for (git's
    threads and subprocesses included), from wait4: on a shared machine it varies far
    less with the load than the wall time does.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} exited {code}: {err}")
    return elapsed, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime


def compare(
    name: str,
    ours: list[str],
    baseline: list[str],
    cwd: Path,
    rounds: int = 5,
    ours_ok: tuple[int, ...] = (0,),
    baseline_ok: tuple[int, ...] = (0,),
) -> tuple[float, float]:
    """Alternate both commands `rounds` times after a warm-up; print the medians of wall
    and CPU time and the load average; return (wall ratio, CPU ratio) ours/baseline."""
    run_timed(baseline, cwd, baseline_ok)
    run_timed(ours, cwd, ours_ok)
    t_ours: list[float] = []
    t_base: list[float] = []
    c_ours: list[float] = []
    c_base: list[float] = []
    peak = 0
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        tb, _, cb = run_timed_cpu(baseline, cwd, baseline_ok)
        to, rss, co = run_timed_cpu(ours, cwd, ours_ok)
        t_base.append(tb)
        t_ours.append(to)
        c_base.append(cb)
        c_ours.append(co)
        peak = max(peak, rss)
    mb, mo = statistics.median(t_base), statistics.median(t_ours)
    cb, co = statistics.median(c_base), statistics.median(c_ours)
    print(f"{name}")
    print(f"  load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"  baseline: {' '.join(baseline)}")
    print(f"    wall median {mb:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_base)})")
    print(f"    CPU  median {cb:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in c_base)})")
    print(f"  ours:     {' '.join(ours)}")
    print(f"    wall median {mo:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_ours)})")
    print(f"    CPU  median {co:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in c_ours)})")
    print(f"    peak RSS {peak / 1024:.0f} MB")
    print(f"  ratio ours/baseline: wall {mo / mb:.2f}, CPU {co / cb:.2f}")
    return mo / mb, co / cb

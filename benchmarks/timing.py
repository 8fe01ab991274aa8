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

__all__ = ["CORPUS", "compare", "installed_tool", "kernel_repo_or_reason", "run_timed"]


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
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} exited {code}: {err}")
    return elapsed, int(usage.ru_maxrss)


def compare(
    name: str,
    ours: list[str],
    baseline: list[str],
    cwd: Path,
    rounds: int = 5,
    ours_ok: tuple[int, ...] = (0,),
    baseline_ok: tuple[int, ...] = (0,),
) -> float:
    """Alternate both commands `rounds` times after a warm-up; print medians and the ratio."""
    run_timed(baseline, cwd, baseline_ok)
    run_timed(ours, cwd, ours_ok)
    t_ours: list[float] = []
    t_base: list[float] = []
    peak = 0
    for _ in range(rounds):
        tb, _ = run_timed(baseline, cwd, baseline_ok)
        to, rss = run_timed(ours, cwd, ours_ok)
        t_base.append(tb)
        t_ours.append(to)
        peak = max(peak, rss)
    mb, mo = statistics.median(t_base), statistics.median(t_ours)
    print(f"{name}")
    print(f"  baseline: {' '.join(baseline)}")
    print(f"    median {mb:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_base)})")
    print(f"  ours:     {' '.join(ours)}")
    print(f"    median {mo:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_ours)})")
    print(f"    peak RSS {peak / 1024:.0f} MB")
    print(f"  ratio ours/baseline: {mo / mb:.2f}")
    return mo / mb

"""Fuzz the mail reader as a user would meet it: mutated corpus mboxes through `show`,
`show --format json` and `verify`, each a real process with a time limit.

Prints how many inputs, the exit codes per command, the slowest run and the largest peak
RSS, and lists every failure (exit 3 "internal error", a traceback, more than one line on
stderr for exit 2, a timeout). Exit status 1 when there was any.
Usage: python benchmarks/fuzz_mail.py [COUNT] [SEED] [TIMEOUT_SECONDS]   (200 0 40)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzzmail import inputs, write  # noqa: E402

COMMANDS = (["show"], ["show", "--format", "json"], ["verify"])


def run(cmd: list[str], timeout: float) -> tuple[int | None, float, str]:
    """Exit code (None on timeout), wall seconds and stderr of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tempfile.gettempdir(),  # outside any checkout: series-only mode
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, time.perf_counter() - start, err.decode("utf-8", "replace")
    return proc.returncode, time.perf_counter() - start, err.decode("utf-8", "replace")


def main() -> int:
    """Run the fuzz campaign and print the numbers."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 40.0
    codes: dict[str, Counter[str]] = {" ".join(c): Counter() for c in COMMANDS}
    failures: list[str] = []
    slowest = (0.0, "")
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for inp in inputs(count, seed=seed):
            n += 1
            path = write(inp, Path(tmp))
            for command in COMMANDS:
                name = " ".join(command)
                code, secs, err = run(
                    [sys.executable, "-m", "series_tool.cli", *command, str(path)], timeout
                )
                codes[name]["timeout" if code is None else str(code)] += 1
                if secs > slowest[0]:
                    slowest = (secs, f"{inp.name} ({', '.join(inp.mutations)}) {name}")
                bad = (
                    code is None
                    or code not in (0, 1, 2)
                    or "Traceback" in err
                    or "internal error" in err
                    or (code == 2 and len(err.strip().splitlines()) != 1)
                )
                if bad:
                    failures.append(
                        f"{inp.name} ({', '.join(inp.mutations)}) {name}: exit {code}:"
                        f" {err.strip()[:200]}"
                    )
            path.unlink()
            if n % 25 == 0:
                print(f"  {n} inputs...", file=sys.stderr)
    print(f"inputs: {n} (seed {seed}), runs: {n * len(COMMANDS)}, timeout {timeout:.0f} s each")
    for name, counter in codes.items():
        print(f"  {name:<22} " + ", ".join(f"exit {k}: {v}" for k, v in sorted(counter.items())))
    print(f"slowest run: {slowest[0]:.2f} s  {slowest[1]}")
    # The largest ru_maxrss over every child waited for: the peak of the biggest run.
    print(f"largest peak RSS of a run: {_children_rss() // 1024} MB")
    print(f"failures: {len(failures)}")
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


def _children_rss() -> int:
    return int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


if __name__ == "__main__":
    sys.exit(main())

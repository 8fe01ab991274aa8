"""verify of a series that removes common names private to a driver, against git grep -w.

A series deleting `dbg`/`err`/`info`/`warn` from a driver's own header: `git grep -w` of
those names finds ~380k lines in a kernel tree, nearly all other entities. verify reads
only the files that can see the header, so it costs about that one grep (before the
scope rule: 6-18 minutes and 1-2.7 GB). The series is not in the corpus: pass its mbox
and the kernel checkout it applies to.

Run: python benchmarks/bench_scope.py REPO MBOX [--rounds N] [--symbols dbg,err,info,warn]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from timing import compare


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("repo", type=Path)
    parser.add_argument("mbox", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--symbols", default="dbg,err,info,warn,pci_printk")
    args = parser.parse_args()
    tool = shutil.which("series-tool")
    ours = [tool] if tool else [sys.executable, "-m", "series_tool.cli"]
    grep = ["git", "grep", "-w", *(a for s in args.symbols.split(",") for a in ("-e", s))]
    ratio, cpu = compare(
        f"verify {args.mbox.name}",
        [*ours, "verify", str(args.mbox.resolve()), "--format", "json"],
        grep,
        args.repo,
        args.rounds,
        ours_ok=(0, 1),
    )
    print(f"verify ratio wall {ratio:.2f}, CPU {cpu:.2f} (one git grep -w of the names = 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""verify and bisect-report of the real v4 on Debian's 6.12 tree, against one `git grep -w`.

Targets (issue): verify <= 2x `git grep -w pte_offset_map_nolock`, peak memory < 300 MB;
bisect-report (no --build) <= 3x. Run: python benchmarks/bench_verify.py [--rounds N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from timing import CORPUS, compare, kernel_repo_or_reason


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    repo, reason = kernel_repo_or_reason()
    if repo is None:
        print(f"skipped: {reason}")
        return 0
    tool = shutil.which("series-tool") or sys.exit("series-tool is not installed (pip install .)")
    # An installed package has its bytecode compiled (pip does it); an editable install
    # under PYTHONDONTWRITEBYTECODE=1 would recompile every module on every run instead.
    import compileall

    import series_tool

    compileall.compile_dir(str(Path(series_tool.__file__).parent), quiet=1)
    mbox = str(CORPUS / "pte-nolock" / "v4.mbox")
    grep = ["git", "grep", "-w", "pte_offset_map_nolock"]
    r1 = compare(
        "verify v4 (cwd = kernel checkout)",
        [tool, "verify", mbox, "--format", "json"],
        grep,
        repo,
        args.rounds,
    )
    r2 = compare(
        "bisect-report v4",
        [tool, "bisect-report", mbox, "--format", "json"],
        grep,
        repo,
        args.rounds,
    )
    print(f"verify ratio {r1:.2f} (target <= 2.0); bisect-report ratio {r2:.2f} (target <= 3.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

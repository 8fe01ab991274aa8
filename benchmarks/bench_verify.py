"""verify and bisect-report of the real v4 on Debian's 6.12 tree, against one `git grep -w`.

Targets (issue): verify <= 2x `git grep -w pte_offset_map_nolock`, peak memory < 300 MB;
bisect-report (no --build) <= 2x. Run: python benchmarks/bench_verify.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys

from timing import CORPUS, compare, installed_tool, kernel_repo_or_reason


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    repo, reason = kernel_repo_or_reason()
    if repo is None:
        print(f"skipped: {reason}")
        return 0
    tool = installed_tool()
    mbox = str(CORPUS / "pte-nolock" / "v4.mbox")
    grep = ["git", "grep", "-w", "pte_offset_map_nolock"]
    r1, c1 = compare(
        "verify v4 (cwd = kernel checkout)",
        [tool, "verify", mbox, "--format", "json"],
        grep,
        repo,
        args.rounds,
    )
    r2, c2 = compare(
        "bisect-report v4",
        [tool, "bisect-report", mbox, "--format", "json"],
        grep,
        repo,
        args.rounds,
    )
    print(f"verify ratio wall {r1:.2f}, CPU {c1:.2f} (target <= 2.0)")
    print(f"bisect-report ratio wall {r2:.2f}, CPU {c2:.2f} (target <= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

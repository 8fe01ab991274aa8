"""Pathological C against the per-file parse limits: time and peak RSS of `verify`.

Each case is the bundled example series with one more file added by patch 2 (the
issue's attacks: 100k nested parentheses on one line, a 10 MB line, a patch of a
million lines, a 200 MB added file). The baseline in the same run is `git apply --stat`
of the same mbox (reading the input once); wall and CPU time (user + system, from
wait4) and the peak RSS are printed, with the ratios. On a shared machine read the CPU
ratio. A file diff over 16 MB (file-200MB) is kept as raw text (diffparse's per-file
limit): the case measures that path.
Usage: python benchmarks/bench_limits.py [case ...]   (cases: parens-100k line-10MB
lines-1M file-200MB; all by default)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import ROOT, run_timed_cpu

sys.path.insert(0, str(ROOT / "tests"))
from hostile import with_diff

# Each case: the added file's lines as (line, how many times), written in chunks so that
# this process stays small (the peak RSS of a child counts its parent's at the fork).
CASES: dict[str, list[tuple[str, int]]] = {
    "parens-100k": [
        (
            "int evil(void) { return ring_slot("
            + "(" * 100_000
            + "1"
            + ")" * 100_000
            + ", 0, 0); }",
            1,
        )
    ],
    "line-10MB": [("int evil(void) { return ring_slot(" + "a+" * 5_000_000 + "1, 0, 0); }", 1)],
    "lines-1M": [("int evil(void) {", 1), ("\tx = ring_slot(a, b, c);", 1_000_000), ("}", 1)],
    "file-200MB": [("int evil(void) {", 1), ("\tx = y + z;", 18_000_000), ("}", 1)],
}
_MARK = "@@@ the added file goes here @@@\n"


def mbox_for(tmp: Path, name: str) -> Path:
    runs = CASES[name]
    count = sum(n for _, n in runs)
    head = (
        "diff --git a/src/evil.c b/src/evil.c\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/src/evil.c\n@@ -0,0 +1,{count} @@\n"
    )
    before, after = with_diff(2, head + _MARK).split(_MARK.encode())
    out = tmp / f"{name}.mbox"
    with out.open("wb") as fh:
        fh.write(before)
        for line, n in runs:
            chunk = f"+{line}\n".encode()
            while n:
                k = min(n, 100_000)
                fh.write(chunk * k)
                n -= k
        fh.write(after)
    return out


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        repo = tmp / "ring"
        shutil.copytree(ROOT / "examples" / "ring", repo)
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
            subprocess.run(
                ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo, check=True
            )
        for name in names or list(CASES):
            mbox = mbox_for(tmp, name)
            tb, rb, cb = run_timed_cpu(["git", "apply", "--stat", str(mbox)], repo)
            to, ro, co = run_timed_cpu(
                [
                    sys.executable,
                    "-m",
                    "series_tool.cli",
                    "verify",
                    str(mbox),
                    "--repo",
                    str(repo),
                    "--format",
                    "json",
                ],
                ROOT,
                # 1: the case calls the old API in the added file; 0: it does not (200 MB)
                ok_codes=(0, 1),
            )
            print(
                f"{name}: verify {to:.1f} s wall, {co:.1f} s CPU, peak {ro / 1024:.0f} MB;"
                f" git apply --stat {tb:.1f} s wall, {cb:.1f} s CPU, {rb / 1024:.0f} MB;"
                f" ratio {to / max(tb, 1e-3):.1f}x wall, {co / max(cb, 1e-3):.1f}x CPU",
                flush=True,
            )
            mbox.unlink()


if __name__ == "__main__":
    main(sys.argv[1:])

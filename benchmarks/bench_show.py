"""Time `series-tool show FILE --format json` against `b4 am` on a 1,000-patch mbox.

Builds a temp git repo with 1,000 small commits, writes `git format-patch --stdout
--cover-letter --thread` of them, then runs both tools on the same file in the same run
and prints both wall times and the ratio. Usage: python benchmarks/bench_show.py [N]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench Author",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Author",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=ENV, input=stdin, check=True, capture_output=True
    ).stdout


def build_mbox(tmp: Path, n: int) -> Path:
    """A repo with ``n`` one-line commits (made with fast-import: seconds, not minutes).

    Consecutive commits to one branch in a fast-import stream chain up by themselves.
    """
    repo = tmp / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    lines = [f"line {i}\n" for i in range(n)]
    stream: list[bytes] = []
    for i in range(n + 1):
        if i:
            lines[i - 1] = f"changed {i - 1}\n"
        data = "".join(lines).encode()
        msg = (
            f"commit {i}\n\nChange line {i}.\n\nSigned-off-by: Bench Author <bench@example.com>\n"
        ).encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(
            f"committer Bench Author <bench@example.com> {1700000000 + i} +0000\n".encode()
        )
        stream.append(b"data %d\n%s\n" % (len(msg), msg))
        stream.append(b"M 100644 inline file.txt\ndata %d\n%s\n" % (len(data), data))
    _git(repo, "fast-import", "--quiet", stdin=b"".join(stream))
    _git(repo, "checkout", "-q", "main")
    out = tmp / "series.mbox"
    out.write_bytes(
        _git(repo, "format-patch", "--stdout", "--cover-letter", "--thread", f"HEAD~{n}")
    )
    return out


def _timed(cmd: list[str], cwd: Path) -> tuple[float, bytes]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed, proc.stdout


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        mbox = build_mbox(tmp, n)
        print(f"mbox: {n} patches + cover, {mbox.stat().st_size / 1e6:.1f} MB", flush=True)
        if shutil.which("series-tool"):
            ours = ["series-tool", "show", str(mbox), "--format", "json"]
        else:  # the console script is not installed: same work through the library
            code = (
                "import json,sys; from series_tool.ingest import ingest; "
                "json.dump(ingest(sys.argv[1]).to_dict(), sys.stdout)"
            )
            ours = [sys.executable, "-c", code, str(mbox)]
        t_ours, stdout = _timed(ours, root)
        # A fast wrong answer is no answer: check every patch came out.
        got = len(json.loads(stdout)["series"]["patches"])
        if got != n:
            raise SystemExit(f"series-tool found {got} patches, expected {n}")
        out = tmp / "b4out"
        out.mkdir()
        # --offline-mode is a global b4 option: it goes before the subcommand.
        t_b4, _ = _timed(["b4", "--offline-mode", "am", "-m", str(mbox), "-o", str(out)], tmp)
        print(f"series-tool show: {t_ours:.2f} s  ({' '.join(ours[:2])})")
        print(f"b4 am:            {t_b4:.2f} s")
        print(f"ratio series-tool/b4: {t_ours / t_b4:.2f}")


if __name__ == "__main__":
    main()

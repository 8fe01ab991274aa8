"""`bisect-report --build CMD`: build every step in temporary worktrees, never in the user's.

Each worker gets one `git worktree add --detach` at the base (or a copy of a plain
directory), then walks its share of the steps in order, writing only the files the
series touches with their replayed content (the same bytes the report reasons about),
and runs CMD there. Worktrees are removed in `finally`, so Ctrl-C cleans up too.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from series_tool.checks import Analysis
from series_tool.errors import BadInput
from series_tool.replay import touched_paths

LOG_TAIL_LINES = 20


@contextmanager
def scratch_tree(an: Analysis) -> Iterator[Path]:
    """A temporary copy of the base tree: a detached git worktree, or a copied directory."""
    tmp = Path(tempfile.mkdtemp(prefix="series-tool-build-"))
    target = tmp / "tree"
    try:
        if an.tree.kind == "git":
            assert an.tree.path is not None and an.tree.base is not None
            res = subprocess.run(
                [
                    "git",
                    "-C",
                    an.tree.path,
                    "worktree",
                    "add",
                    "--detach",
                    "-q",
                    str(target),
                    an.tree.base,
                ],
                check=False,
                capture_output=True,
                text=True,
                errors="replace",
            )
            if res.returncode != 0:
                raise BadInput("--build", f"git worktree add failed: {res.stderr.strip()}")
        else:
            assert an.tree.path is not None
            try:
                shutil.copytree(an.tree.path, target, symlinks=True)
            except (OSError, shutil.Error) as exc:
                raise BadInput("--build", f"cannot copy {an.tree.path}: {exc}") from None
        yield target
    finally:
        if an.tree.kind == "git" and an.tree.path is not None:
            subprocess.run(
                ["git", "-C", an.tree.path, "worktree", "remove", "--force", str(target)],
                capture_output=True,
            )
            subprocess.run(["git", "-C", an.tree.path, "worktree", "prune"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _write_step(
    root: Path,
    paths: list[str],
    read: Callable[[str], str | None],
    written: dict[str, str | None],
) -> None:
    """Bring the scratch tree to a step: write (or delete) only the touched files whose
    content differs from what this tree holds (`written`, updated in place), so an
    incremental build recompiles only what the step changed."""
    top = root.resolve()
    for rel in paths:
        dest = root / rel
        if not dest.resolve().is_relative_to(top):
            continue  # never outside the scratch tree (replay already failed that file)
        text = read(rel)
        if rel in written and written[rel] is text:
            continue  # replay shares unchanged strings between steps
        written[rel] = text
        if text is None:
            if dest.exists():
                dest.unlink()
            continue
        data = text.encode("utf-8", "surrogateescape")
        if dest.is_file() and dest.read_bytes() == data:
            continue  # the base already holds it: keep its timestamp
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def _run(cmd: str, cwd: Path) -> dict[str, Any]:
    proc = subprocess.run(
        cmd, shell=True, cwd=cwd, capture_output=True, text=True, errors="replace", check=False
    )
    log = (proc.stdout + proc.stderr).splitlines()
    return {
        "status": "passed" if proc.returncode == 0 else "failed",
        "code": proc.returncode,
        "log_tail": "\n".join(log[-LOG_TAIL_LINES:]),
    }


def build_steps(
    an: Analysis, cmd: str, jobs: int, progress: Callable[[int, dict[str, Any]], None] | None = None
) -> dict[int, dict[str, Any]]:
    """Run `cmd` on the base (index 0) and after every step: index -> {status, log_tail}."""
    paths = touched_paths(an.series.patches)
    # Step 0 is the base: a build that already fails there says nothing about the series.
    indices = [st.index for st in an.steps]
    jobs = max(1, min(jobs, len(indices) or 1))
    chunks = [indices[i::jobs] for i in range(jobs)]
    results: dict[int, dict[str, Any]] = {}
    stop = threading.Event()  # set on Ctrl-C or a failing worker: the others stop early

    def worker(chunk: list[int]) -> None:
        with scratch_tree(an) as root:
            written: dict[str, str | None] = {}
            for index in sorted(chunk):
                if stop.is_set():
                    return
                _write_step(root, paths, an.read_at(index), written)
                res = _run(cmd, root)
                results[index] = res
                if progress is not None:
                    progress(index, res)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        for fut in [pool.submit(worker, c) for c in chunks if c]:
            fut.result()
    except BaseException:
        stop.set()  # the workers finish their current build, then remove their worktrees
        raise
    finally:
        pool.shutdown(wait=True)
    return results

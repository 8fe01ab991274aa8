"""`bisect-report --build CMD`: build every step in temporary worktrees, never in the user's.

Each worker gets one `git worktree add --detach` at the base (or a copy of a plain
directory), then walks its share of the steps in order, writing only the files the
series touches with their replayed content (the same bytes the report reasons about),
and runs CMD there. Worktrees are removed in `finally`, by their path: only the ones
series-tool made (never `git worktree prune`, which would also drop a worktree of the
user's whose folder is only missing for a while).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from series_tool.checks import Analysis
from series_tool.errors import BadInput

from .process import Finished, Runner, forwarding_signals, tail

LOG_TAIL_LINES = 20


@dataclass
class Scratch:
    """A temporary tree and the private folder around it (logs, build directories)."""

    tree: Path
    tmp: Path


@contextmanager
def scratch_tree(
    an: Analysis, git_lock: threading.Lock | None = None, sparse: list[str] | None = None
) -> Iterator[Scratch]:
    """A temporary copy of the base tree: a detached git worktree, or a copied directory.

    `git_lock` serialises `git worktree add` between threads: two at once can read each
    other's half-written admin folder ("failed to read .../commondir")."""
    tmp = Path(tempfile.mkdtemp(prefix="series-tool-build-"))
    # A name of its own: git names the worktree's admin folder after the last component.
    target = tmp / tmp.name
    added = False
    try:
        # Even a failed or interrupted add may have registered the worktree half-way.
        added = an.tree.registers_worktrees
        with git_lock or contextlib.nullcontext():
            an.tree.materialize(target, no_checkout=sparse is not None)
        if sparse is not None and added:  # a copied folder is whole anyway
            set_sparse(target, sparse)
        yield Scratch(target, tmp)
    finally:
        if added and an.tree.path is not None:
            with git_lock or contextlib.nullcontext():
                remove_worktree(Path(an.tree.path), target)
        shutil.rmtree(tmp, ignore_errors=True)


def set_sparse(target: Path, patterns: list[str]) -> None:
    """Check out only the files matching `patterns` (gitignore syntax) in our worktree.

    The patterns go to the worktree's own admin folder and core.sparseCheckout is given
    on the command line: the user's repository configuration is never changed.
    """

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(target), *args],
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            check=False,
        )

    admin = Path(git("rev-parse", "--absolute-git-dir").stdout.strip())
    (admin / "info").mkdir(parents=True, exist_ok=True)
    (admin / "info" / "sparse-checkout").write_text("".join(f"{p}\n" for p in patterns))
    res = git(
        "-c", "core.sparseCheckout=true", "-c", "core.sparseCheckoutCone=false",
        "read-tree", "-mu", "HEAD",
    )  # fmt: skip
    if res.returncode != 0:
        raise BadInput("--build", f"cannot check out the build worktree: {res.stderr.strip()}")


def remove_worktree(repo: Path, target: Path) -> None:
    """Unregister and delete the worktree at `target`, and nothing else.

    `git worktree remove --force` by path; should git refuse (a lock, a damaged
    admin folder), the admin folder whose `gitdir` names `target` is removed by hand.
    """
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "remove", "--force", "--force", str(target)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    common = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--git-common-dir"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    ).stdout.strip()
    if not common:
        return
    admin = (repo / common).resolve() / "worktrees"
    wanted = str(target / ".git")
    for entry in admin.glob("*/gitdir") if admin.is_dir() else []:
        with contextlib.suppress(OSError):
            if entry.read_text().strip() == wanted:
                shutil.rmtree(entry.parent, ignore_errors=True)


def write_step(
    root: Path,
    paths: list[str],
    read: Callable[[str], str | None],
    written: dict[str, str | None],
) -> list[str]:
    """Bring the scratch tree to a step: write (or delete) only the touched files whose
    content differs from what this tree holds (`written`, updated in place), so an
    incremental build recompiles only what the step changed. Returns the paths changed."""
    top = root.resolve()
    changed: list[str] = []
    for rel in paths:
        dest = root / rel
        if not dest.resolve().is_relative_to(top):
            continue  # never outside the scratch tree (replay already failed that file)
        text = read(rel)
        if rel in written and written[rel] is text:
            continue  # replay shares unchanged strings between steps
        written[rel] = text
        if text is None:
            if dest.is_file() or dest.is_symlink():
                dest.unlink()
                changed.append(rel)
            continue
        data = text.encode("utf-8", "surrogateescape")
        if dest.is_file() and dest.read_bytes() == data:
            continue  # the base already holds it: keep its timestamp
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        changed.append(rel)
    return changed


def step_result(done: Finished, lines: int = LOG_TAIL_LINES) -> dict[str, Any]:
    """A command's outcome as the report shows it."""
    if done.timed_out:
        status = "timeout"
    elif done.interrupted:
        status = "interrupted"
    else:
        status = "passed" if done.code == 0 else "failed"
    return {
        "status": status,
        "code": done.code,
        "seconds": round(done.seconds, 2),
        "log_tail": tail(done.log, lines),
    }


def build_steps(
    an: Analysis,
    cmd: str,
    jobs: int,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
    step_timeout: float | None = None,
) -> dict[int, dict[str, Any]]:
    """Run `cmd` on the base (index 0) and after every step: index -> {status, log_tail}.

    Each run is a process group of its own, stopped after `step_timeout` seconds; SIGINT,
    SIGTERM and SIGHUP stop every group and remove the worktrees before `Interrupted`
    reaches the caller.
    """
    paths = an.touched()
    # Step 0 is the base: a build that already fails there says nothing about the series.
    indices = [st.index for st in an.steps]
    jobs = max(1, min(jobs, len(indices) or 1))
    chunks = [indices[i::jobs] for i in range(jobs)]
    results: dict[int, dict[str, Any]] = {}
    runner = Runner(timeout=step_timeout)
    lock = threading.Lock()
    git_lock = threading.Lock()

    def worker(chunk: list[int]) -> None:
        with scratch_tree(an, git_lock) as scratch:
            written: dict[str, str | None] = {}
            for index in sorted(chunk):
                if runner.stopping.is_set():
                    return
                write_step(scratch.tree, paths, an.read_at(index), written)
                log = scratch.tmp / f"step-{index}.log"
                res = step_result(runner.run(cmd, scratch.tree, log))
                if res["status"] == "interrupted":
                    return
                with lock:
                    results[index] = res
                    if progress is not None:
                        progress(index, res)

    with forwarding_signals(runner):
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            for fut in [pool.submit(worker, c) for c in chunks if c]:
                fut.result()
        except BaseException:
            runner.stop()  # every group stopped, then each worker removes its worktree
            raise
        finally:
            pool.shutdown(wait=True)
    return results


def tree_bytes(an: Analysis) -> int | None:
    """Disk one scratch tree takes: the blob sizes of the base commit (or the folder's
    files); None when it cannot be told."""
    return an.tree.size_bytes()

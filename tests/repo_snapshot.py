"""Check the promise "your repository is byte-identical after every command".

`take(repo)` records everything about a repository that series-tool must leave as it was:

* every worktree entry (tracked, untracked and ignored): its type, mode and bytes (a
  symlink's target); for large trees (the kernel) size, mtime and inode instead of bytes,
  which still catches any write;
* `git status --porcelain`, `git ls-files -s` (the index), `git for-each-ref` (all refs),
  `git stash list`, `git worktree list --porcelain`;
* every file under .git except objects/ (HEAD, config, index, hooks, info, packed-refs,
  logs, and .git/worktrees/* of linked worktrees).

Use it around each command::

    with unchanged(repo):
        main(["verify", mbox, "--repo", str(repo)])

or `run_main(argv)`, which finds the repository from `--repo` (or the current directory)
and checks it around `series_tool.cli.main`. The snapshot's own git commands run with
GIT_OPTIONAL_LOCKS=0 so taking one never refreshes the index.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: Above this many worktree bytes, record (size, mtime, inode) instead of the bytes.
CONTENT_LIMIT = 64 * 1024 * 1024

#: This project's own checkout.
PROJECT = Path(__file__).resolve().parents[1]

#: Above this many tracked files, trust `git status` for them instead of reading each.
LARGE_TREE = 20000


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, env=env, check=False
    )
    # A failing command is recorded too: its failing the same way is part of "unchanged".
    return proc.stdout.decode("utf-8", "surrogateescape") + (
        f"[exit {proc.returncode}] " + proc.stderr.decode("utf-8", "replace")
        if proc.returncode
        else ""
    )


def _entry(path: Path, st: os.stat_result, with_bytes: bool | None) -> tuple[object, ...]:
    """One entry's identity; `with_bytes` None: a .git entry (directory mtimes are git's)."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(mode):
        # The mtime shows a file created and removed again (a temporary file) in it.
        return ("dir", stat.S_IMODE(mode), st.st_mtime_ns if with_bytes is not None else 0)
    if stat.S_ISREG(mode):
        if with_bytes is not False:
            try:
                return ("file", stat.S_IMODE(mode), path.read_bytes())
            except FileNotFoundError:
                return ("vanished",)
        return ("file", stat.S_IMODE(mode), st.st_size, st.st_mtime_ns, st.st_ino)
    return ("special", mode, st.st_rdev)


def _walk(top: Path, skip: set[Path]) -> dict[str, os.stat_result]:
    """lstat of everything below `top` (symlinks are not followed), minus `skip`."""
    found: dict[str, os.stat_result] = {}
    stack = [top]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            p = Path(e.path)
            if p in skip:
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone while we looked (a lock file of a concurrent git)
            found[str(p.relative_to(top))] = st
            if stat.S_ISDIR(st.st_mode):
                stack.append(p)
    return found


@dataclass(frozen=True)
class RepoSnapshot:
    """What a command must not change in one repository."""

    worktree: dict[str, tuple[object, ...]] = field(repr=False)
    gitdir: dict[str, tuple[object, ...]] = field(repr=False)
    git: dict[str, str]

    def differences(self, other: RepoSnapshot) -> list[str]:
        """Human-readable differences from `other` (empty when identical)."""
        out: list[str] = []
        for name, mine, theirs in (
            ("worktree", self.worktree, other.worktree),
            (".git", self.gitdir, other.gitdir),
        ):
            for path in sorted(set(mine) | set(theirs)):
                if path not in theirs:
                    out.append(f"{name}: {path} removed")
                elif path not in mine:
                    out.append(f"{name}: {path} added")
                elif mine[path] != theirs[path]:
                    out.append(f"{name}: {path} changed")
        for key in sorted(self.git):
            if self.git[key] != other.git.get(key):
                out.append(f"git {key}: {self.git[key]!r} -> {other.git.get(key)!r}")
        return out


def take(repo: Path) -> RepoSnapshot:
    """Snapshot `repo`: a work tree (its .git a directory or a linked worktree's file) or
    a plain directory (then only its entries are recorded)."""
    repo = Path(repo)
    gitdir = repo / ".git"
    is_git = gitdir.exists()
    git: dict[str, str] = {}
    if is_git:
        git = {
            "status": _git(
                repo, "status", "--porcelain=v1", "-z", "--ignored", "--untracked-files=all"
            ),
            "index": _git(repo, "ls-files", "-s", "-z"),
            "refs": _git(repo, "for-each-ref", "--format=%(refname) %(objectname) %(symref)"),
            "stash": _git(repo, "stash", "list", "--format=%H %gs"),
            "worktrees": _git(repo, "worktree", "list", "--porcelain"),
            "head": _git(repo, "symbolic-ref", "-q", "HEAD") + _git(repo, "rev-parse", "HEAD"),
        }
    large = bool(git) and git["index"].count("\0") > LARGE_TREE
    if large:
        # The kernel: `git status` already compares every tracked file with the index
        # (a rewritten file shows as modified); stat what it lists besides, and the top.
        worktree = _listed_by_status(repo, git["status"])
        # The shared kernel repository is read by concurrent test runs whose --build
        # worktrees come and go: only its own files, index and refs are compared.
        del git["worktrees"]
    else:
        tree_stats = _walk(repo, {gitdir})
        size = sum(st.st_size for st in tree_stats.values() if stat.S_ISREG(st.st_mode))
        with_bytes = size <= CONTENT_LIMIT
        worktree = {p: _entry(repo / p, st, with_bytes) for p, st in tree_stats.items()}
    worktree["."] = _entry(repo, repo.lstat(), False)
    meta: dict[str, tuple[object, ...]] = {}
    if gitdir.is_dir():
        skip = {gitdir / "objects"} | ({gitdir / "worktrees", gitdir / "logs"} if large else set())
        for p, st in _walk(gitdir, skip).items():
            meta[p] = _entry(gitdir / p, st, None)
    return RepoSnapshot(worktree, meta, git)


def _listed_by_status(repo: Path, status: str) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for record in status.split("\0"):
        if len(record) > 3:
            p = record[3:].rstrip("/")
            try:
                out[p] = _entry(repo / p, (repo / p).lstat(), False)
            except OSError:
                out[p] = ("absent",)
    return out


def assert_same(before: RepoSnapshot, after: RepoSnapshot, what: str = "") -> None:
    """Fail, listing what changed, unless the two snapshots are identical."""
    diffs = before.differences(after)
    assert not diffs, f"{what or 'the repository'} changed:\n  " + "\n  ".join(diffs[:40])


@contextmanager
def unchanged(*repos: Path) -> Iterator[None]:
    """Assert that the body leaves every repository in `repos` exactly as it was."""
    befores = [take(r) for r in repos]
    yield
    for repo, before in zip(repos, befores, strict=True):
        assert_same(before, take(repo), str(repo))


def repo_of(argv: Sequence[str], cwd: Path | None = None) -> Path | None:
    """The tree a series-tool command line reads: `--repo DIR` (a repository or a plain
    directory), else the git checkout containing `cwd`; None in series-only mode."""
    args = list(argv)
    if args[:1] == ["show"]:
        return None  # show reads no tree
    start = Path(cwd or os.getcwd())
    for i, a in enumerate(args):
        given = None
        if a == "--repo" and i + 1 < len(args):
            given = args[i + 1]
        elif a.startswith("--repo="):
            given = a.split("=", 1)[1]
        if given is not None:
            d = start / given
            return d if d.is_dir() else None
    proc = subprocess.run(
        ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    top = proc.stdout.strip()
    if proc.returncode or not top or Path(top).resolve() == PROJECT:
        # series-tool's own checkout (a test that did not say where to run): this very
        # test run writes caches into it, and no test is about it.
        return None
    return Path(top)


def run_main(argv: Sequence[str]) -> int:
    """`series_tool.cli.main(argv)`, asserting the repository it reads is left unchanged."""
    from series_tool.cli import main

    repo = repo_of(argv)
    if repo is None:
        return main(list(argv))
    with unchanged(repo):
        return main(list(argv))

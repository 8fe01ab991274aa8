"""Make a series on a repository without a checkout: commits through git plumbing.

A temporary index (GIT_INDEX_FILE) holds each commit's tree, so neither the repository's
worktree nor its index is touched; the mbox comes from `git format-patch`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Series Tool",
    "GIT_AUTHOR_EMAIL": "series-tool@localhost",
    "GIT_COMMITTER_NAME": "Series Tool",
    "GIT_COMMITTER_EMAIL": "series-tool@localhost",
    "GIT_AUTHOR_DATE": "2024-11-17T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-11-17T00:00:00Z",
}

Edit = Callable[[str], str]


def _git(repo: Path, *args: str, env: dict[str, str], data: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], input=data, capture_output=True, env=env, check=True
    )
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


def make_series(
    repo: Path, base: str, patches: list[tuple[str, dict[str, Edit]]]
) -> tuple[bytes, str]:
    """Commit each (subject, {path: edit}) on top of `base`; (the mbox, the tip's sha)."""
    with tempfile.TemporaryDirectory(prefix="series-tool-plumbing-") as tmp:
        env = {**os.environ, **IDENTITY, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(repo, "read-tree", base, env=env)
        parent = _git(repo, "rev-parse", base, env=env)
        for subject, edits in patches:
            for path, edit in edits.items():
                old = subprocess.run(
                    ["git", "-C", str(repo), "cat-file", "blob", f"{parent}:{path}"],
                    capture_output=True,
                    check=True,
                ).stdout.decode("utf-8", "surrogateescape")
                new = edit(old)
                assert new != old, f"{subject}: the edit of {path} changed nothing"
                blob = _git(
                    repo,
                    "hash-object",
                    "-w",
                    "--stdin",
                    env=env,
                    data=new.encode("utf-8", "surrogateescape"),
                )
                _git(repo, "update-index", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = _git(repo, "write-tree", env=env)
            parent = _git(repo, "commit-tree", tree, "-p", parent, "-m", subject, env=env)
        mbox = subprocess.run(
            ["git", "-C", str(repo), "format-patch", "--stdout", f"{base}..{parent}"],
            capture_output=True,
            env=env,
            check=True,
        ).stdout
    return mbox, parent

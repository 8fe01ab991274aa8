"""The bundled example (examples/ring) as a real git repository, for end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from repo_snapshot import RepoSnapshot, take

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a fixed identity; return stdout."""
    res = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return res.stdout


def ring_repo(tmp: Path) -> Path:
    """A git repository holding examples/ring at one commit."""
    repo = tmp / "ring"
    shutil.copytree(EXAMPLES / "ring", repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def snapshot(repo: Path) -> RepoSnapshot:
    """Everything about a checkout that series-tool must leave as it was (see repo_snapshot)."""
    return take(repo)

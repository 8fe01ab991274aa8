"""The bundled example (examples/ring) as a real git repository, for end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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


def snapshot(repo: Path) -> dict[str, object]:
    """Everything about a checkout that series-tool must leave as it was."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "files": files,
        "status": git(repo, "status", "--porcelain"),
        "refs": git(repo, "show-ref"),
        "stash": git(repo, "stash", "list"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
        "index": (repo / ".git" / "index").read_bytes(),
    }

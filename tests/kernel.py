"""Find or build the linux-source-6.12 git repository the kernel tests and benchmarks use.

The recipe is fixed so every machine gets the same commit: extract the Debian tarball,
`git init`, add everything, commit with a fixed author, committer and date.
Benchmarks import this module through sys.path (it is test support, not library code).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
NAME = "linux-source-6.12"
IDENT = "series-tool <series-tool@localhost>"
DATE = "2024-11-17T00:00:00Z"

#: Where the real corpus lives, next to the repository (never copied into it).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"


def cache_dir() -> Path:
    """`$SERIES_TOOL_KERNEL_CACHE`, else ~/.cache/series-tool."""
    env = os.environ.get("SERIES_TOOL_KERNEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "series-tool"


def kernel_path() -> Path:
    """Where the kernel repository is (or would be) built."""
    return cache_dir() / NAME


def has_commit(repo: Path) -> bool:
    """Whether `repo` is a git repository with a HEAD commit (a finished build)."""
    if not (repo / ".git").exists():
        return False
    proc = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def build_kernel_repo(
    tarball: Path = TARBALL, dest: Path | None = None, min_files: int = 1000
) -> Path:
    """Build the repository from the tarball unless it is already there; return its path.

    Extracts into a temporary sibling directory and renames it into place at the end, so
    an interrupted build never leaves a half-made repository that looks finished.
    """
    dest = dest or kernel_path()
    if has_commit(dest):
        return dest
    if dest.exists():
        raise RuntimeError(
            f"{dest} exists but has no commit (a build in progress or an interrupted one); "
            "wait for it or remove it"
        )
    if not tarball.is_file():
        raise FileNotFoundError(f"{tarball} is absent (apt-get install linux-source-6.12)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{NAME}.", dir=dest.parent))
    try:
        subprocess.run(["tar", "xf", str(tarball), "-C", str(work)], check=True)
        top = work / NAME
        name, email = IDENT.split(" <")
        env = dict(
            os.environ,
            GIT_AUTHOR_NAME=name,
            GIT_AUTHOR_EMAIL=email.rstrip(">"),
            GIT_COMMITTER_NAME=name,
            GIT_COMMITTER_EMAIL=email.rstrip(">"),
            GIT_AUTHOR_DATE=DATE,
            GIT_COMMITTER_DATE=DATE,
        )
        # No hooks, no signing: the user's git config must not change the commit.
        commit = ["-c", "commit.gpgSign=false", "commit", "-q", "--no-verify", "-m", NAME]
        # add -f: Debian's tarball ships a .gitignore whose last rule is "/*" (it ignores
        # the whole top level of the packaging tree), so a plain add stages nothing.
        for args in (["init", "-q"], ["add", "-A", "-f"], commit):
            subprocess.run(["git", "-C", str(top), *args], check=True, env=env)
        files = subprocess.run(
            ["git", "-C", str(top), "ls-files"], check=True, capture_output=True, text=True
        ).stdout.count("\n")
        if files < min_files:
            raise RuntimeError(f"only {files} files were committed from {tarball}")
        top.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def kernel_repo_or_reason() -> tuple[Path | None, str]:
    """The built repository, building it if needed, or (None, why it is unavailable)."""
    path = kernel_path()
    if has_commit(path):
        return path, ""
    if not TARBALL.is_file():
        return None, f"kernel repo absent: {path} not built and {TARBALL} missing"
    try:
        return build_kernel_repo(), ""
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return None, f"kernel repo unavailable: {exc}"

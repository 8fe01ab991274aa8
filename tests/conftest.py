"""Shared fixtures: real git repositories (tiny ones in tmp_path, and the kernel)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kernel import CORPUS, TARBALL, kernel_repo_or_reason

from series_tool.ingest import parse_diff
from series_tool.models import Patch

GIT_ENV = {
    "GIT_AUTHOR_NAME": "series-tool",
    "GIT_AUTHOR_EMAIL": "series-tool@localhost",
    "GIT_COMMITTER_NAME": "series-tool",
    "GIT_COMMITTER_EMAIL": "series-tool@localhost",
    "GIT_AUTHOR_DATE": "2024-11-17T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-11-17T00:00:00Z",
}


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in `repo` with a fixed identity; return stdout (raises on failure)."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def patch_from_diff(number: int, diff: str, error: str | None = None) -> Patch:
    """A numbered Patch carrying `diff` (parsed with the real diff parser) or a diff `error`."""
    return Patch(
        number=number,
        total=None,
        version=1,
        subject=f"patch {number}",
        raw_subject=f"[PATCH {number}] patch {number}",
        prefixes=["PATCH"],
        message_id=f"{number}@test",
        in_reply_to=None,
        references=[],
        author="A <a@b>",
        author_name="A",
        author_email="a@b",
        date="",
        commit_message="",
        diff_text=diff,
        files=[] if error else parse_diff(diff, f"patch {number}"),
        error=error,
    )


def series_mbox(repo: Path, base: str, mbox: Path) -> Path:
    """The commits after `base` in `repo`, as one numbered `git format-patch` mbox at
    `mbox` (the bytes git writes)."""
    out = git(repo, "format-patch", "--stdout", "--numbered", f"{base}..HEAD")
    mbox.write_bytes(out.encode("utf-8", "surrogateescape"))
    return mbox


def make_git_repo(tmp_path: Path, files: dict[str, str], name: str = "repo") -> Path:
    """A real git repository under `tmp_path` with `files` committed in one commit."""
    repo = tmp_path / name
    n = 1
    while repo.exists():
        n += 1
        repo = tmp_path / f"{name}{n}"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for rel, text in files.items():
        f = repo / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(text.encode("utf-8", "surrogateescape"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "initial")
    return repo


@pytest.fixture
def make_repo() -> Callable[[Path, dict[str, str]], Path]:
    """`make_repo(tmp_path, {"path": "text"}) -> Path`: a one-commit git repo."""
    return make_git_repo


@pytest.fixture(scope="session")
def kernel_repo() -> Path:
    """The linux-source-6.12 git repo (built from /usr/src tarball if missing), or skip."""
    path, reason = kernel_repo_or_reason()
    if path is None:
        if os.environ.get("CI") and TARBALL.is_file():
            # In CI the package is installed on purpose: a failed build is a failure, not
            # a quiet skip of every kernel test.
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def corpus() -> Path:
    """/work/shared/corpus (read in place), or skip."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus absent: {CORPUS}")
    return CORPUS

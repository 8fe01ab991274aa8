"""Verdicts under sparse checkouts and broken object stores (issue 10, item 5): hidden
files are still searched (in the commit), an unreadable blob is an error, never "absent"."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, git, ring_repo
from repo_snapshot import run_main

MISSED = str(EXAMPLES / "ring-slot-missed.mbox")


def verify(capsys: pytest.CaptureFixture[str], repo: Path) -> tuple[int, str, str]:
    code = run_main(["verify", MISSED, "--repo", str(repo), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("hide", ["sparse", "assume-unchanged"])
def test_files_git_grep_does_not_see_are_still_searched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hide: str
) -> None:
    repo = ring_repo(tmp_path)
    compact = repo / "src" / "compact.c"
    if hide == "sparse":
        git(repo, "sparse-checkout", "set", "--no-cone", "/*", "!/src/compact.c")
        assert not compact.exists()
    else:
        # The worktree copy no longer calls the old API, but HEAD does.
        git(repo, "update-index", "--assume-unchanged", "src/compact.c")
        compact.write_text(compact.read_text().replace("ring_slot(", "ring_slot_rw("))
    code, out, _ = verify(capsys, repo)
    rep = json.loads(out)
    assert code == 1 and rep["ok"] is False
    assert [(r["file"], r["function"]) for r in rep["remaining"] if r["kind"] == "call"] == [
        ("src/compact.c", "ring_compact")
    ]


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_an_unreadable_blob_is_an_error_naming_object_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    repo = ring_repo(tmp_path)
    oid = git(repo, "rev-parse", "HEAD:src/compact.c").strip()
    obj = repo / ".git" / "objects" / oid[:2] / oid[2:]
    if damage == "corrupt":
        os.chmod(obj, 0o644)
        obj.write_bytes(b"not a zlib stream")
    else:
        obj.unlink()
    code, out, err = verify(capsys, repo)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and oid in lines[0] and "src/compact.c" in lines[0], err


def test_a_broken_object_among_many_callers_is_an_error_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With enough untouched callers for worker processes (which read the worktree), the
    main process's one check of their objects still names the broken one."""
    monkeypatch.setattr(os, "cpu_count", lambda: 4)  # the worker path, on any runner
    repo = ring_repo(tmp_path)
    extra = repo / "src" / "many"
    extra.mkdir()
    for i in range(160):
        body = f"\tint *lock;\n\n\treturn *ring_slot(r, {i}, &lock);\n"
        (extra / f"user{i}.c").write_text(
            f'#include "ring.h"\n\nint user{i}(struct ring *r)\n{{\n{body}}}\n'
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many users")
    code, out, err = verify(capsys, repo)
    assert code == 1 and json.loads(out)["ok"] is False  # intact: the callers are found
    for path in ("src/many/user77.c", "src/many"):  # a blob, then a tree on the way
        damaged = ring_repo(tmp_path / path.replace("/", "_"))
        shutil.copytree(extra, damaged / "src" / "many")
        git(damaged, "add", "-A")
        git(damaged, "commit", "-q", "-m", "many users")
        oid = git(damaged, "rev-parse", f"HEAD:{path}").strip()
        obj = damaged / ".git" / "objects" / oid[:2] / oid[2:]
        os.chmod(obj, 0o644)
        obj.write_bytes(b"not a zlib stream")
        code, out, err = verify(capsys, damaged)
        assert code == 2 and out == "", path
        lines = err.strip().splitlines()
        assert len(lines) == 1 and oid in lines[0] and path in lines[0], err

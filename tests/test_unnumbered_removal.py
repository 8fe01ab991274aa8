"""A lone unnumbered `[PATCH]` that removes an API is checked like `[PATCH 1/1]`.

Found on a real patch (a header deleted while one #include of it stayed): the analysis
keyed removals by patch number, and an unnumbered patch's None read as "not removed".
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from repo_snapshot import run_main

IDENT = ["-c", "user.name=Dev", "-c", "user.email=dev@example.org"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENT, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def removal(tmp_path: Path) -> tuple[Path, Path]:
    """A repo whose b.c still calls old_get(), and a lone `[PATCH]` deleting old_get()."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "api.h").write_text("int old_get(int x);\nint new_get(int x);\n")
    (repo / "api.c").write_text(
        '#include "api.h"\nint old_get(int x)\n{\n\treturn x;\n}\n\n'
        "int new_get(int x)\n{\n\treturn x;\n}\n"
    )
    (repo / "a.c").write_text('#include "api.h"\nint a(void)\n{\n\treturn old_get(1);\n}\n')
    (repo / "b.c").write_text('#include "api.h"\nint b(void)\n{\n\treturn old_get(2);\n}\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    (work / "api.h").write_text("int new_get(int x);\n")
    (work / "api.c").write_text('#include "api.h"\nint new_get(int x)\n{\n\treturn x;\n}\n')
    (work / "a.c").write_text('#include "api.h"\nint a(void)\n{\n\treturn new_get(1);\n}\n')
    git(work, "commit", "-q", "-am", "api: remove old_get()")
    mbox = tmp_path / "lone.mbox"
    mbox.write_text(git(work, "format-patch", "--stdout", "-1"))
    assert "Subject: [PATCH] api: remove old_get()" in mbox.read_text()
    return repo, mbox


@pytest.mark.parametrize("command", ["verify", "bisect-report"])
def test_lone_patch_removal_with_a_caller_left_is_not_ok(
    removal: tuple[Path, Path], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, mbox = removal
    code = run_main([command, str(mbox), "--repo", str(repo), "--format", "json"])
    report = json.loads(capsys.readouterr()[0])
    assert code == 1
    assert report["ok"] is False
    assert report["migration"]["removed_in"] == {"old_get": 1}
    if command == "verify":
        left = [(r["file"], r["line"], r["function"], r["kind"]) for r in report["remaining"]]
        assert ("b.c", 4, "b", "call") in left
    else:
        (step,) = report["steps"]
        assert step["patch"] == 1 and step["safe"] is False
        assert any(q["file"] == "b.c" and q["line"] == 4 for q in step["problems"])

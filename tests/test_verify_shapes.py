"""verify on migrations of other shapes, each made as a real series with git format-patch:
several old symbols at once, and a macro API."""

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


def series(
    tmp_path: Path, base: dict[str, str], steps: list[tuple[str, dict[str, str | None]]]
) -> tuple[Path, Path]:
    """A repo at `base` and an mbox of one commit per step (None deletes a file)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for name, text in base.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    for subject, files in steps:
        for name, text in files.items():
            if text is None:
                (work / name).unlink()
            else:
                (work / name).write_text(text)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", subject)
    mbox = tmp_path / "series.mbox"
    mbox.write_text(git(work, "format-patch", "--stdout", "--cover-letter", f"HEAD~{len(steps)}"))
    return repo, mbox


def verify(  # type: ignore[type-arg]
    capsys: pytest.CaptureFixture[str], mbox: Path, repo: Path, extra: list[str] | None = None
) -> tuple[int, dict]:
    code = run_main(["verify", str(mbox), "--repo", str(repo), "--format", "json", *(extra or [])])
    return code, json.loads(capsys.readouterr()[0])


LOCK_H = "void foo_lock(int *l);\nvoid foo_unlock(int *l);\n"
LOCK_C = (
    '#include "lock.h"\nvoid foo_lock(int *l)\n{\n\t*l = 1;\n}\n\n'
    "void foo_unlock(int *l)\n{\n\t*l = 0;\n}\n"
)
USER_C = (
    '#include "lock.h"\nint counter;\n\nvoid bump(int *l)\n{\n\tfoo_lock(l);\n'
    "\tcounter++;\n\tfoo_unlock(l);\n}\n"
)


def test_two_old_symbols_pair_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new_h = LOCK_H + "void bar_lock(int *l);\nvoid bar_unlock(int *l);\n"
    new_c = (
        LOCK_C
        + "\nvoid bar_lock(int *l)\n{\n\t*l = 1;\n}\n\nvoid bar_unlock(int *l)\n{\n\t*l = 0;\n}\n"
    )
    repo, mbox = series(
        tmp_path,
        {"lock.h": LOCK_H, "lock.c": LOCK_C, "user.c": USER_C},
        [
            ("lock: add bar_lock() and bar_unlock()", {"lock.h": new_h, "lock.c": new_c}),
            ("user: bump() use bar_lock()", {"user.c": USER_C.replace("foo_", "bar_")}),
            (
                "lock: remove foo_lock() and foo_unlock()",
                {
                    "lock.h": "void bar_lock(int *l);\nvoid bar_unlock(int *l);\n",
                    "lock.c": new_c.replace(LOCK_C, '#include "lock.h"\n'),
                },
            ),
        ],
    )
    code, rep = verify(capsys, mbox, repo)
    assert code == 0, rep["findings"]
    assert rep["migration"]["old"] == ["foo_lock", "foo_unlock"]
    assert rep["migration"]["new"] == ["bar_lock", "bar_unlock"]
    assert sorted((c["old"], c["new"], c["function"]) for c in rep["conversions"]) == [
        ("foo_lock", "bar_lock", "bump"),
        ("foo_unlock", "bar_unlock", "bump"),
    ]


def test_macro_api_rename_with_a_missed_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = "#define OLD_GET(p) ((p)->v)\n"
    user_a = (
        '#include "api.h"\nstruct s { int v; };\nint a(struct s *p)\n{\n\treturn OLD_GET(p);\n}\n'
    )
    user_b = (
        '#include "api.h"\nstruct s { int v; };\n'
        "int b(struct s *p)\n{\n\treturn OLD_GET(p) + 1;\n}\n"
    )
    repo, mbox = series(
        tmp_path,
        {"api.h": api, "a.c": user_a, "b.c": user_b},
        [
            ("api: add NEW_GET()", {"api.h": api + "#define NEW_GET(p) ((p)->v)\n"}),
            ("a: use NEW_GET()", {"a.c": user_a.replace("OLD_GET", "NEW_GET")}),
            ("api: remove OLD_GET()", {"api.h": "#define NEW_GET(p) ((p)->v)\n"}),
        ],
    )
    code, rep = verify(capsys, mbox, repo)
    assert rep["migration"]["old"] == ["OLD_GET"] and rep["migration"]["new"] == ["NEW_GET"]
    assert [(c["function"], c["new"]) for c in rep["conversions"]] == [("a", "NEW_GET")]
    assert code == 1
    left = [(r["file"], r["function"], r["kind"]) for r in rep["remaining"]]
    assert left == [("b.c", "b", "macro-use")]  # a macro's invocation is its use


def test_many_untouched_callers_are_all_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tree-wide API: 150 caller files the series never touches (classified in parallel
    worker processes) are each reported with their function."""
    base = {"api.h": "int old_api(int x);\nint new_api(int x);\n"}
    for i in range(150):
        base[f"drivers/d{i}.c"] = (
            f'#include "../api.h"\n/* old_api() is used below */\nint user_{i}(void)\n{{\n'
            f"\treturn old_api({i});\n}}\n"
        )
    repo, mbox = series(
        tmp_path, base, [("api: remove old_api()", {"api.h": "int new_api(int x);\n"})]
    )
    code, rep = verify(capsys, mbox, repo, ["--old", "old_api", "--new", "new_api"])
    assert code == 1
    calls = sorted((r["file"], r["function"]) for r in rep["remaining"] if r["kind"] == "call")
    assert calls == sorted((f"drivers/d{i}.c", f"user_{i}") for i in range(150))
    comments = [r for r in rep["remaining"] if r["kind"] == "comment"]
    assert len(comments) == 150

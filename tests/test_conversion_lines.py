"""Lines and functions of references and conversions, with several uses in several functions.

Found on a real series: one hunk dropping two log calls from a module's init function and
two from its exit function reported all four at the first added line, in the init
function. A dropped use (nothing replaces it) is named at its own line, in its own
function. The windowed classifications (untouched files, edits of touched files) must
give the lines and functions the whole-file classification gives.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from repo_snapshot import run_main
from shapes_series import HEADER_REMOVAL, build, mbox

from series_tool.model import CSource, find_references, refs_after_edit, windowed_references

IDENT = ["-c", "user.name=Dev", "-c", "user.email=dev@example.org"]

DRV_C = """\
#include "drv.h"

static int drv_init(void)
{
\tint ret;

\tret = drv_register();
\tdbg("register = %d\\n", ret);
\tinfo("version 1\\n");

\treturn ret;
}

static void drv_exit(void)
{
\tdbg("unload\\n");
\tdrv_unregister();
\tinfo("unloaded\\n");
}

static const struct drv_ops ops = {
\t.name = "drv",
};

int drv_speed(int speed)
{
\tif (speed > 2)
\t\tdbg("fast %d\\n", speed);
\telse
\t\tinfo("slow %d\\n", speed);
\treturn speed;
}
"""

SYMBOLS = ["dbg", "info", "drv_register"]
ROLES = {"dbg": frozenset({"function-macro"}), "info": frozenset({"function-macro"})}


def _key(refs: list) -> list[tuple[int, str, str, str | None]]:
    return sorted((r.line, r.symbol, r.kind, r.function) for r in refs)


def test_windowed_lines_match_the_whole_file() -> None:
    whole = find_references("drv.c", DRV_C, SYMBOLS, roles=ROLES)
    assert [(r.line, r.function) for r in whole if r.symbol == "dbg"] == [
        (8, "drv_init"),
        (16, "drv_exit"),
        (28, "drv_speed"),
    ]
    assert _key(windowed_references("drv.c", DRV_C, SYMBOLS, roles=ROLES)) == _key(whole)


@pytest.mark.parametrize("drop", [[8, 9], [16, 18], [8, 16], [28, 30], [9, 18, 28]])
def test_edited_lines_match_the_whole_file(drop: list[int]) -> None:
    """Lines deleted one edit at a time (as patches do): the carried-over references keep
    the lines a whole-file classification gives."""
    text, src = DRV_C, CSource.from_text(DRV_C)
    refs = find_references("drv.c", text, SYMBOLS, source=src, roles=ROLES)
    for line in sorted(drop, reverse=True):
        lines = text.split("\n")
        del lines[line - 1]
        text = "\n".join(lines)
        src = src.reparsed(text)
        refs = refs_after_edit("drv.c", refs, src, SYMBOLS, roles=ROLES)
        assert _key(refs) == _key(find_references("drv.c", text, SYMBOLS, roles=ROLES))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENT, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def test_dropped_uses_are_named_at_their_own_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    header = (
        "struct drv_ops { const char *name; };\nint drv_register(void);\n"
        "void drv_unregister(void);\n#define dbg(fmt, arg...) do { } while (0)\n"
        "#define info(fmt, arg...) do { } while (0)\n"
    )
    (repo / "drv.h").write_text(header)
    (repo / "drv.c").write_text(DRV_C)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    lines = DRV_C.split("\n")
    # init and exit in one hunk: init is restructured, exit only loses its two lines.
    new = [*lines[:4], "\treturn drv_register();", *lines[11:15], lines[16], *lines[18:]]
    (work / "drv.c").write_text(
        "\n".join(new).replace('dbg("fast', 'pr_debug("fast').replace('info("slow', 'pr_info("slow')
    )
    git(work, "commit", "-q", "-am", "drv: drop logging")
    (work / "drv.h").write_text("\n".join(header.split("\n")[:3]) + "\n")
    git(work, "commit", "-q", "-am", "drv: remove dbg() and info()")
    mbox = tmp_path / "s.mbox"
    mbox.write_text(git(work, "format-patch", "--stdout", "-n", "HEAD~2..HEAD"))
    code = run_main(["verify", str(mbox), "--repo", str(repo), "--format", "json"])
    report = json.loads(capsys.readouterr()[0])
    assert code == 0
    got = sorted(
        (c["line"], c["function"], c["old"], c["new"])
        for c in report["conversions"]
        if c["new"] is None
    )
    assert got == [
        (8, "drv_init", "dbg", None),
        (9, "drv_init", "info", None),
        (16, "drv_exit", "dbg", None),
        (18, "drv_exit", "info", None),
    ]
    # drv_speed's calls became other functions' calls, named where they are now.
    assert {(c["function"], c["old"]) for c in report["conversions"] if c["new"]} == {
        ("drv_speed", "dbg"),
        ("drv_speed", "info"),
    }


def test_header_accounting_counts_grep_lines_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deleted header's own file is not a `git grep -w` line: the accounting of its
    include name lists the #include lines only, and the text says so without a '?'."""
    repo, series = build(tmp_path, HEADER_REMOVAL)
    box = tmp_path / "header.mbox"
    box.write_text(mbox(series, [1, 2, 3, 4]))
    assert run_main(["verify", str(box), "--repo", str(repo), "--format", "json"]) == 0
    acc = json.loads(capsys.readouterr()[0])["accounted"]["core/legacy.h"]
    assert acc["base"]["definition"] == 0
    assert acc["grep_lines"] == sum(acc["base"].values()) == acc["base"]["include"]
    assert run_main(["verify", str(box), "--repo", str(repo)]) == 0
    text = capsys.readouterr()[0]
    assert "?" not in text and "(file scope)" in text

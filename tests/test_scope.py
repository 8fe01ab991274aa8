"""The scope of a removed name: a macro of a driver's private header, a static function.

Found on a real series (the `dbg`/`err`/`info`/`warn` macros of a PCI hotplug driver's
own header): every whole-word hit of those common names in the tree (locals named
`info`, another driver's own `dbg`, prose) was reported as a remaining use. Only files
that can include the header (they name it, or name a header that does) count; a static
function counts only in its own file; a function-like macro's name without '(' after it
is another entity.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from repo_snapshot import run_main

IDENT = ["-c", "user.name=Dev", "-c", "user.email=dev@example.org"]

PRIV_H = """\
#ifndef PRIV_H
#define PRIV_H
#include <stdio.h>
struct ctrl { int id; };
extern int drv_debug;
#define ctrl_dbg(ctrl, fmt, arg...) printf("%d: " fmt, (ctrl)->id, ## arg)
#define dbg(format, arg...) printf(format, ## arg)
#define info(format, arg...) printf(format, ## arg)
#endif
"""

A_C = """\
#include "priv.h"

int drv_debug;
struct event_info { int x; };

static int helper(int v)
{
\treturn v + 1;
}

int a_init(struct ctrl *ctrl)
{
\tstruct event_info *info = 0;
\tdbg("init %d\\n", ctrl->id);
\tinfo("version 1\\n");
\treturn helper(info ? info->x : 0);
}

void a_exit(struct ctrl *ctrl)
{
\tdbg("exit\\n");
\tinfo("unloaded\\n");
}
"""

A_C_CONVERTED = """\
#include "priv.h"

int drv_debug;
struct event_info { int x; };

int a_init(struct ctrl *ctrl)
{
\tstruct event_info *info = 0;
\treturn info ? info->x : 0;
}

void a_exit(struct ctrl *ctrl)
{
}
"""

B_C = """\
#include "priv.h"

int b_speed(struct ctrl *ctrl)
{
\tint speed = 3;

\tdbg("speed %d\\n", speed);
\treturn speed;
}
"""

INNER_H = '#include "priv.h"\nint d_probe(struct ctrl *ctrl);\n'

D_C = """\
#include "inner.h"

int d_probe(struct ctrl *ctrl)
{
\tdbg("probe\\n");
\treturn 0;
}
"""

# Same directory, does not include priv.h: its own dbg() and a variable named info.
OTHER_C = """\
#include <stdio.h>
#define dbg(fmt, arg...) printf(fmt, ## arg)

static int helper(int v)
{
\treturn v * 2;
}

int other(int info)
{
\tdbg("other %d\\n", info);
\treturn helper(info);
}
"""

LIB_C = """\
struct event_info { int x; };

int lib_event(struct event_info *info, int err)
{
\tif (err)
\t\treturn err;
\treturn info->x;
}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENT, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def _commit(work: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "commit", "-q", "-am", message)
    return git(work, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The base repo, and mboxes: the whole series and the series without its patch 2."""
    tmp = tmp_path_factory.mktemp("scope")
    repo = tmp / "repo"
    (repo / "drv").mkdir(parents=True)
    (repo / "lib").mkdir()
    files = {
        "drv/priv.h": PRIV_H,
        "drv/a.c": A_C,
        "drv/b.c": B_C,
        "drv/inner.h": INNER_H,
        "drv/d.c": D_C,
        "drv/other.c": OTHER_C,
        "lib/lib.c": LIB_C,
        "README.rst": "Set info to get more info; dbg output is err-prone.\n",
    }
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    work = tmp / "work"
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    base = git(work, "rev-parse", "HEAD").strip()
    commits = [
        _commit(work, "drv: a: drop logging and helper", {"drv/a.c": A_C_CONVERTED}),
        _commit(
            work,
            "drv: b: dbg() -> ctrl_dbg()",
            {"drv/b.c": B_C.replace('dbg("speed', 'ctrl_dbg(ctrl, "speed')},
        ),
        _commit(
            work,
            "drv: d: dbg() -> ctrl_dbg()",
            {"drv/d.c": D_C.replace('dbg("probe', 'ctrl_dbg(ctrl, "probe')},
        ),
        _commit(
            work,
            "drv: remove dbg() and info(), and drv_debug",
            {
                "drv/priv.h": "\n".join(ln for ln in PRIV_H.split("\n") if "(format" not in ln),
                "drv/a.c": A_C_CONVERTED.replace("int drv_debug;\n", ""),
            },
        ),
    ]
    mboxes = {"full": tmp / "full.mbox"}
    mboxes["full"].write_text(git(work, "format-patch", "--stdout", "-n", f"{base}..HEAD"))
    for drop in (2, 3):
        git(work, "checkout", "-q", "-B", f"drop{drop}", base)
        for k, c in enumerate(commits, start=1):
            if k != drop:
                git(work, "cherry-pick", c)
        mbox = tmp / f"drop{drop}.mbox"
        mbox.write_text(git(work, "format-patch", "--stdout", "-n", f"{base}..HEAD"))
        mboxes[f"drop{drop}"] = mbox
    return repo, mboxes


def _run(command: str, repo: Path, mbox: Path, capsys: pytest.CaptureFixture[str]) -> tuple:
    code = run_main([command, str(mbox), "--repo", str(repo), "--format", "json"])
    return code, json.loads(capsys.readouterr()[0])


@pytest.mark.parametrize("command", ["verify", "bisect-report"])
def test_full_series_is_ok_whatever_else_is_named_like_its_macros(
    project: tuple[Path, dict[str, Path]], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, mboxes = project
    code, report = _run(command, repo, mboxes["full"], capsys)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors == []
    assert code == 0
    if command == "verify":
        assert {"dbg", "info"} <= set(report["migration"]["old"])
        # Nothing of other.c, lib.c or the README is a use of the driver's macros.
        assert not any(r["file"] in ("drv/other.c", "lib/lib.c") for r in report["remaining"])
        dbg = report["accounted"]["dbg"]
        # other.c's #define and call of its own dbg, and the README line.
        assert dbg["out_of_scope_lines"] == 3
        assert dbg["unaccounted"] == []
        assert not any(f["code"] == "split-migration" for f in report["findings"])
        # A global variable whose definition is deleted is old API; its extern left in
        # the header is named, as a warning (nothing uses it).
        assert "drv_debug" in report["migration"]["old"]
        left = [f for f in report["findings"] if f["code"] == "old-declaration-left"]
        assert [(f["file"], f["line"]) for f in left] == [("drv/priv.h", 5)]


@pytest.mark.parametrize(
    ("variant", "where"),
    [("drop2", ("drv/b.c", 7, "b_speed")), ("drop3", ("drv/d.c", 5, "d_probe"))],
)
@pytest.mark.parametrize("command", ["verify", "bisect-report"])
def test_a_dropped_conversion_is_the_one_error(
    project: tuple[Path, dict[str, Path]],
    command: str,
    variant: str,
    where: tuple[str, int, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, mboxes = project
    code, report = _run(command, repo, mboxes[variant], capsys)
    assert code == 1
    if command == "verify":
        errors = [f for f in report["findings"] if f["severity"] == "error"]
        assert [(f["file"], f["line"], f["function"]) for f in errors] == [where]
        (left,) = [r for r in report["remaining"] if r["kind"] not in ("comment", "declaration")]
        assert (left["file"], left["line"], left["function"], left["symbol"]) == (*where, "dbg")
    else:
        problems = [q for st in report["steps"] for q in st["problems"]]
        assert {(q["file"], q["line"]) for q in problems} == {where[:2]}


def test_the_tree_search_runs_only_when_a_use_outside_a_c_file_is_asked_about() -> None:
    """A name private to a `.c` file needs the whole-tree search for includers of that
    file only when a reference elsewhere is asked about (most series: never); a private
    header's name is searched at once (its users are elsewhere by design)."""
    from series_tool.model import DefinitionSite, build_scope

    asked: list[list[str]] = []

    tree = {
        "drv/wrap.c": '#include "a.c"\n',
        "drv/inc.h": '#include "priv.h"\n',
        "drv/user.c": '#include "inc.h"\n',
        "lib/other.c": "/* not a.c, nor priv.h */\n",
    }

    def mentioning(strings: list[str]) -> dict[str, set[str]]:
        """What `git grep -o -F` of the strings finds in the tree above."""
        asked.append(sorted({s.rstrip('">') for s in strings}))
        found = {path: {s for s in strings if s in text} for path, text in tree.items()}
        return {path: hit for path, hit in found.items() if hit}

    sites = {
        "helper": [DefinitionSite("drv/a.c", True)],
        "dbg": [DefinitionSite("drv/priv.h", True)],
        "api": [DefinitionSite("drv/api.c", False)],
    }
    scope = build_scope(sites, mentioning, ["helper", "api"])
    assert scope.scoped() == ["helper"] and not asked
    assert scope.allows("helper", "drv/a.c") and scope.allows("api", "any.c") and not asked
    assert scope.allows("helper", "drv/wrap.c")  # it #includes a.c: asked now, once
    assert not scope.allows("helper", "lib/other.c")
    assert asked == [["a.c"]]

    headers = build_scope(sites, mentioning, ["dbg"])
    assert asked[1:] == [["priv.h"], ["inc.h"]]  # at once, closed over the headers
    assert headers.allows("dbg", "drv/user.c") and not headers.allows("dbg", "lib/other.c")

    both = scope.merged(headers)
    assert both.scoped() == ["dbg", "helper"]
    assert both.allows("helper", "drv/wrap.c") and both.allows("dbg", "drv/inc.h")
    assert not both.allows("dbg", "drv/wrap.c") and not both.allows("helper", "drv/user.c")
    assert len(asked) == 3  # no search ran again

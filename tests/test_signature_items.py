"""The signature check of a long series (its files followed from item parses): a
replacement with no prototype anywhere is said unchecked (without parsing the converted
files), and a replacement whose only prototype is in the converted file (at file scope, or
inside the converted function) is still checked against it.

From 128 touched files on the analysis keeps no whole parse of the series' files, and the
signature check asks only the files that declare the replacement (the step's references
say which) before it parses a converted file: these cases pin that a declaration the
converted file holds is among them.
"""

from __future__ import annotations

from pathlib import Path

from conftest import git, make_git_repo, series_mbox
from test_scale_steps import HEADER

from series_tool.checks import analyse, verify_report
from series_tool.ingest import ingest
from series_tool.replay import open_tree

FILES = 140


def _caller(i: int) -> str:
    return (
        f'#include "buf.h"\n\nstatic int helper{i}(int x)\n{{\n\tx += buf_get(1);\n'
        f"\treturn x;\n}}\n\nint user{i}(void)\n{{\n\treturn helper{i}(buf_get(0));\n}}\n"
    )


def _findings(tmp_path: Path) -> list[dict[str, object]]:
    """verify's findings on a series converting buf_get() to buf_fetch() in 140 files, a
    name nothing declares (no prototype to compare with, anywhere), where two files call
    other replacements instead: buf_pair(), defined (with two parameters) in the file it
    is called in, and buf_two(), declared only inside the function that calls it."""
    files = {"buf.h": HEADER, "buf.c": "int buf_get(int n)\n{\n\treturn n;\n}\n"}
    files |= {f"c{i:03}.c": _caller(i) for i in range(FILES)}
    repo = make_git_repo(tmp_path, files)
    base = git(repo, "rev-parse", "HEAD").strip()
    for k in range(0, FILES, 35):
        for i in range(k, k + 35):
            path = repo / f"c{i:03}.c"
            text = path.read_text()
            if i == 7:
                text = text.replace("buf_get(1)", "buf_pair(1)").replace(
                    "static int helper7",
                    "static int buf_pair(int a, int b)\n{\n\treturn a;\n}\n\nstatic int helper7",
                )
            elif i == 8:
                text = text.replace(
                    "\tx += buf_get(1);", "\textern int buf_two(int a, int b);\n\tx += buf_two(1);"
                )
            path.write_text(text.replace("buf_get(", "buf_fetch("))
        git(repo, "commit", "-qam", f"convert files {k} to {k + 34}")
    ing = ingest(str(series_mbox(repo, base, tmp_path / "series.mbox")))
    tree = open_tree(str(repo), base, None, "/")
    an = analyse(ing, tree, old=["buf_get"], new=["buf_fetch", "buf_pair", "buf_two"])
    assert len({c.file for c in an.conversions}) == FILES
    findings: list[dict[str, object]] = verify_report(an)["findings"]
    return findings


def test_long_series_signatures(tmp_path: Path) -> None:
    findings = _findings(tmp_path)
    signature = sorted(
        (f["code"], f["file"], f["line"], f["message"])
        for f in findings
        if f["code"] in ("incompatible-signature", "signature-unchecked")
    )
    assert signature == [
        (
            "incompatible-signature",
            "c007.c",
            10,
            "too few arguments to function 'buf_pair': 1 given, its prototype takes 2 "
            "('int (*)(int, int)')",
        ),
        (
            "incompatible-signature",
            "c008.c",
            6,
            "too few arguments to function 'buf_two': 1 given, its prototype takes 2 "
            "('int (*)(int, int)')",
        ),
        (
            "signature-unchecked",
            "c000.c",
            5,
            "whether buf_fetch fits where it replaces buf_get was not checked: no single "
            "prototype of it found",
        ),
    ]

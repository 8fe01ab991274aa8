"""A split API under names of its own, made here (a small C project, format-patch):
`ring_at()` is replaced by a reader and a writer variant; the series converts one caller
of each kind and the rest are dropped. rewrite must give each dropped caller the variant
its behaviour calls for, the same whatever the variants are called, or list it for review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_rewrite_right import am, git, make_series, run

from series_tool.cli import main

RING_H = """\
struct slot { int val; int gen; };
struct ring { struct slot slots[8]; };
struct slot *ring_at(struct ring *r, int i);
int slot_get(const struct slot *s);
void slot_set(struct slot *s, int v);
void slot_dump(const struct slot *s);
"""
NEW_DECLS = (
    "const struct slot *{reader}(struct ring *r, int i);\n"
    "struct slot *{writer}(struct ring *r, int i);\n"
)
RING_C = """\
#include "ring.h"

struct slot *ring_at(struct ring *r, int i)
{
\treturn &r->slots[i & 7];
}
"""
NEW_DEFS = """
const struct slot *{reader}(struct ring *r, int i)
{{
\treturn &r->slots[i & 7];
}}

struct slot *{writer}(struct ring *r, int i)
{{
\treturn &r->slots[i & 7];
}}
"""

#: (file, function, its body using ring_at, what the caller does: "r" reads, "w" writes)
CALLERS = [
    ("show.c", "show", "const struct slot *s = ring_at(r, 0);\n\n\treturn slot_get(s);", "r"),
    ("fill.c", "fill", "struct slot *s = ring_at(r, 1);\n\n\tslot_set(s, 3);\n\treturn 0;", "w"),
    # dropped from the series:
    ("peek.c", "peek", "const struct slot *s;\n\n\ts = ring_at(r, 2);\n\treturn slot_get(s);", "r"),
    ("store.c", "store", "struct slot *s = ring_at(r, 3);\n\n\tslot_set(s, 4);\n\treturn 1;", "w"),
    ("reset.c", "reset", "struct slot *s = ring_at(r, 4);\n\n\ts->val = 0;\n\treturn 0;", "w"),
    ("age.c", "age", "struct slot *s = ring_at(r, 5);\n\n\ts->gen++;\n\treturn s->gen;", "w"),
    ("read.c", "sum", "const struct slot *s = ring_at(r, 6);\n\n\treturn s->val + s->gen;", "r"),
]
KEPT = {"show.c", "fill.c"}


def caller(func: str, body: str) -> str:
    return f'#include "ring.h"\n\nint {func}(struct ring *r)\n{{\n\t{body}\n}}\n'


def build(tmp: Path, reader: str, writer: str, const: bool = True) -> tuple[Path, list[str], str]:
    """The project, and a series adding the variants, converting the KEPT callers and
    removing ring_at(); `const`: the reader's result points to const."""
    base = {"ring.h": RING_H, "ring.c": RING_C}
    base.update({f: caller(fn, body) for f, fn, body, _ in CALLERS})
    decls = NEW_DECLS.format(reader=reader, writer=writer)
    both_h = RING_H + decls
    new_h = RING_H.replace("struct slot *ring_at(struct ring *r, int i);\n", "") + decls
    defs = NEW_DEFS.format(reader=reader, writer=writer)
    if not const:
        decls, defs = decls.replace("const ", ""), defs.replace("const ", "")
    steps: list[tuple[str, dict[str, str]]] = [
        (f"ring: add {reader}() and {writer}()", {"ring.h": both_h, "ring.c": RING_C + defs})
    ]
    for f, fn, body, kind in CALLERS:
        if f in KEPT:
            new = reader if kind == "r" else writer
            steps.append((f"{fn}: use {new}()", {f: caller(fn, body.replace("ring_at", new))}))
    removed_c = '#include "ring.h"\n' + defs
    steps.append(("ring: remove ring_at()", {"ring.h": new_h, "ring.c": removed_c}))
    return make_series(tmp, base, steps)


@pytest.mark.parametrize(
    ("reader", "writer"),
    [("ring_peek", "ring_grab"), ("ring_look", "ring_take"), ("ring_at_a", "ring_at_b")],
)
def test_split_api_variants_from_behaviour(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reader: str, writer: str
) -> None:
    repo, mails, series = build(tmp_path, reader, writer)
    mbox = tmp_path / "series.mbox"
    mbox.write_text(series)
    out = tmp_path / "fix.mbox"
    code, rep = run(capsys, str(mbox), "--repo", str(repo), "--mbox", str(out))
    assert rep["check"]["ok"], rep["check"]
    got = {c["function"]: c["new"] for c in rep["conversions"]}
    want = {fn: reader if kind == "r" else writer for f, fn, _, kind in CALLERS if f not in KEPT}
    reviewed = {r["function"] for r in rep["needs_review"]}
    # every dropped caller is converted as its behaviour calls for, or listed for review
    assert set(got) | reviewed == set(want) and not set(got) & reviewed
    assert {fn: new for fn, new in got.items()} == {fn: want[fn] for fn in got}
    assert len(got) >= 4, rep["needs_review"]
    # the choices were learned from the series: each generated one says so in its mail
    # and asks a person to confirm it. Such a site is a review item too (README: exit 1
    # when any site is left for review), counted in the summary: exit 1 (was 0 with
    # per-conversion notes no summary or exit status showed).
    assert all(c["needs_review"] for c in rep["conversions"])
    assert rep["summary"] == {
        "generated": len(got),
        "generated_to_review": len(got),
        "not_generated_to_review": len(reviewed),
        "not_handled": 0,
    }
    assert code == 1
    # git am: the series' patches, the generated mails before the removal, the removal
    for mail in mails[:-1]:
        am(repo, mail)
    am(repo, out.read_text())
    am(repo, mails[-1])
    left = subprocess.run(
        ["git", "-C", str(repo), "grep", "-w", "ring_at"], capture_output=True, text=True
    )
    assert left.stdout == "" or set(reviewed), left.stdout
    for f, fn, body, kind in CALLERS:
        if fn in got:
            new = reader if kind == "r" else writer
            assert (repo / f).read_text() == caller(fn, body.replace("ring_at", new))
    assert git(repo, "status", "--porcelain") == ""


def test_split_api_nothing_tells_goes_to_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same prototypes, and the series' callers only pass the pointer to functions: which
    variant writes is not known, so no site is generated (and no name decides)."""
    repo, _, series = build(tmp_path, "ring_peek", "ring_grab", const=False)
    mbox = tmp_path / "series.mbox"
    mbox.write_text(series)
    code, rep = run(capsys, str(mbox), "--repo", str(repo))
    assert code == 1 and rep["conversions"] == [] and rep["written"] == []
    dropped = {fn for f, fn, _, _ in CALLERS if f not in KEPT}
    assert {r["function"] for r in rep["needs_review"]} == dropped
    assert all("nothing tells which" in r["why"] for r in rep["needs_review"])


#: Compile every file; a reader's `const` result stored in a plain pointer, or a call of a
#: function no header declares, fails it.
BUILD = "set -e; for f in *.c; do cc -fsyntax-only -Werror -Wall $f; done"


def test_check_build_per_mail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--check --build CMD`: the base, each generated mail, the removal and the end are
    built in temporary worktrees; every build passes, and the user's checkout is untouched."""
    repo, _, series = build(tmp_path, "ring_look", "ring_take")
    mbox = tmp_path / "series.mbox"
    mbox.write_text(series)
    head = git(repo, "rev-parse", "HEAD")
    code, rep = run(capsys, str(mbox), "--repo", str(repo), "--build", BUILD)
    check = rep["check"]
    # exit 1: the generated conversions carry review items (the check itself passes)
    assert check["ok"], check
    assert code == 1 and rep["summary"]["generated_to_review"] == 5
    assert check["base_build"]["status"] == "passed"
    built = [s for s in check["steps"] if "build" in s]
    mails = [s for s in built if s["generated"]]
    assert len(mails) == len(rep["conversions"]) == 5
    assert all(s["build"]["status"] == "passed" for s in built)
    assert built[-1]["patch"] is not None  # the removal (the last patch) was built too
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 1


def test_check_build_fails_where_callers_are_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sites left for review keep calling ring_at(): the build after the removal fails, and
    the check says so (exit 1)."""
    repo, _, series = build(tmp_path, "ring_peek", "ring_grab", const=False)
    mbox = tmp_path / "series.mbox"
    mbox.write_text(series)
    code, rep = run(capsys, str(mbox), "--repo", str(repo), "--build", BUILD)
    check = rep["check"]
    assert code == 1 and not check["ok"]
    assert check["base_build"]["status"] == "passed"
    [after] = [s for s in check["steps"] if "build" in s and s["patch"] is not None]
    assert after["build"]["status"] == "failed" and "ring_at" in after["build"]["log_tail"]
    assert "the build fails after patch" in check["note"]


def test_check_build_kernel_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, _, series = build(tmp_path, "ring_look", "ring_take")
    mbox = tmp_path / "series.mbox"
    mbox.write_text(series)
    code = main(["rewrite", str(mbox), "--repo", str(repo), "--check", "--build", "kernel"])
    err = capsys.readouterr().err
    assert code == 2 and "--build" in err and "kernel" in err and len(err.splitlines()) == 1

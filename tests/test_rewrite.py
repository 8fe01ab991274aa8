"""rewrite: generated patches apply with git am, keep C parseable, and match the real series."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.ingest import ingest, split_mbox
from series_tool.model import find_references, parse
from series_tool.models import Migration, Patch, Reference, Series
from series_tool.rewrite import RewritePlan, diffstat, patch_filename, plan_rewrite, unified_diff

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PTE = SHARED / "corpus" / "pte-nolock" / "v4.mbox"
KERNEL = Path.home() / ".cache" / "series-tool" / "linux-source-6.12"
AUTHOR = "Series Tool <series-tool@example.org>"
DATE = "Tue, 1 Oct 2024 10:00:00 +0000"


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    env_args = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    res = subprocess.run(
        ["git", *env_args, *args], cwd=repo, input=stdin, capture_output=True, text=True
    )
    assert res.returncode == 0, f"git {' '.join(args)}: {res.stderr}"
    return res.stdout


def errors(text: str) -> int:
    tree = parse(text.encode("utf-8", "surrogateescape"))
    stack, count = [tree.root_node], 0
    while stack:
        n = stack.pop()
        count += n.type == "ERROR" or n.is_missing
        stack.extend(n.children)
    return count


def remaining_calls(repo: Path, symbols: list[str]) -> list[Reference]:
    """References of `symbols` in the work tree (git grep, then find_references)."""
    args = ["grep", "-l", "-w", *(x for s in symbols for x in ("-e", s))]
    res = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    refs: list[Reference] = []
    for path in res.stdout.split():
        text = (repo / path).read_text(encoding="utf-8", errors="surrogateescape")
        refs.extend(find_references(path, text, symbols))
    return refs


def reader(repo: Path) -> Callable[[str], str | None]:
    def read(path: str) -> str | None:
        p = repo / path
        return p.read_text(encoding="utf-8", errors="surrogateescape") if p.is_file() else None

    return read


def am(repo: Path, mails: list[str]) -> None:
    for mail in mails:
        git(repo, "am", "--quiet", stdin=mail)


# --------------------------------------------------------------------------- small project

BASE_RING_H = """\
struct slot { int v; };
struct ring { struct slot slots[8]; struct slot *last; };
struct slot *ring_slot(struct ring *r, int i, int *lockp);
void slot_write(struct slot *s, int v);
int slot_read(const struct slot *s);
int clk_on(int dev, int **out);
"""

BASE_USERS_C = """\
#include "ring.h"

static void poke(struct slot *p, int v)
{
\tslot_write(p, v);
}

int reader_one(struct ring *r)
{
\tint lock;
\tstruct slot *s;

\ts = ring_slot(r, 1, &lock);
\treturn slot_read(s);
}

void writer_direct(struct ring *r)
{
\tint lock;
\tstruct slot *s = ring_slot(r, 2, &lock);

\tslot_write(s, 3);
}

void writer_static(struct ring *r)
{
\tint lock;
\tstruct slot *s;

\ts = ring_slot(r, 3, &lock);
\tpoke(s, 4);
}

void escaper(struct ring *r)
{
\tint lock;

\tif (r) {
\t\tr->last = ring_slot(r, 4, &lock);
\t}
}

int starter(int dev)
{
\tint *p;
\tint ret;

\tret = clk_on(dev, &p);
\tif (ret)
\t\treturn ret;
\treturn clk_on(dev + 1, &p);
}
"""

CONVERTED_USER_C = """\
#include "ring.h"

void already(struct ring *r)
{
\tint lock;
\tint seen;
\tstruct slot *s;

\ts = ring_slot(r, 5, &lock);
\tslot_write(s, 1);
}

int started(int dev)
{
\tint *p;
\tint ret;

\tret = clk_on(dev, &p);
\tif (ret)
\t\treturn ret;
\treturn 0;
}
"""

RULES = """\
[[migration]]
old = "ring_slot"
variants = ["ring_slot_ro", "ring_slot_rw"]
reader = "ring_slot_ro"
writer = "ring_slot_rw"
write_ops = ["slot_write"]
write_prefixes = ["slot_set_"]
escape_is_write = true
follow_depth = 2
writer_review = "check the slot generation before writing"
"""


def make_project(tmp_path: Path) -> tuple[Path, Series]:
    """A C project and a series: introduce new APIs, convert one caller each, remove old ones."""
    repo = tmp_path / "proj"
    (repo / "lib").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "lib" / "ring.h").write_text(BASE_RING_H)
    (repo / "lib" / "users.c").write_text(BASE_USERS_C)
    (repo / "lib" / "other.c").write_text(CONVERTED_USER_C)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    h = repo / "lib" / "ring.h"
    h.write_text(
        BASE_RING_H
        + "struct slot *ring_slot_ro(struct ring *r, int i, int *lockp);\n"
        + "struct slot *ring_slot_rw(struct ring *r, int i, int *genp, int *lockp);\n"
        + "int clk_on_counted(int dev, int **out);\n"
    )
    git(repo, "commit", "-q", "-am", "lib: ring: introduce ring_slot_ro() and ring_slot_rw()")
    o = repo / "lib" / "other.c"
    o.write_text(
        CONVERTED_USER_C.replace("ring_slot(r, 5, &lock)", "ring_slot_rw(r, 5, &seen, &lock)")
        .replace("ret = clk_on(dev, &p);", "ret = clk_on_counted(dev, &p);")
        .replace("if (ret)\n", "if (ret < 0)\n")
    )
    git(repo, "commit", "-q", "-am", "lib: other: already() use ring_slot_rw()")
    h.write_text(
        h.read_text()
        .replace("struct slot *ring_slot(struct ring *r, int i, int *lockp);\n", "")
        .replace("int clk_on(int dev, int **out);\n", "")
    )
    git(repo, "commit", "-q", "-am", "lib: ring: remove ring_slot() and clk_on()")
    mbox = git(repo, "format-patch", "--stdout", "HEAD~3..HEAD")
    (tmp_path / "series.mbox").write_text(mbox)
    series = ingest(str(tmp_path / "series.mbox")).series
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # the step just before the removal patch
    return repo, series


def project_plan(tmp_path: Path) -> tuple[Path, Series, RewritePlan]:
    """The project at the step before removal, its series, and the rewrite plan."""
    from series_tool.rewrite import parse_rules

    repo, series = make_project(tmp_path)
    migration = Migration(
        old=["ring_slot", "clk_on"], new=["ring_slot_ro", "ring_slot_rw", "clk_on_counted"]
    )
    refs = remaining_calls(repo, migration.old)
    plan = plan_rewrite(series, migration, refs, reader(repo), parse_rules(RULES), AUTHOR, DATE)
    return repo, series, plan


def test_project_variants_and_reasons(tmp_path: Path) -> None:
    _, _, plan = project_plan(tmp_path)
    got = {(c.function, c.new) for c in plan.conversions}
    assert ("reader_one", "ring_slot_ro") in got
    assert ("writer_direct", "ring_slot_rw") in got
    assert ("writer_static", "ring_slot_rw") in got
    assert ("escaper", "ring_slot_rw") in got
    by_fn = {c.function: c for c in plan.conversions}
    assert "poke" in by_fn["writer_static"].reason
    assert "r->last" in by_fn["escaper"].reason
    assert any("generation" in r for r in by_fn["writer_direct"].needs_review)
    # clk_on -> clk_on_counted: same params, but the series changed `if (ret)` into
    # `if (ret < 0)`: the same change here; the returned result cannot be fixed that way.
    starters = [c for c in plan.conversions if c.function == "starter"]
    assert [c.new for c in starters] == ["clk_on_counted"]
    assert "`ret` becomes `ret < 0`" in starters[0].reason
    [(site, why)] = plan.review
    assert site.function == "starter" and "return clk_on(dev + 1, &p)" in why
    # declarations and definitions of the old symbols are not calls
    assert {r.kind for r, _ in plan.not_handled} <= {"declaration"}
    assert plan.to_dict()["conversions"][0].keys() == {
        "file",
        "function",
        "line",
        "old",
        "new",
        "reason",
        "needs_review",
        "unsure",
        "patch_file",
    }


def test_project_patches_apply_and_complete_the_series(tmp_path: Path) -> None:
    repo, _, plan = project_plan(tmp_path)
    removal = git(repo, "format-patch", "--stdout", "-1", "main@{1}")
    before = (repo / "lib" / "users.c").read_text()
    am(repo, [p.mail for p in plan.patches])
    after = (repo / "lib" / "users.c").read_text()
    assert errors(after) <= errors(before)
    assert "ring_slot(" not in after
    # the one site left for review is the only old call left
    assert after.count("clk_on(") == 1 and "return clk_on(dev + 1, &p);" in after
    # the writer variant's extra out-param became a local named as the series named it
    assert "\tint seen;\n" in after and "&seen, &lock" in after
    am(repo, [removal])
    assert [r.function for r in remaining_calls(repo, ["ring_slot", "clk_on"])] == ["starter"]


def test_patch_names_and_mail_headers(tmp_path: Path) -> None:
    _, _, plan = project_plan(tmp_path)
    first = plan.patches[0]
    assert first.filename.startswith("0001-lib-") and first.filename.endswith(".patch")
    lines = first.mail.splitlines()
    assert lines[0].startswith("From ") and lines[0].endswith(" Mon Sep 17 00:00:00 2001")
    assert len(lines[0].split()[1]) == 40
    assert f"From: {AUTHOR}" in lines and f"Date: {DATE}" in lines
    assert any(ln.startswith("Subject: [PATCH] lib: ") for ln in lines)
    assert "\n---\n" in first.mail and "\n-- \nseries-tool " in first.mail


def test_helpers() -> None:
    assert patch_filename(3, "mm: foo: bar() use baz()") == "0003-mm-foo-bar-use-baz.patch"
    stat = diffstat("a/b.c", "--- a/a/b.c\n+++ b/a/b.c\n@@ -1 +1,2 @@\n-x\n+y\n+z\n")
    assert stat == " a/b.c | 3 ++-\n 1 file changed, 2 insertions(+), 1 deletion(-)\n"
    # Lines whose text starts with "--" / "++" are hunk lines, not file headers.
    decrement = unified_diff("f.c", "a\n--i;\nb\n", "a\n++i;\nb\n")
    assert (
        diffstat("f.c", decrement)
        == " f.c | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n"
    )
    # A form feed inside a line is not a line break.
    fed = unified_diff("f.c", "a\fb\nc\n", "a\fb\nd\n")
    assert "\\ No newline" not in fed
    assert diffstat("f.c", fed) == " f.c | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n"


# --------------------------------------------------------------------------- the real v4


def series_choices(series: Series, new: list[str]) -> dict[tuple[str, str], list[str]]:
    """(file, function) -> the new symbols its '+' lines call, from the real patches 02-12."""
    from series_tool.rewrite import function_from_section

    out: dict[tuple[str, str], list[str]] = {}
    for patch in series.patches:
        if patch.number is None or not 2 <= patch.number <= 12:
            continue
        for fd in patch.files:
            for hunk in fd.hunks:
                fn = function_from_section(hunk.section) or ""
                for ln in hunk.lines:
                    for sym in new:
                        if ln.kind == "+" and f"{sym}(" in ln.text:
                            out.setdefault((fd.path, fn), []).append(sym)
    return out


@pytest.mark.kernel
def test_real_v4_missing_conversions(tmp_path: Path) -> None:
    if not PTE.is_file():
        pytest.skip(f"corpus not found at {PTE}")
    if not (KERNEL / ".git").exists():
        pytest.skip(f"kernel repo not found at {KERNEL}")
    series = ingest(str(PTE)).series
    keep = [p for p in series.patches if p.number in (1, 13)]
    old, new = "pte_offset_map_nolock", ["pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"]
    grep = subprocess.run(
        ["git", "-C", str(KERNEL), "grep", "-l", "-w", old], capture_output=True, text=True
    ).stdout.split()
    paths = sorted({*grep, *(fd.path for p in keep for fd in p.files)})
    repo = tmp_path / "linux"
    subprocess.run(
        ["git", "clone", "-q", "--shared", "--no-checkout", str(KERNEL), str(repo)], check=True
    )
    git(repo, "sparse-checkout", "set", "--no-cone", *paths)
    git(repo, "checkout", "-q", "HEAD")
    am(repo, [mail_of(keep[0])])
    refs = [r for r in remaining_calls(repo, [old]) if r.kind == "call"]
    assert len(refs) == 12
    migration = Migration(old=[old], new=new)
    plan = plan_rewrite(
        Series(4, series.title, 13, None, keep), migration, refs, reader(repo), None, AUTHOR, DATE
    )
    assert len(plan.conversions) == 12 and len(plan.patches) == 11
    assert all(c.reason for c in plan.conversions)
    before = {c.file: errors(reader(repo)(c.file) or "") for c in plan.conversions}
    am(repo, [p.mail for p in plan.patches])
    for path, count in before.items():
        assert errors(reader(repo)(path) or "") <= count, path
    am(repo, [mail_of(keep[1])])
    assert remaining_calls(repo, [old]) == []
    expected = series_choices(series, new)
    got: dict[tuple[str, str], list[str]] = {}
    for c in plan.conversions:
        got.setdefault((c.file, c.function), []).append(c.new)
    matches = sum(
        a == b for k, v in expected.items() for a, b in zip(v, got.get(k, []), strict=False)
    )
    assert sum(len(v) for v in expected.values()) == 12
    assert matches >= 11, (expected, got)


def mail_of(patch: Patch) -> str:
    """The raw message of one patch of the real v4 mbox, for git am."""
    raw = split_mbox(PTE.read_bytes())[patch.source_index]
    return "From mboxrd@z Thu Jan  1 00:00:00 1970\n" + raw.decode("utf-8", "surrogateescape")


@settings(deadline=None, max_examples=80)
@given(
    st.lists(st.sampled_from(["a", "b", "{", "}", "", "x = 1;"]), min_size=0, max_size=40),
    st.lists(
        st.tuples(st.integers(0, 45), st.integers(0, 3), st.sampled_from(["y", "", "b", "}"])),
        max_size=4,
    ),
)
def test_unified_diff_applies_back(lines: list[str], edits: list[tuple[int, int, str]]) -> None:
    """The diff of any edit (repeated lines included, near either end or in the middle)
    turns the old text into the new one, with exact hunk positions."""
    from series_tool.ingest import parse_diff
    from series_tool.replay import apply_file

    new_lines = list(lines)
    for at, cut, text in edits:
        at = min(at, len(new_lines))
        new_lines[at : at + cut] = [text]
    old, new = "".join(f"{t}\n" for t in lines), "".join(f"{t}\n" for t in new_lines)
    if old == new:
        return
    (fd,) = parse_diff(unified_diff("f.c", old, new), "f.c")
    result, hunks = apply_file(old, fd)
    assert result == new
    assert all(h.status == "clean" for h in hunks)

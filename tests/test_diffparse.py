"""diffparse: unidiff mapping, path rules, malformed-hunk diagnostics, net series diffstat."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from series_tool.errors import BadInput
from series_tool.ingest import parse_diff, parse_diff_partial, series_diffstat, unquote_c_path

GOOD = (
    "diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@ int main(void)\n a\n-b\n+c\n d\n"
)


def test_lines_numbers_and_section() -> None:
    (f,) = parse_diff(GOOD, "t")
    (h,) = f.hunks
    assert (f.path, f.source_path, f.target_path) == ("f.c", "f.c", "f.c")
    assert h.section == "int main(void)"
    assert [(ln.kind, ln.text, ln.source_line, ln.target_line) for ln in h.lines] == [
        (" ", "a", 1, 1),
        ("-", "b", 2, None),
        ("+", "c", None, 2),
        (" ", "d", 3, 3),
    ]


def test_short_hunk_names_hunk_file_and_counts() -> None:
    text = GOOD + "@@ -10,4 +10,4 @@\n x\n-y\n+z\n"
    with pytest.raises(BadInput) as exc:
        parse_diff(text, "p.mbox: patch 3")
    assert exc.value.where == "p.mbox: patch 3"
    # 4 old and 4 new lines need at least 5 body lines (3 shared context, 1 -, 1 +).
    assert exc.value.message == "hunk 2 of f.c: expected 5 lines, found 3"


def test_partial_keeps_files_before_the_bad_one() -> None:
    bad = "diff --git a/g.c b/g.c\n--- a/g.c\n+++ b/g.c\n@@ -1,5 +1,5 @@\n a\n-b\n+c\n"
    files, err = parse_diff_partial(GOOD + bad, "t")
    assert [f.path for f in files] == ["f.c"]
    assert err is not None and err.startswith("hunk 1 of g.c: expected ")


def test_mnemonic_prefixes_and_quoted_names() -> None:
    text = "diff --git i/foo/bar.py w/foo/bar.py\n--- i/foo/bar.py\n+++ w/foo/bar.py\n"
    (f,) = parse_diff(text + "@@ -1 +1 @@\n-a\n+b\n", "t")
    assert f.path == "foo/bar.py" and not f.is_rename
    assert unquote_c_path('"b/A \\303\\242 B.py"') == "b/A â B.py"
    assert unquote_c_path("plain") == "plain"


def test_net_diffstat_cancels_lines_a_later_patch_removes() -> None:
    p1 = parse_diff("--- a/f\n+++ b/f\n@@ -2,0 +3,2 @@\n+new1\n+new2\n", "1")
    p2 = parse_diff("--- a/f\n+++ b/f\n@@ -3,2 +3,1 @@\n-new1\n-new2\n+new3\n", "2")
    p3 = parse_diff("--- a/g\n+++ b/g\n@@ -1 +1 @@\n-x\n+y\n", "3")
    p4 = parse_diff("--- a/g\n+++ b/g\n@@ -1 +1 @@\n-y\n+x\n", "4")
    stat = series_diffstat([p1, p2, p3, p4])
    assert (stat.files, stat.insertions, stat.deletions) == (["f"], 1, 0)
    naive = sum(f.added for p in (p1, p2, p3, p4) for f in p)
    assert naive == 5


def test_net_diffstat_new_file_then_edit() -> None:
    p1 = parse_diff("--- /dev/null\n+++ b/n\n@@ -0,0 +1,3 @@\n+a\n+b\n+c\n", "1")
    p2 = parse_diff("--- a/n\n+++ b/n\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n", "2")
    assert p1[0].is_new and p1[0].source_path is None
    stat = series_diffstat([p1, p2])
    assert (stat.files, stat.insertions, stat.deletions) == (["n"], 3, 0)


def test_net_diffstat_hunk_beyond_a_created_file_does_not_raise() -> None:
    """Patch 1 creates a 1-line file, patch 2 edits 3 lines of it: reported, not raised."""
    p1 = parse_diff("--- /dev/null\n+++ b/foo.c\n@@ -0,0 +1 @@\n+a\n", "1")
    p2 = parse_diff("--- a/foo.c\n+++ b/foo.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n", "2")
    p3 = parse_diff("--- a/g\n+++ b/g\n@@ -1 +1 @@\n-x\n+y\n", "3")
    stat = series_diffstat([p1, p2, p3], ["patch 1", "patch 2", "patch 3"])
    assert stat.files == ["foo.c", "g"] and (stat.insertions, stat.deletions) == (1, 1)
    (problem,) = stat.problems
    assert problem.startswith("patch 2: hunk @@ -1,3 @@ of foo.c") and "end of the file" in problem
    assert series_diffstat([p1]).problems == []


def test_net_diffstat_rename_there_and_back_is_no_change() -> None:
    """Renamed and renamed back, created and deleted again: git's base..tip sees nothing."""
    there = parse_diff(
        "diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\n", "1"
    )
    back = parse_diff(
        "diff --git a/y b/x\nsimilarity index 100%\nrename from y\nrename to x\n", "2"
    )
    assert there[0].is_rename and there[0].path == "y"
    assert series_diffstat([there]).files == ["y"]
    assert series_diffstat([there, back]).files == []
    made = parse_diff("--- /dev/null\n+++ b/t\n@@ -0,0 +1 @@\n+a\n", "3")
    gone = parse_diff("--- a/t\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n", "4")
    stat = series_diffstat([made, gone])
    assert (stat.files, stat.insertions, stat.deletions) == ([], 0, 0)


def test_git_insertion_at_the_top_is_not_a_new_file(tmp_path: Path) -> None:
    """`git diff -U0` adding a first line: @@ -0,0 +1 @@ on an existing file."""
    import subprocess

    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "f.c").write_text("int a;\n")
    subprocess.run(["git", "add", "f.c"], cwd=repo, check=True)
    (repo / "f.c").write_text("int z;\nint a;\n")
    diff = subprocess.run(
        ["git", "diff", "-U0"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    assert "@@ -0,0 +1 @@" in diff
    [fd] = parse_diff(diff, "t")
    assert not fd.is_new and fd.source_path == "f.c"
    (repo / "f.c").write_text("")
    [emptied] = parse_diff(
        subprocess.run(
            ["git", "diff"], cwd=repo, check=True, capture_output=True, text=True
        ).stdout,
        "t",
    )
    assert not emptied.is_deleted and emptied.target_path == "f.c"


@given(
    st.lists(
        st.tuples(st.sampled_from(["d", "n", "o"]), st.just(0), st.sampled_from(["a", "b", "c"])),
        max_size=12,
    )
)
def test_net_counts_pair_lines_as_a_diff_does(items: list[tuple[str, int, str]]) -> None:
    """The counts of deleted and added lines between unchanged ones are difflib's (also
    where one line at most is on each side, counted without the matcher)."""
    import difflib

    from series_tool.ingest.diffparse import _net_counts

    ins = dels = 0
    runs: list[tuple[list[str], list[str]]] = [([], [])]
    for kind, _, text in items:
        if kind == "o":
            runs.append(([], []))
        else:
            runs[-1][0 if kind == "d" else 1].append(text)
    for before, after in runs:
        ops = difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes()
        dels += sum(a2 - a1 for tag, a1, a2, _, _ in ops if tag != "equal")
        ins += sum(b2 - b1 for tag, _, _, b1, b2 in ops if tag != "equal")
    assert _net_counts(items) == (ins, dels)

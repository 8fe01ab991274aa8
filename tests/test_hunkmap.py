"""map_hunk on real git diffs (tmp repos) and on the real pte-nolock series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import git

from series_tool.ingest import ingest, parse_diff
from series_tool.model import (
    CSource,
    body_opener,
    defined_on_changed_lines,
    map_hunk,
    map_patch_without_tree,
)
from series_tool.models import FileDiff

BEFORE = """\
/*
 * A long comment whose words look like code:
 * old_lock(mm, pmd) is like helper_one(x)
 * and more text here
 * and more text here
 * and more text here
 */
int old_lock(struct mm *mm, int pmd);

static int helper_one(struct mm *mm,
		unsigned long addr)
{
	int a = 0;

	if (a) {
		a = 2;
	}
	pte = old_lock(mm, addr);
	return a;
}

static int helper_two(void)
{
	return old_lock(NULL, 0);
}
"""

AFTER = (
    BEFORE.replace(" * old_lock(mm, pmd) is like helper_one(x)\n", " * gone\n")
    .replace("int old_lock(struct mm *mm, int pmd);\n", "int new_lock(struct mm *mm, int pmd);\n")
    .replace("\tpte = old_lock(mm, addr);", "\tpte = new_lock(mm, addr);")
    .replace("\treturn old_lock(NULL, 0);", "\treturn new_lock(NULL, 0);")
)


def diff_of(tmp_path: Path, make_repo: Callable[..., Path], before: str, after: str) -> FileDiff:
    """The FileDiff git itself produces for before -> after (default 3 lines of context)."""
    repo = make_repo(tmp_path, {"mm/x.c": before})
    (repo / "mm/x.c").write_text(after)
    files = parse_diff(git(repo, "diff"), "test")
    assert len(files) == 1
    return files[0]


def test_fragment_mapping_matches_full_file_mapping(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    fd = diff_of(tmp_path, make_repo, BEFORE, AFTER)
    symbols = {"old_lock", "new_lock"}
    pre, post = CSource.from_text(BEFORE), CSource.from_text(AFTER)
    frag = [map_hunk(1, fd.path, i, h, symbols) for i, h in enumerate(fd.hunks)]
    full = [map_hunk(1, fd.path, i, h, symbols, pre, post) for i, h in enumerate(fd.hunks)]
    for a, b in zip(frag, full, strict=True):
        assert a.functions == b.functions
        assert a.removed_calls == b.removed_calls
        assert a.added_calls == b.added_calls
        assert a.defined_removed == b.defined_removed
        assert a.defined_added == b.defined_added
    removed = [c for m in full for c in m.removed_calls]
    added = [c for m in full for c in m.added_calls]
    assert [(c.symbol, c.line, c.function) for c in removed] == [
        ("old_lock", 18, "helper_one"),
        ("old_lock", 24, "helper_two"),
    ]
    assert [(c.symbol, c.side, c.function) for c in added] == [
        ("new_lock", "+", "helper_one"),
        ("new_lock", "+", "helper_two"),
    ]
    assert [m.defined_removed for m in full if m.defined_removed] == [["old_lock"]]
    assert [m.defined_added for m in full if m.defined_added] == [["new_lock"]]


def test_hunk_starting_inside_a_comment_defines_nothing(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    after = BEFORE.replace(
        " * and more text here\n *", " * and more text here\n *\n * extra\n *", 1
    )
    fd = diff_of(tmp_path, make_repo, BEFORE, after)
    (hm,) = [map_hunk(1, fd.path, i, h, {"old_lock"}) for i, h in enumerate(fd.hunks)]
    assert hm.defined_added == [] and hm.defined_removed == []
    assert hm.added_calls == [] and hm.removed_calls == []


def test_hunk_inside_function_uses_git_hint(tmp_path: Path, make_repo: Callable[..., Path]) -> None:
    # Start the hunk after an inner block closes: the fragment has an unmatched '}'.
    after = BEFORE.replace("\tpte = old_lock(mm, addr);", "\tpte = new_lock(mm, addr);")
    fd = diff_of(tmp_path, make_repo, BEFORE, after)
    (hunk,) = fd.hunks
    assert "helper_one" in hunk.section
    hm = map_hunk(3, fd.path, 0, hunk, {"old_lock", "new_lock"})
    assert hm.functions == ["helper_one"]
    assert [c.function for c in hm.removed_calls + hm.added_calls] == ["helper_one"] * 2


def test_real_v4_patch05_and_conversions(corpus: Path) -> None:
    series = ingest(str(corpus / "pte-nolock" / "v4.mbox")).series
    old, ro, rw = "pte_offset_map_nolock", "pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"
    symbols = {old, ro, rw}
    p5 = series.patch(5)
    assert p5 is not None
    maps5 = map_patch_without_tree(p5, symbols)
    conv5 = [m for m in maps5 if m.removed_calls and m.added_calls]
    assert len(conv5) == 1
    assert conv5[0].file == "arch/arm/mm/fault-armv.c"
    assert [c.function for c in conv5[0].removed_calls if c.symbol == old] == ["adjust_pte"]
    assert [(c.symbol, c.function) for c in conv5[0].added_calls] == [(rw, "adjust_pte")]

    conversions = []
    for n in range(2, 13):
        patch = series.patch(n)
        assert patch is not None
        for m in map_patch_without_tree(patch, symbols):
            for r in m.removed_calls:
                if r.symbol == old:
                    conversions.append((m.file, r.function))
                    assert any(a.symbol in (ro, rw) for a in m.added_calls)
    assert len(conversions) == 12
    assert all(fn for _, fn in conversions)
    assert len(set(conversions)) == 11


def test_real_v4_removal_patch_ignores_comment_words(corpus: Path) -> None:
    series = ingest(str(corpus / "pte-nolock" / "v4.mbox")).series
    p13 = series.patch(13)
    assert p13 is not None
    removed = {n for m in map_patch_without_tree(p13, ()) for n in m.defined_removed}
    assert removed == {"pte_offset_map_nolock"}


def test_defined_on_changed_lines_agrees_with_map_hunk(corpus: Path) -> None:
    """The cheap pre-grep pass finds exactly the definitions map_hunk finds, on real hunks."""
    from series_tool.ingest import ingest
    from series_tool.model import defined_on_changed_lines

    checked = 0
    for mbox in [
        *sorted((corpus / "pte-nolock").glob("*.mbox")),
        corpus / "clk-bulk-get-all-enabled" / "v4.mbox",
    ]:
        for p in ingest(str(mbox)).series.patches:
            for fd in p.files:
                if not fd.path.endswith((".c", ".h")):
                    continue
                for i, h in enumerate(fd.hunks):
                    full = map_hunk(p.number, fd.path, i, h, ())
                    removed, added = defined_on_changed_lines(h)
                    assert set(removed) == set(full.defined_removed), (mbox.name, p.number, i)
                    assert set(added) == set(full.defined_added), (mbox.name, p.number, i)
                    checked += 1
    assert checked > 100


LONG_BODIES = (
    "struct ops {\n"
    + "".join(f"\tint m{i};\n" for i in range(8))
    + "\tint legacy;\n"
    + "".join(f"\tint n{i};\n" for i in range(8))
    + "};\n\nenum state {\n"
    + "".join(f"\tS_{i},\n" for i in range(8))
    + "\tS_OLD,\n"
    + "".join(f"\tT_{i},\n" for i in range(8))
    + "};\n"
)


def test_hunk_deep_inside_a_struct_or_enum_uses_git_hint(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    # Neither hunk shows its `struct ops {` / `enum state {` line: git's hint names it.
    after = LONG_BODIES.replace("\tint legacy;\n", "").replace("\tS_OLD,\n", "")
    fd = diff_of(tmp_path, make_repo, LONG_BODIES, after)
    assert [h.section for h in fd.hunks] == ["struct ops {", "enum state {"]
    maps = [map_hunk(1, fd.path, i, h, set()) for i, h in enumerate(fd.hunks)]
    assert [m.defined_removed for m in maps] == [["legacy"], ["S_OLD"]]
    assert [m.roles for m in maps] == [{"legacy": {"member"}}, {"S_OLD": {"enumerator"}}]
    assert [defined_on_changed_lines(h) for h in fd.hunks] == [(["legacy"], []), (["S_OLD"], [])]


def test_body_opener_only_for_struct_union_enum_hints() -> None:
    assert body_opener("struct ops {") == "struct ops {"
    assert body_opener("union u {  /* comment */") == "union u {"
    assert body_opener("enum state {") == "enum state {"
    for other in ("int probe(struct ops *o)", "static const struct ops x = {", "", "#define X"):
        assert body_opener(other) is None


def test_changed_lines_view_answers_like_the_whole_side(corpus: Path) -> None:
    """What a hunk side defines on its changed lines, asked of the view of those lines
    (`lines_view`, what the analysis asks), is what the whole side's parse says: every
    hunk of the real series of the corpus."""
    from series_tool.model.hunkmap import changed_sides

    sides = 0
    for mbox in ("pte-nolock/v2.mbox", "pte-nolock/v4.mbox", "clk-bulk-get-all-enabled/v4.mbox"):
        for patch in ingest(str(corpus / mbox)).series.patches:
            for fd in patch.files:
                for hunk in fd.hunks if fd.path.endswith((".c", ".h")) else []:
                    for _, src, changed in changed_sides(hunk):
                        on = changed.__contains__
                        view = src.lines_view(changed)
                        assert view.definitions(on) == src.definitions(on)
                        assert view.roles(on) == src.roles(on)
                        assert src.lines_view(changed) is view  # made once
                        assert view.window == ((min(changed) - 1, 0), (max(changed), 0))
                        sides += 1
    assert sides > 100

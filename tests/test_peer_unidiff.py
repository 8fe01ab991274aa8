"""python-unidiff's sample diffs give the facts its EXPECTED.md states (through parse_diff)."""

from __future__ import annotations

import pytest
from kernel import CORPUS

from series_tool.errors import BadInput
from series_tool.ingest import parse_diff, parse_diff_partial
from series_tool.models import FileDiff

SAMPLES = CORPUS / "peer" / "python-unidiff" / "samples"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/corpus is absent")


def _parse(name: str) -> list[FileDiff]:
    # newline="" keeps CRs in content lines (sample5) as unidiff's own tests do.
    with open(SAMPLES / name, encoding="utf-8", newline="") as fh:
        return parse_diff(fh.read(), name)


def test_sample0_counts_positions_and_line_numbers() -> None:
    files = _parse("sample0.diff")
    assert len(files) == 3
    f1, f2, f3 = files
    assert not f1.is_new and not f1.is_deleted and not f1.is_binary and not f1.is_rename
    assert [(h.added, h.removed) for h in f1.hunks] == [(6, 0), (2, 8), (4, 0)]
    assert [h.section for h in f1.hunks] == ["Section Header", "", ""]
    assert (f1.added, f1.removed) == (12, 8)
    assert f2.is_new and f3.is_deleted
    assert sum(f.added for f in files) == 21 and sum(f.removed for f in files) == 17
    positions = [
        (h.source_start, h.target_start, h.source_length, h.target_length)
        for f in files
        for h in f.hunks
    ]
    assert positions == [(1, 1, 3, 9), (5, 11, 16, 10), (22, 22, 3, 7), (0, 1, 0, 9), (1, 0, 9, 0)]
    n = None
    target = [[ln.target_line for ln in h.lines] for h in f1.hunks]
    assert target[0] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert target[1] == [11, 12, 13, n, n, n, n, n, n, n, 14, 15, 16, n, 17, 18, 19, 20]
    source = [[ln.source_line for ln in h.lines] for h in f1.hunks]
    assert source[1] == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, n, 15, 16, 17, n, 18, 19, 20]
    assert source[2] == [22, 23, 24, n, n, n, n]


@pytest.mark.parametrize("name", ["sample1.diff", "sample6.diff", "sample2.diff"])
def test_malformed_samples_raise_badinput_naming_the_hunk(name: str) -> None:
    with pytest.raises(BadInput) as exc:
        _parse(name)
    assert exc.value.message.startswith("hunk ")
    assert " of " in exc.value.message


def test_sample2_truncated_keeps_the_first_file() -> None:
    text = (SAMPLES / "sample2.diff").read_text(encoding="utf-8")
    files, err = parse_diff_partial(text, "sample2")
    assert err is not None and len(files) == 1


def test_sample3_utf8_and_no_newline_markers() -> None:
    files = _parse("sample3.diff")
    assert len(files) == 3
    added = next(f for f in files if f.is_new)
    # EXPECTED.md counts hunk lines from 0, as upstream's test indexes them.
    assert added.hunks[0].lines[1].text == "holá mundo!"
    assert added.hunks[0].lines[4].kind == "\\"
    assert added.hunks[0].lines[4].text == " No newline at end of file"
    modified = next(f for f in files if f.path == "modified_file")
    assert modified.hunks[0].lines[8].kind == "\\"


def test_sample5_preserves_crlf_content() -> None:
    f1, f2 = _parse("sample5.diff")
    assert f1.hunks[0].lines[6].text == "\r" and f1.hunks[0].lines[6].kind == " "
    assert f2.hunks[0].lines[6].text == "" and f2.hunks[0].lines[6].kind == " "


def test_sample8_binary_and_empty_files() -> None:
    files = _parse("sample8.diff")
    kinds = [(f.is_new, f.is_deleted, f.is_binary) for f in files]
    assert kinds == [
        (True, False, False),
        (True, False, True),
        (False, False, True),
        (False, True, True),
        (True, False, False),
    ]


def test_binary_mail() -> None:
    (f,) = _parse("binary.diff")
    assert f.is_binary and f.is_new and f.source_path is None and f.path == "1x1.png"


@pytest.mark.parametrize("name", ["git.diff", "bzr.diff", "svn.diff"])
def test_vcs_flavours(name: str) -> None:
    files = _parse(name)
    assert len(files) == 3
    (added,) = [f for f in files if f.is_new]
    (removed,) = [f for f in files if f.is_deleted]
    (modified,) = [f for f in files if not f.is_new and not f.is_deleted]
    assert (added.path, len(added.hunks), added.added, added.removed) == ("added_file", 1, 4, 0)
    assert (removed.path, len(removed.hunks), removed.added, removed.removed) == (
        "removed_file",
        1,
        0,
        3,
    )
    assert (modified.path, modified.added, modified.removed) == ("modified_file", 3, 1)


def test_git_rename() -> None:
    files = _parse("git_rename.diff")
    assert all(f.is_rename for f in files)
    assert [(f.added, f.removed) for f in files] == [(1, 1), (1, 1), (0, 0)]
    third = files[2]
    assert (third.source_path, third.target_path, third.path) == (
        "sub/onefile",
        "sub/otherfile",
        "sub/otherfile",
    )


def test_git_delete_no_prefix_spaces_quoted() -> None:
    (d,) = _parse("git_delete.diff")
    assert d.is_deleted and d.source_path == "somefile.c" and d.target_path is None
    f1, f2, f3 = _parse("git_no_prefix.diff")
    assert (f1.path, f1.is_deleted, f2.path, f3.path, f3.is_new) == (
        "file1",
        True,
        "file2",
        "file3",
        True,
    )
    assert len(f2.hunks) == 2
    (s,) = _parse("git_filenames_with_spaces.diff")
    assert s.path == "has spaces/t.sql" and s.is_new
    (q,) = _parse("git_quoted_filename.diff")
    assert q.path == "A â B.py" and q.is_new  # git C-quoting undone (octal UTF-8 bytes)

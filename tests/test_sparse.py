"""Series-only mode: sparse file images replayed from hunks alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.ingest import parse_diff
from series_tool.replay import SparseFile, apply_sparse, learn_base


def _diff(tmp: Path, before: list[str], after: list[str], context: int = 3) -> str:
    a, b = tmp / "a.txt", tmp / "b.txt"
    a.write_text("".join(x + "\n" for x in before))
    b.write_text("".join(x + "\n" for x in after))
    res = subprocess.run(
        ["git", "diff", "--no-index", f"-U{context}", str(a), str(b)],
        capture_output=True,
        text=True,
    )
    return res.stdout.replace(str(a), "/f").replace(str(b), "/f")


def test_runs_group_consecutive_lines() -> None:
    sf = SparseFile(lines={1: "a", 2: "b", 5: "e"})
    assert sf.runs() == [(1, ["a", "b"]), (5, ["e"])]


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(st.sampled_from(["x", "y", "z", "w", "v"]), min_size=1, max_size=30),
    edits=st.lists(
        st.tuples(st.integers(0, 29), st.sampled_from(["del", "ins", "rep"])), max_size=5
    ),
)
def test_every_known_line_matches_the_real_file(tmp_path_factory, before, edits) -> None:  # type: ignore[no-untyped-def]
    """Whatever the hunks reveal, each known line of the sparse image equals the real file."""
    after = list(before)
    for pos, op in edits:
        i = pos % (len(after) + 1)
        if op == "ins" or not after:
            after.insert(i, "new")
        elif op == "del":
            after.pop(min(i, len(after) - 1))
        else:
            after[min(i, len(after) - 1)] = "rep"
    if after == before or not after:
        return  # nothing to diff, or git reports a deletion (covered elsewhere)
    tmp = tmp_path_factory.mktemp("sp")
    files = parse_diff(_diff(tmp, before, after, context=1), "t")
    assert len(files) == 1
    fd = files[0]
    funcs = [None] * len(fd.hunks)
    base = learn_base(None, fd, funcs)
    for ln, text in base.lines.items():
        assert before[ln - 1] == text
    image = apply_sparse(base, fd, funcs)
    assert image is not None
    for ln, text in image.lines.items():
        assert after[ln - 1] == text

"""Pathological C is bounded: a file over the per-file parse limits is not parsed, its
references are found by text only (counted as code), and the report says so (issue 10,
item 9). Timings are measured in benchmarks/bench_limits.py, not here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from examples_repo import ring_repo
from hostile import new_file, write
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_snapshot import run_main

from series_tool.model import (
    MAX_LINE_BYTES,
    MAX_PARSE_BYTES,
    CSource,
    find_references,
    parse_limit,
)


def test_limits_leave_every_kernel_sized_file_parsed() -> None:
    ordinary = b"int f(void)\n{\n\treturn g(1);\n}\n" * 1000
    assert parse_limit(ordinary) is None
    assert "too large" in (parse_limit(b"x" * (MAX_PARSE_BYTES + 1)) or "")
    assert "line over" in (parse_limit(b"int a = (" + b"(" * MAX_LINE_BYTES + b";\n") or "")


@given(
    st.lists(
        st.integers(min_value=MAX_LINE_BYTES - 3, max_value=MAX_LINE_BYTES + 2)
        | st.integers(min_value=0, max_value=40),
        max_size=8,
    ),
    st.booleans(),
)
@settings(deadline=None, max_examples=60)  # the regex it is compared with is the slow part
def test_a_long_line_is_found_wherever_it_is(lengths: list[int], final_newline: bool) -> None:
    """The line-length limit says what a search for MAX_LINE_BYTES + 1 bytes without a
    newline says, for lines of every length around the limit, anywhere in the file."""
    source = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_newline else b"")
    long_line = re.search(rb"[^\n]{%d}" % (MAX_LINE_BYTES + 1), source) is not None
    assert (parse_limit(source) is not None) == long_line


@pytest.mark.parametrize(
    "text",
    [
        "int f(void) { return old_api(" + "(" * 100_000 + "1" + ")" * 100_000 + "); }\n",
        "int f(void) { old_api(0); }\n" + "int pad[] = {" + "1," * (MAX_PARSE_BYTES // 2) + "};\n",
    ],
    ids=["100k nested parentheses", "over the size limit"],
)
def test_an_unparsed_file_still_shows_every_reference_as_code(text: str) -> None:
    src = CSource.from_text(text)
    assert src.unparsed is not None and "references found by text only" in src.unparsed
    refs = find_references("drivers/x.c", text, ["old_api"], source=src)
    assert [(r.line, r.kind, r.function) for r in refs] == [(1, "other", None)]


def test_verify_names_the_unparsed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    body = "int evil(void) { return ring_slot(" + "(" * 20_000 + "0" + ")" * 20_000 + ", 0, 0); }\n"
    mbox = write(tmp_path, 2, new_file("src/evil.c", body))
    code = run_main(["verify", str(mbox), "--repo", str(repo), "--format", "json"])
    rep = json.loads(capsys.readouterr().out)
    assert code == 1
    notes = [f for f in rep["findings"] if f["code"] == "not-parsed"]
    assert [f["file"] for f in notes] == ["src/evil.c"]
    assert "references found by text only" in notes[0]["message"]
    # The call the file makes is not lost: it remains when ring_slot() is removed.
    assert ("src/evil.c", "other") in {(r["file"], r["kind"]) for r in rep["remaining"]}

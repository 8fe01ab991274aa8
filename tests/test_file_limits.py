"""A file diff over the per-file limit (issue 10, item 9): its hunks stay raw text, it is
replayed from that text, references in it are found by text only, and the report names
the patch and the file. The limit is set small here (SERIES_TOOL_MAX_FILE_DIFF_BYTES, or
the `limit` argument) so that no test needs a 200 MB file; the timings are measured in
benchmarks/bench_limits.py."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from examples_repo import ring_repo
from hostile import new_file, with_diff, write
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_snapshot import run_main

from series_tool.ingest import (
    FILE_DIFF_LIMIT_ENV,
    is_from_line,
    mail,
    parse_diff_partial,
    split_mbox,
)
from series_tool.models import FileDiff, Hunk
from series_tool.render import to_json, write_json
from series_tool.replay import apply_file

CALLER = "int evil(void)\n{\n" + "\tx = y + z;\n" * 200 + "\treturn ring_slot(0, 0, 0);\n}\n"


def _verify(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, dict]:
    repo = ring_repo(tmp_path)
    mbox = write(tmp_path, 2, new_file("src/evil.c", text))
    code = run_main(["verify", str(mbox), "--repo", str(repo), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_a_caller_in_an_oversized_added_file_fails_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FILE_DIFF_LIMIT_ENV, "2000")  # the other files' diffs are smaller
    code, rep = _verify(tmp_path, capsys, CALLER)
    notes = [f for f in rep["findings"] if f["code"] == "not-parsed"]
    assert [(f["patch"], f["file"]) for f in notes] == [(2, "src/evil.c")]
    assert "file too large to parse" in notes[0]["message"]
    assert "limit 2000 bytes" in notes[0]["message"]
    # Not an OK that ignores the caller: it remains when ring_slot() is removed.
    assert code == 1
    errors = [f for f in rep["findings"] if f["code"] == "old-symbol-still-used"]
    assert [(f["file"], f["line"]) for f in errors] == [("src/evil.c", 203)]
    assert ("src/evil.c", 203) in {(r["file"], r["line"]) for r in rep["remaining"]}


def test_an_oversized_file_without_a_caller_stays_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FILE_DIFF_LIMIT_ENV, "2000")
    code, rep = _verify(tmp_path, capsys, CALLER.replace("ring_slot", "ring_slot_ro"))
    assert code == 0
    assert [f["file"] for f in rep["findings"] if f["code"] == "not-parsed"] == ["src/evil.c"]


# --------------------------------------------------------------------------- the raw reading

_line = st.text(alphabet="ab -+\\@", max_size=6)
_hunk_lines = st.lists(
    st.tuples(st.sampled_from([" ", "-", "+", ""]), _line), min_size=1, max_size=12
)


def _hunk(lines: list[tuple[str, str]], start: int, no_eol: bool) -> str:
    src = sum(1 for k, _ in lines if k in (" ", "-", ""))
    tgt = sum(1 for k, _ in lines if k in (" ", "+", ""))
    body = "".join((f"{k}{t}" if k else "") + "\n" for k, t in lines)
    if no_eol and lines[-1][0]:
        body += "\\ No newline at end of file\n"
    return f"@@ -{start},{src} +{start},{tgt} @@ f()\n{body}"


@given(
    st.lists(st.tuples(_hunk_lines, st.booleans()), min_size=1, max_size=3),
    st.sampled_from(["", "\n", "\n\n"]),
    st.integers(min_value=-2, max_value=2),
)
@settings(deadline=None, max_examples=200)
def test_raw_reading_agrees_with_unidiff(
    hunks: list[tuple[list[tuple[str, str]], bool]], tail: str, skew: int
) -> None:
    """Every hunk header, count and line (numbered) read from the raw text is what unidiff
    reads, and a diff is rejected by one exactly when it is by the other; `skew` makes
    the last hunk's header claim more or fewer lines than it has."""
    diff = "diff --git a/f.c b/f.c\nindex 1..2 100644\n--- a/f.c\n+++ b/f.c\n"
    start = 1
    for i, (lines, no_eol) in enumerate(hunks):
        text = _hunk(lines, start, no_eol and i == len(hunks) - 1)
        if i == len(hunks) - 1 and skew:
            head, _, body = text.partition("\n")
            count = int(head.split(",")[1].split()[0])
            text = head.replace(f",{count} ", f",{max(count + skew, 0)} ", 1) + "\n" + body
        diff += text
        start += len(lines) + 5
    diff += tail
    whole, whole_error = parse_diff_partial(diff, "t", limit=10**9)
    raw, raw_error = parse_diff_partial(diff, "t", limit=1)
    if whole_error is None and len(whole) != 1:
        # Text after the last hunk that unidiff reads as another file's header: refused.
        assert raw_error is not None
        return
    assert (whole_error is None) == (raw_error is None)
    if whole_error is not None:
        return
    ((w,), (r,)) = (whole, raw)
    assert w.unparsed is None and r.unparsed is not None
    assert (r.path, r.is_new, r.is_deleted, r.added, r.removed) == (
        w.path,
        w.is_new,
        w.is_deleted,
        w.added,
        w.removed,
    )
    assert [
        (h.source_start, h.source_length, h.target_start, h.target_length) for h in r.hunks
    ] == [(h.source_start, h.source_length, h.target_start, h.target_length) for h in w.hunks]
    assert [h.all_lines() for h in r.hunks] == [h.lines for h in w.hunks]
    assert all(not h.lines for h in r.hunks)


def test_ordinary_files_around_an_oversized_one_are_read_as_usual() -> None:
    small = (
        "diff --git a/a.c b/a.c\nindex 1..2 100644\n--- a/a.c\n+++ b/a.c\n"
        "@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n"
    )
    big = new_file("big.c", "int x;\n" * 100)
    files, error = parse_diff_partial(small + big + small.replace("a.c", "b.c"), "t", limit=400)
    assert error is None
    assert [(f.path, f.unparsed is not None, f.added) for f in files] == [
        ("a.c", False, 1),
        ("big.c", True, 100),
        ("b.c", False, 1),
    ]
    assert [ln.text for ln in files[0].hunks[0].lines] == ["a", "b", "c", "d"]


def test_a_short_oversized_hunk_is_a_finding_not_a_crash() -> None:
    big = new_file("big.c", "int x;\n" * 100).replace("+1,100 @@", "+1,120 @@")
    files, error = parse_diff_partial(big, "t", limit=400)
    assert files == []
    assert error == "hunk 1 of big.c: expected 0 old and 120 new lines, found 0 and 100"


@pytest.mark.parametrize(
    "text", ["int x;\n" * 50, "int x;\n" * 49 + "int y;", "\n\nint x;\n\n"], ids=str.__len__
)
def test_raw_creation_and_deletion_replay_as_the_lines_do(text: str) -> None:
    created = new_file("big.c", text)
    lines = text.splitlines()
    body = "".join(f"-{ln}\n" for ln in lines)
    if not text.endswith("\n"):
        body += "\\ No newline at end of file\n"
    deleted = (
        "diff --git a/big.c b/big.c\ndeleted file mode 100644\nindex 1111111..0000000\n"
        f"--- a/big.c\n+++ /dev/null\n@@ -1,{len(lines)} +0,0 @@\n{body}"
    )
    for diff, before, after in ((created, None, text), (deleted, text, None)):
        ((whole,), _) = parse_diff_partial(diff, "t", limit=10**9)
        ((raw,), _) = parse_diff_partial(diff, "t", limit=10)
        assert raw.unparsed is not None
        assert apply_file(before, raw) == apply_file(before, whole)
        assert apply_file(before, raw)[0] == after


def test_a_raw_hunk_that_modifies_a_file_is_applied_from_its_lines() -> None:
    raw = FileDiff(
        "f.c",
        "f.c",
        "f.c",
        hunks=[Hunk(2, 3, 2, 3, body=" b\n-c\n+C\n d\n")],
        unparsed="over the limit",
    )
    assert apply_file("a\nb\nc\nd\ne\n", raw) == apply_file(
        "a\nb\nc\nd\ne\n",
        FileDiff("f.c", "f.c", "f.c", hunks=[Hunk(2, 3, 2, 3, lines=raw.hunks[0].all_lines())]),
    )
    assert apply_file("a\nb\nc\nd\ne\n", raw)[0] == "a\nb\nC\nd\ne\n"


# --------------------------------------------------------------------------- mbox splitting


def _split_by_lines(data: bytes) -> list[bytes]:
    """The mbox split as a list of lines reads it (what split_mbox did before it stopped
    making an object per line): the reference the regex-driven split must agree with."""
    lines = data.splitlines(keepends=True)
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines):
        return []
    first = lines[start]
    lax = (
        first.startswith(b"From ")
        and start + 1 < len(lines)
        and re.match(rb"^[!-9;-~]+:", lines[start + 1]) is not None
    )
    if not is_from_line(first) and not lax:
        return [b"".join(lines[start:])]
    out: list[bytes] = []
    current: list[bytes] | None = None
    for n, line in enumerate(lines[start:]):
        if line.startswith(b"From ") and (n == 0 or is_from_line(line)):
            if current is not None:
                out.append(b"".join(current))
            current = []
            continue
        assert current is not None
        current.append(line)
    if current is not None:
        out.append(b"".join(current))
    return out


_SEP = b"From abc@x Mon Sep 17 00:00:00 2001"
_mbox_piece = st.sampled_from(
    [_SEP, b"From ", b"From x", b"Subject: s", b"body", b"", b" ", b"\t", b">From a"]
)
_eol = st.sampled_from([b"\n", b"\r\n", b"\r"])


@given(st.lists(st.tuples(_mbox_piece, _eol), max_size=14), st.booleans())
@settings(deadline=None, max_examples=300)
def test_mbox_split_agrees_with_a_split_into_lines(
    lines: list[tuple[bytes, bytes]], final_eol: bool
) -> None:
    data = b"".join(t + e for t, e in lines)
    if not final_eol and lines:
        data = data[: -len(lines[-1][1])]
    assert split_mbox(data, mboxrd=False) == _split_by_lines(data)


# --------------------------------------------------------------------------- the diff of a mail

_body_line = st.sampled_from(
    [
        "diff --git a/x b/x",
        "--- a/x",
        "+++ b/x",
        "@@ -1 +1 @@",
        "-- ",
        "---",
        "base-commit: abcdef1",
        "base-commit: zz",
        "prerequisite-patch-id: 1234567",
        "From: A <a@b>",
        "Subject: s",
        "Index: x",
        "",
        "text",
        "+x",
        "-y",
        " z",
    ]
)


@given(st.lists(_body_line, max_size=14), st.booleans())
@settings(deadline=None, max_examples=400)
def test_the_diff_read_on_the_text_is_the_diff_read_by_lines(
    lines: list[str], final_newline: bool
) -> None:
    """A body's message, diff and base-commit/prerequisite lines, read on its text (no
    string per diff line), are what the line-list helpers read."""
    text = "\n".join(lines) + ("\n" if final_newline else "")
    every = text.split("\n")
    inbody, body_start = mail._inbody_headers(every)
    msg_lines, diff_lines, has_diff = mail._split_body(every[body_start:])
    base, prereqs, kept = mail._meta_lines(diff_lines)
    tail_start = body_start + len(msg_lines)
    start = mail.find_diff_start(every[body_start:])
    tail = every[tail_start : body_start + start] if start is not None else every[tail_start:]
    base2, prereqs2, _ = mail._meta_lines(tail)

    got_lines, at, index = mail._lines_to_diff(text)
    assert mail._inbody_headers(got_lines) == (inbody, body_start)
    got_msg, _, got_has_diff = mail._split_body(got_lines[body_start:])
    assert (got_msg, got_has_diff, at is not None) == (msg_lines, has_diff, has_diff)
    got_base, got_prereqs, got_diff = (
        mail._diff_and_meta(text, at) if at is not None else (None, [], "")
    )
    got_base2, got_prereqs2, _ = mail._meta_lines(got_lines[tail_start:index])
    assert got_diff == ("\n".join(kept) + "\n" if any(kept) else "")
    assert (got_base, got_prereqs) == (base, prereqs)
    assert (got_base2, got_prereqs2) == (base2, prereqs2)


@pytest.mark.parametrize("crlf", [False, True])
def test_a_big_plain_message_reads_as_the_email_package_reads_it(crlf: bool) -> None:
    """Over BIG_MESSAGE the body of a one-part message skips the email package's line
    by line read: the decoded mail is the same (with CRLF headers, the usual read)."""
    patch = with_diff(2, new_file("src/big.c", "int x_\u00e9;\n" * (mail.BIG_MESSAGE // 10)))
    data = split_mbox(patch)[2]
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    assert len(data) > mail.BIG_MESSAGE
    assert (mail._parse_big(data) is None) == crlf
    fast = mail.parse_mail(data, 0, "x")
    slow = mail._parse_mail(mail._PARSER.parsebytes(data), 0, "x")
    assert fast == slow
    assert fast.diff_text.count("\n+int x_\u00e9;") == mail.BIG_MESSAGE // 10


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(st.dictionaries(st.text(max_size=4), _json, max_size=5))
@settings(deadline=None, max_examples=100)
def test_a_streamed_json_report_is_the_json_text(data: dict) -> None:
    out = io.StringIO()
    write_json(data, out)  # written as encoded, piece by piece
    assert out.getvalue() == to_json(data)


def test_series_only_mode_still_sees_a_caller_in_an_oversized_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FILE_DIFF_LIMIT_ENV, "2000")
    mbox = write(tmp_path, 2, new_file("src/evil.c", CALLER))
    monkeypatch.chdir(tmp_path)  # no tree: the series' own lines are all there is
    code = run_main(["verify", str(mbox), "--format", "json"])
    rep = json.loads(capsys.readouterr().out)
    assert "series-only" in {f["code"] for f in rep["findings"]}
    assert code == 1
    errors = [f for f in rep["findings"] if f["code"] == "old-symbol-still-used"]
    assert [(f["file"], f["line"]) for f in errors] == [("src/evil.c", 203)]


def test_a_removal_inside_an_oversized_diff_is_not_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every diff over the limit, the removal of the old API is never read as C: the
    report must not say OK (nor "nothing to verify" with exit 0) but that it cannot decide,
    naming each patch whose oversized C diff removes lines."""
    monkeypatch.setenv(FILE_DIFF_LIMIT_ENV, "1")
    code, rep = _verify(tmp_path, capsys, "int unrelated;\n")
    undecided = [f for f in rep["findings"] if f["code"] == "not-decided"]
    assert code == 1 and not rep["ok"]
    assert undecided and all(f["severity"] == "error" for f in undecided)
    removing = {(f["patch"], f["file"]) for f in rep["findings"] if f["code"] == "not-parsed"}
    assert {(f["patch"], f["file"]) for f in undecided} <= removing
    assert all("is not decided" in f["message"] for f in undecided)

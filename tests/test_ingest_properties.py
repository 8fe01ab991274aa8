"""Property tests: arbitrary, truncated and mutated mail never raises anything but BadInput."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel import CORPUS

from series_tool.errors import BadInput
from series_tool.ingest import ingest, parse_diff_partial, parse_subject

_SAMPLES = [
    CORPUS / "pte-nolock" / "v4.mbox",
    CORPUS / "peer" / "git" / "t5100" / "sample.mbox",
    CORPUS / "peer" / "patchwork" / "mail" / "0019-multipart-patch.mbox",
    CORPUS / "peer" / "b4" / "samples" / "trailers-followup-with-cover.mbox",
]
_FALLBACK = (
    b"From x Mon Sep 17 00:00:00 2001\nFrom: A <a@x.org>\nSubject: [PATCH 1/2] s\n"
    b"Message-Id: <m@x>\nContent-Transfer-Encoding: base64\n\n"
    b"LS0tCmRpZmYgLS1naXQgYS9mIGIvZgotLS0gYS9mCisrKyBiL2YKQEAgLTEgKzEgQEAKLWEKK2IK\n"
)
REAL = [p.read_bytes()[:20000] for p in _SAMPLES if p.is_file()] or [_FALLBACK]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ingest_bytes(data: bytes) -> None:
    try:
        r = ingest("-", stdin=io.BytesIO(data))
    except BadInput as exc:
        assert exc.where and exc.message and "\n" not in exc.message
        return
    assert r.series.patches
    for p in r.series.patches:
        assert p.error is None or p.error.startswith(("hunk ", "malformed diff"))
    r.to_dict()


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    _ingest_bytes(data)


@SETTINGS
@given(st.sampled_from(REAL), st.floats(0, 1))
def test_truncated_real_mail(data: bytes, frac: float) -> None:
    _ingest_bytes(data[: int(len(data) * frac)])


@SETTINGS
@given(
    st.sampled_from(REAL),
    st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=8)), max_size=6),
)
def test_mutated_real_mail(data: bytes, edits: list[tuple[float, bytes]]) -> None:
    buf = bytearray(data)
    for where, junk in edits:
        i = int(len(buf) * where)
        buf[i : i + len(junk)] = junk
    _ingest_bytes(bytes(buf))


def _check_parsed(text: str) -> None:
    """parse_diff_partial never raises; what it returns is consistent with parse_diff."""
    from series_tool.ingest import parse_diff

    files, err = parse_diff_partial(text, "t")
    if err is not None:
        # One line, in the documented forms, and exactly what parse_diff raises.
        assert "\n" not in err and err.startswith(("hunk ", "malformed diff: "))
        try:
            parse_diff(text, "t")
        except BadInput as exc:
            assert exc.message == err and exc.where == "t"
        else:
            raise AssertionError("parse_diff accepted what parse_diff_partial rejected")
    for f in files:
        assert f.path == (f.target_path if f.target_path is not None else f.source_path or "")
        for h in f.hunks:
            # A parsed hunk has exactly the lines its header announces.
            assert sum(ln.kind in " -" for ln in h.lines) == h.source_length
            assert sum(ln.kind in " +" for ln in h.lines) == h.target_length


@SETTINGS
@given(st.text(max_size=300))
def test_diff_parser_never_raises(text: str) -> None:
    _check_parsed(text)


_DIFF_PIECES = st.sampled_from(
    [
        "diff --git a/f.c b/f.c\n",
        "--- a/f.c\n+++ b/f.c\n",
        "--- /dev/null\n+++ b/n.c\n",
        "--- a/d.c\n+++ /dev/null\n",
        "@@ -1,2 +1,2 @@\n",
        "@@ -1 +1 @@\n",
        "@@ -0,0 +1,2 @@\n",
        "@@ -3,3 +3,2 @@ int f(void)\n",
        " ctx\n",
        "-old\n",
        "+new\n",
        "\\ No newline at end of file\n",
        "\n",
    ]
)


@SETTINGS
@given(st.lists(_DIFF_PIECES, max_size=20))
def test_diff_parser_on_diff_like_text(pieces: list[str]) -> None:
    """Diff fragments in any order: hunks too short or too long, headers anywhere."""
    _check_parsed("".join(pieces))


@SETTINGS
@given(st.text(max_size=200))
def test_subject_parser_total(subject: str) -> None:
    info = parse_subject(subject)
    assert info.version >= 1
    assert (info.number is None) == (info.total is None)


def test_gzip_stdin_roundtrip(tmp_path: Path) -> None:
    """lore's t.mbox.gz on stdin reads exactly as the plain mbox file does."""
    import gzip

    plain = CORPUS / "pte-nolock" / "v4.mbox"
    if not plain.is_file():
        pytest.skip(f"corpus absent: {plain}")
    got = ingest("-", stdin=io.BytesIO(gzip.compress(plain.read_bytes())))
    want = ingest(str(plain))
    assert got.series.version == 4 and got.series.total == 13
    assert [p.number for p in got.series.patches] == list(range(1, 14))
    assert got.series.diffstat == (12, 159, 61)  # the cover letter's own diffstat
    got_dict, want_dict = got.to_dict(), want.to_dict()
    assert got.series.source == "<stdin>" and want.series.source == str(plain)
    assert got_dict == want_dict


# --------------------------------------------------------------------------- net diffstat

_LINES = st.lists(st.sampled_from(["a", "b", "c", "d", "{", "}", ""]), max_size=12)


def _unified(path: str, before: list[str] | None, after: list[str], context: int) -> str:
    """A unified diff of one file (``before`` None: a new file), as difflib writes it."""
    import difflib

    old = "/dev/null" if before is None else f"a/{path}"
    body = difflib.unified_diff(
        [ln + "\n" for ln in before or []],
        [ln + "\n" for ln in after],
        old,
        f"b/{path}",
        n=context,
    )
    return "".join(body)


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(["f.c", "g.h", "new.c"]), _LINES, min_size=1, max_size=3),
    st.lists(
        st.dictionaries(st.sampled_from(["f.c", "g.h", "new.c"]), _LINES, min_size=1),
        min_size=1,
        max_size=4,
    ),
    # Context 1..3: with -U0 an insertion at the top is "@@ -0,0 +1 @@", which unidiff
    # takes for a new file (the parser's call, not the composition's).
    st.integers(1, 3),
)
def test_series_diffstat_of_a_consistent_series(
    base: dict[str, list[str]], steps: list[dict[str, list[str]]], context: int
) -> None:
    """Patches cut against each other compose: no problem, and the net line delta is exact."""
    from series_tool.ingest import parse_diff, series_diffstat

    # "new.c" is absent at the base: the first patch touching it creates it.
    start = {k: v for k, v in base.items() if k != "new.c"}
    current: dict[str, list[str] | None] = {**start}
    patches = []
    for step in steps:
        text = ""
        for path, after in sorted(step.items()):
            before = current.get(path)
            if before == after or (before is None and not after):
                continue
            text += _unified(path, before, after, context)
            current[path] = after
        if text:
            patches.append(parse_diff(text, "p"))
    stat = series_diffstat(patches)
    assert stat.problems == []
    touched = {f.path for p in patches for f in p}
    assert set(stat.files) <= touched
    delta = sum(len(v or []) - len(start.get(k, [])) for k, v in current.items())
    assert stat.insertions - stat.deletions == delta
    for path, tip in current.items():
        if (tip or []) != start.get(path, []) and path in touched:
            assert path in stat.files


_HUNKS = st.lists(
    st.tuples(
        st.integers(0, 8),
        st.integers(0, 4),
        st.lists(st.tuples(st.sampled_from([" ", "-", "+"]), st.sampled_from("xyz")), max_size=6),
    ),
    max_size=3,
)


@SETTINGS
@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from(["f", "g"]), st.booleans(), _HUNKS), max_size=2),
        max_size=5,
    )
)
def test_series_diffstat_never_raises(
    series: list[list[tuple[str, bool, list[tuple[int, int, list[tuple[str, str]]]]]]],
) -> None:
    """Inconsistent hunks (a patch missing, a mangled header) are reported, never raised."""
    from series_tool.ingest import series_diffstat
    from series_tool.models import FileDiff, Hunk, HunkLine

    patches = []
    for files in series:
        fds = []
        for path, new, hunks in files:
            built = []
            for start, length, lines in hunks:
                body = [HunkLine(k, t) for k, t in lines]  # type: ignore[arg-type]
                added = sum(1 for k, _ in lines if k != "-")
                built.append(Hunk(start, length, start, added, lines=body))
            fds.append(FileDiff(path, None if new else path, path, is_new=new, hunks=built))
        patches.append(fds)
    stat = series_diffstat(patches)
    assert stat.insertions >= 0 and stat.deletions >= 0
    assert set(stat.files) <= {f.path for p in patches for f in p}

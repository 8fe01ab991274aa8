"""Property tests: arbitrary, truncated and mutated mail never raises anything but BadInput."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel import CORPUS

from series_tool.diffparse import parse_diff_partial
from series_tool.errors import BadInput
from series_tool.ingest import ingest
from series_tool.mail import parse_subject

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


@SETTINGS
@given(st.text(max_size=300))
def test_diff_parser_never_raises(text: str) -> None:
    files, err = parse_diff_partial(text, "t")
    assert err is None or err
    assert isinstance(files, list)


@SETTINGS
@given(st.text(max_size=200))
def test_subject_parser_total(subject: str) -> None:
    info = parse_subject(subject)
    assert info.version >= 1
    assert (info.number is None) == (info.total is None)


def test_gzip_stdin_roundtrip(tmp_path: Path) -> None:
    import gzip

    _ingest_bytes(gzip.compress(REAL[0]))

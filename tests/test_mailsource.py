"""mailsource: every SOURCE kind, git mailsplit separator rules, mboxrd, and bad input."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from kernel import CORPUS

from series_tool.errors import BadInput
from series_tool.mailsource import is_from_line, read_source, split_mbox

GIT = CORPUS / "peer" / "git" / "t5100"
needs_corpus = pytest.mark.skipif(not GIT.is_dir(), reason="../shared/corpus is absent")

MAIL = b"From: A <a@example.com>\nSubject: [PATCH] x\n\nbody\n"


@needs_corpus
def test_sample_mbox_has_18_messages_despite_leading_junk() -> None:
    data = (GIT / "sample.mbox").read_bytes()
    assert not data.splitlines()[0].strip()  # the fixture really starts with junk
    assert len(read_source(str(GIT / "sample.mbox"))) == 18


@needs_corpus
def test_mboxrd_has_two_messages_and_unescapes_one_level() -> None:
    msgs = read_source(str(GIT / "sample.mboxrd"))
    assert len(msgs) == 2
    body = msgs[0].data.split(b"\n\n", 1)[1]
    assert body.rstrip(b"\n") == (GIT / "0001mboxrd").read_bytes().rstrip(b"\n")
    body2 = msgs[1].data.split(b"\n\n", 1)[1]
    assert body2.rstrip(b"\n") == (GIT / "0002mboxrd").read_bytes().rstrip(b"\n")


@needs_corpus
def test_mboxo_keeps_quoted_from() -> None:
    (msg,) = read_source(str(GIT / "quoted-from.in"))
    assert b"\n>From the depths" in msg.data


def test_from_line_rules() -> None:
    assert is_from_line(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n")
    assert is_from_line(b"From 1a2b3c Mon Sep 17 00:00:00 2001\n")
    assert is_from_line(b"From bda@mnsspb.ru Wed Nov 12 17:54:41 2008\n")
    assert not is_from_line(b"From not mangled but this line should have been escaped\n")
    assert not is_from_line(b"From the beginning, mbox should have been mboxrd\n")


def test_mboxrd_detected_by_double_quoted_from() -> None:
    data = b"From x Mon Sep 17 00:00:00 2001\n" + MAIL + b">>From here\n>From there\n"
    (msg,) = split_mbox(data)
    assert b"\n>From here\nFrom there\n" in msg


def test_gzip_maildir_directory_and_stdin(tmp_path: Path) -> None:
    mbox = b"".join(b"From x Mon Sep 17 00:00:00 2001\n" + MAIL for _ in range(3))
    gz = tmp_path / "t.mbox.gz"
    gz.write_bytes(gzip.compress(mbox))
    assert len(read_source(str(gz))) == 3
    md = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "new" / "2.host").write_bytes(MAIL)
    (md / "cur" / "1.host:2,S").write_bytes(MAIL.replace(b"] x", b"] y"))
    got = read_source(str(md))
    assert [b"] y" in m.data for m in got] == [True, False]
    patches = tmp_path / "out"
    patches.mkdir()
    for n in (2, 1, 10):
        (patches / f"{n:04d}-p.patch").write_bytes(MAIL.replace(b"] x", f"] p{n}".encode()))
    got = read_source(str(patches))
    assert [m.data.split(b"] ")[1][:3] for m in got] == [b"p1\n", b"p2\n", b"p10"]
    assert len(read_source("-", io.BytesIO(mbox))) == 3


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty input"),
        (b"\n\n  \n", "empty input"),
        (b"just some text\nwithout headers\n", "no headers"),
        (b"From: A <a@example.com>\nSubject: [PATCH] cut", "truncated"),
        (b"\x1f\x8b\x08garbage", "gzip"),
    ],
)
def test_bad_input(tmp_path: Path, data: bytes, needle: str) -> None:
    f = tmp_path / "in.mbox"
    f.write_bytes(data)
    with pytest.raises(BadInput) as exc:
        read_source(str(f))
    assert needle in exc.value.message
    assert exc.value.where == str(f)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        read_source(str(tmp_path / "nope.mbox"))

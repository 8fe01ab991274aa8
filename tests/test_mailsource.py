"""mailsource: every SOURCE kind, git mailsplit separator rules, mboxrd, and bad input."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from kernel import CORPUS

from series_tool.errors import BadInput
from series_tool.ingest import is_from_line, read_source, split_mbox

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


def test_maildir_names_sort_by_delivery_time() -> None:
    """Seconds and M<usec> compare as numbers; P/Q fields break ties; odd names go last."""
    from series_tool.ingest import maildir_key

    delivered = [
        "999999999.M900000P10.host:2,S",
        "1000000000.M5P10.host",
        "1700000000.M99P1.host",
        "1700000000.M100P1.host:2,",
        "1700000001.M5P7Q9.host",
        "1700000001.M5P7Q10.host",
        "1700000002.12345.host",
        "1700000002.12345_2.host",
        "not-a-maildir-name",
    ]
    assert sorted(reversed(delivered), key=maildir_key) == delivered
    assert sorted(delivered) != delivered  # string order would get it wrong


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("999999999.M900000P10.host:2,S", "1000000000.M5P10.host"),
        ("1700000000.M99P1.host", "1700000000.M100P1.host:2,S"),
        ("1700000001.M5P7Q9.host", "1700000001.M5P7Q10.host"),
    ],
)
def test_maildir_keeps_the_patch_delivered_last(tmp_path: Path, first: str, last: str) -> None:
    """A patch delivered twice: the copy delivered first joins the thread, the later one is
    a resend (a series of its own, issue 12), whatever the names' text."""
    import os
    import subprocess

    from series_tool.ingest import ingest

    repo = tmp_path / "r"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com"}
    env |= {"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com"}

    def git(*args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, check=True
        ).stdout

    git("init", "-q")
    (repo / "f").write_text("".join(f"{i}\n" for i in range(10)))
    git("add", "f")
    git("commit", "-qm", "base")
    for n in (1, 2):
        (repo / "f").write_text((repo / "f").read_text().replace(f"{n * 3}\n", f"x{n}\n"))
        git("commit", "-qam", f"change {n}")
    out = tmp_path / "fp"
    git("format-patch", "-q", "--thread", "-o", str(out), "HEAD~2")
    one, two = sorted(out.iterdir())
    md = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "cur" / "1600000000.M1P1.host:2,S").write_bytes(one.read_bytes())
    resent = re.sub(rb"(?im)^(message-id: <)", rb"\1resend.", two.read_bytes())
    (md / "cur" / first).write_bytes(two.read_bytes())
    (md / "new" / last).write_bytes(resent)
    got = ingest(str(md))
    s = got.series
    assert s.duplicates == [] and [o.numbers for o in got.others] == [[2]]
    p2 = s.patch(2)
    assert p2 is not None and not p2.message_id.startswith("resend.")

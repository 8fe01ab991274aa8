"""Header decoding as `git mailinfo` does it (issue 12), checked against the real git:
RFC 2047 words next to parentheses, RFC 822 comments and quoted strings in From:, in-body
From:/Subject: after an escaped format-patch `>From ` line, dates as git prints them."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from series_tool.ingest import ingest, parse_mail

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIFF = "---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"


def mailinfo(raw: bytes, tmp: Path) -> dict[str, str]:
    """What `git mailinfo -u` prints for one message (Author, Email, Subject, Date)."""
    out = subprocess.run(
        ["git", "mailinfo", "-u", str(tmp / "msg"), str(tmp / "patch")],
        input=raw,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    info: dict[str, str] = {}
    for line in out.split("\n"):
        key, sep, value = line.partition(": ")
        if sep:
            info[key] = value
    return info


def q(text: str) -> str:
    """``text`` as one RFC 2047 Q-encoded word."""
    data = "".join(
        c if c.isascii() and c.isalnum() else "".join(f"={b:02X}" for b in c.encode()) for c in text
    )
    return f"=?UTF-8?q?{data}?="


def b(text: str) -> str:
    """``text`` as one RFC 2047 B-encoded word."""
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def _mail(from_: str, subject: str, date: str = "Mon, 1 Jan 2024 10:00:00 +0000") -> bytes:
    return (
        f"From: {from_}\nSubject: {subject}\nDate: {date}\nMessage-Id: <m@x>\n\nText.\n{DIFF}"
    ).encode()


@pytest.mark.parametrize(
    ("from_", "subject", "author", "title"),
    [
        (f"Foo ({q('Jörg')}) <f@x.org>", f"[PATCH] fix ({q('été')})x", "Foo (Jörg)", "fix (été)x"),
        (
            f"{q('Jö')}{q('rg')} Bar <f@x.org>",
            f"[PATCH] a {q('b')} {q('c')} d",
            "Jörg Bar",
            "a bc d",
        ),
        (
            '(this is \\(really\\) a "comment" (honestly)) "A U Thor" <somebody@example.com>',
            "[PATCH] testing comments",
            '(this is (really) a "comment" (honestly)) A U Thor',
            "testing comments",
        ),
        ("A (zzz) U Thor <a@x.org> (Comment)", "[PATCH] s", "A (zzz) U Thor (Comment)", "s"),
        ("<a@x.org> (A U Thor)", "[PATCH] s", "A U Thor", "s"),
        ('"Author \\"The Author\\" Name" <a@x.org>', "[PATCH] s", 'Author "The Author" Name', "s"),
    ],
)
def test_header_forms_as_git_mailinfo(
    tmp_path: Path, from_: str, subject: str, author: str, title: str
) -> None:
    raw = _mail(from_, subject)
    info = mailinfo(raw, tmp_path)
    m = parse_mail(raw)
    assert (m.author_name, m.info.subject) == (author, title)
    assert (info["Author"], info["Subject"]) == (author, title)  # git agrees


def test_dates_normalised_as_git_prints_them(tmp_path: Path) -> None:
    raw = _mail("A <a@x.org>", "[PATCH] s", "Fri,  9 Jun 2006\n   00:44:16 -0700  (PDT)")
    m = parse_mail(raw)
    assert m.date == mailinfo(raw, tmp_path)["Date"] == "Fri, 9 Jun 2006 00:44:16 -0700 (PDT)"
    assert m.timestamp == 1149839056.0


def test_inbody_headers_after_an_escaped_from_line(tmp_path: Path) -> None:
    body = (
        ">From 1234567890123456789012345678901234567890 Mon Sep 17 00:00:00 2001\n"
        f"From: In Body <ib@x.org>\nSubject: [PATCH] in-body subject\n\nThe message.\n{DIFF}"
    )
    raw = f"From: Sender <s@x.org>\nSubject: [PATCH] header subject\nMessage-Id: <m@x>\n\n{body}"
    info = mailinfo(raw.encode(), tmp_path)
    m = parse_mail(raw.encode())
    assert (m.author_name, m.author_email, m.info.subject) == (
        "In Body",
        "ib@x.org",
        "in-body subject",
    )
    assert (info["Author"], info["Email"], info["Subject"]) == (
        "In Body",
        "ib@x.org",
        "in-body subject",
    )
    assert m.commit_message == "The message."


def test_pull_request_beside_patches_is_a_note(tmp_path: Path) -> None:
    pull = (
        "From x Mon Sep 17 00:00:00 2001\nFrom: M <m@x.org>\nSubject: [GIT PULL] fixes\n"
        "Message-Id: <pull@x>\n\nHi,\n\n"
        "The following changes since commit 1234567890abcdef1234567890abcdef12345678:\n\n"
        "  Linux 6.12 (2024-11-17 14:15:08 -0800)\n\n"
        "are available in the Git repository at:\n\n"
        "  https://git.example.org/r.git tags/fixes-6.13\n\n"
        "for you to fetch changes up to abcdef1234567890abcdef1234567890abcdef12:\n\n"
        f"  fix (2024-11-18)\n\n{DIFF}"
    )
    patch = "From x Mon Sep 17 00:00:00 2001\n" + _mail("A <a@x.org>", "[PATCH] p").decode()
    f = tmp_path / "m.mbox"
    f.write_text(pull + patch)
    got = ingest(str(f))
    assert [p.subject for p in got.series.patches] == ["p"] and got.others == []
    assert any(
        "pull request" in p and "https://git.example.org/r.git tags/fixes-6.13" in p
        for p in got.series.problems
    )


# --------------------------------------------------------------------------- property

_WORD = st.text(st.sampled_from("abcXYZéüßж"), min_size=1, max_size=6)


@st.composite
def from_headers(draw: st.DrawFn) -> str:
    """From: values mixing plain, quoted, commented and encoded name parts."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        word = draw(_WORD)
        kind = draw(st.sampled_from(["plain", "q", "b", "quoted", "comment", "paren-q"]))
        if kind == "plain":
            parts.append(word if word.isascii() else q(word))
        elif kind == "q":
            parts.append(q(word))
        elif kind == "b":
            parts.append(b(word))
        elif kind == "quoted":
            parts.append('"' + (word if word.isascii() else "x") + '"')
        elif kind == "comment":
            parts.append("(" + (word if word.isascii() else "y") + ")")
        else:
            parts.append(f"({q(word)})")
    sep = draw(st.sampled_from([" ", "", "  "]))
    return sep.join(parts) + " <someone@example.org>"


@SETTINGS
@given(from_headers(), st.lists(_WORD, min_size=1, max_size=4))
def test_from_and_subject_decoding_matches_git(
    tmp_path_factory: pytest.TempPathFactory, from_: str, words: list[str]
) -> None:
    subject = "[PATCH] " + " ".join(f"({q(w)})" if i % 2 else q(w) for i, w in enumerate(words))
    raw = _mail(from_, subject)
    info = mailinfo(raw, tmp_path_factory.mktemp("mi"))
    m = parse_mail(raw)
    assert (m.author_name, m.author_email) == (info["Author"], info["Email"])
    assert m.info.subject == info["Subject"]

"""The archive catalog: the header-only reply test agrees with the full decoder, records
round-trip through JSON, and grouping records gives the series `show` would give."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel import CORPUS

from series_tool.commands.digest import digest
from series_tool.ingest import (
    MailRecord,
    catalog_series,
    newest_versions,
    parse_mail,
    quick_reply,
    series_key,
    split_mbox,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_prefix = st.sampled_from(["", "Re: ", "RE: ", "re:", "Fwd: ", "Re: Re: ", "AW: ", "[PATCH] Re: "])
_tags = st.sampled_from(["", "[PATCH] ", "[PATCH v2 1/3] ", "[RFC PATCH 0/2] ", "[net] "])
_words = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30)
_inbody = st.sampled_from(["", "Subject: [PATCH] real subject\n\n", "From: X <x@y>\n\n"])
_encoding = st.sampled_from(["", "Content-Transfer-Encoding: base64\n"])
# An encoded sender name does not stop the quick answer; an encoded subject does.
_sender = st.sampled_from(["A <a@example.org>", "=?utf-8?q?J=C3=B6rg_A?= <a@example.org>"])


@SETTINGS
@given(_prefix, _tags, _words, _inbody, _encoding, st.booleans(), _sender)
def test_quick_reply_never_contradicts_the_decoder(
    prefix: str, tags: str, words: str, inbody: str, encoding: str, folded: bool, sender: str
) -> None:
    subject = prefix + tags + words
    if folded and " " in subject.strip():
        head, _, tail = subject.strip().partition(" ")
        subject = head + "\n " + tail
    data = (
        f"From: {sender}\nSubject: {subject}\nMessage-Id: <m@x>\n{encoding}\n{inbody}Some text.\n"
    ).encode()
    if quick_reply(data):
        # Skipped without decoding: the decoder must agree it is a reply.
        assert parse_mail(data).info.is_reply


def test_records_round_trip_and_group_like_show() -> None:
    mails = split_mbox((CORPUS / "pte-nolock" / "v4.mbox").read_bytes())
    mails += split_mbox((CORPUS / "pte-nolock" / "v3.mbox").read_bytes())
    items = [(m, i, "", None, f"m{i}") for i, m in enumerate(mails)]
    records = [r for r in map(digest, items) if r is not None]
    again = [MailRecord.from_json(json.loads(json.dumps(r.to_json()))) for r in records]
    assert again == records
    newest = newest_versions(catalog_series(again))
    (series,) = newest.values()
    assert series.version == 4
    assert [r.number for r in series.patches] == list(range(1, 14))
    assert series.cover is not None
    # A superset at this stage (static helpers the series drops are in it too); the
    # exact API check is checks.api_removals, tested through scan.
    assert "pte_offset_map_nolock" in series.removes_for_good()


def test_series_key_ignores_a_version_in_the_title() -> None:
    base = series_key("A@X.org", "remove asm-generic/ptrace.h")
    for title in (
        "remove asm-generic/ptrace.h v2",
        "Remove  asm-generic/ptrace.h (v3)",
        "remove asm-generic/ptrace.h - V4",
    ):
        assert series_key("a@x.org", title) == base
    assert series_key("a@x.org", "v2") == "a@x.org v2"
    assert series_key("a@x.org", "fix kvm2 leak") != series_key("a@x.org", "fix kvm leak")

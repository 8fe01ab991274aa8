"""Grouping the way patchwork and b4 read list mail (issue 12), on self-written threads:
unlabelled patches under a versioned cover, resends with new Message-Ids, unthreaded
copies, "newest" by Date, Link:/Closes: in replies, and the archive-scale API."""

from __future__ import annotations

import io
from pathlib import Path

from series_tool.ingest import group_series, ingest, parse_mail

DIFF = "diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n+b\n"


def msg(
    subject: str,
    msgid: str,
    *,
    reply_to: str | None = None,
    refs: tuple[str, ...] = (),
    date: str = "Mon, 1 Jan 2024 10:00:00 +0000",
    sender: str = "A U Thor <a@example.org>",
    body: str | None = None,
) -> bytes:
    """One mbox entry; a diff unless ``body`` is given."""
    head = f"From: {sender}\nSubject: {subject}\nMessage-Id: <{msgid}>\nDate: {date}\n"
    if reply_to:
        head += f"In-Reply-To: <{reply_to}>\n"
    if refs or reply_to:
        head += "References: " + " ".join(f"<{r}>" for r in (*refs, reply_to) if r) + "\n"
    text = body if body is not None else f"Change for {subject}.\n\n---\n{DIFF}"
    return f"From x Mon Sep 17 00:00:00 2001\n{head}\n{text}".encode()


def read(tmp_path: Path, *mails: bytes, version: int | None = None):  # type: ignore[no-untyped-def]
    f = tmp_path / "t.mbox"
    f.write_bytes(b"".join(mails))
    return ingest(str(f), version=version)


def test_unlabelled_patches_under_a_versioned_cover_are_that_version(tmp_path: Path) -> None:
    cover = msg("[PATCH net-next v3 0/4] net: a series", "c@x", body="Cover.\n")
    patches = [msg(f"[PATCH {n}/4] net: p{n}", f"p{n}@x", reply_to="c@x") for n in range(1, 5)]
    got = read(tmp_path, cover, *patches)
    s = got.series
    assert s.version == 3 and s.cover is not None and got.others == []
    assert [(p.number, p.version) for p in s.patches] == [(1, 3), (2, 3), (3, 3), (4, 3)]
    assert s.title == "net: a series" and s.missing == []
    # Deep threading (each patch answers the one before) reads the same.
    deep = [
        msg(
            f"[PATCH {n}/4] net: p{n}",
            f"p{n}@x",
            reply_to="c@x" if n == 1 else f"p{n - 1}@x",
            refs=("c@x",) if n > 1 else (),
        )
        for n in range(1, 5)
    ]
    got = read(tmp_path, cover, *deep)
    assert got.series.version == 3 and len(got.series.patches) == 4 and got.others == []


def _posting(prefix: str, date: str, first_reply: str | None = None) -> list[bytes]:
    cover = msg(
        "[PATCH 0/2] A series", f"{prefix}c@x", reply_to=first_reply, date=date, body="Cover.\n"
    )
    return [
        cover,
        *(
            msg(f"[PATCH {n}/2] p{n}", f"{prefix}{n}@x", reply_to=f"{prefix}c@x", date=date)
            for n in (1, 2)
        ),
    ]


def test_resend_threaded_into_the_first_posting_is_a_second_series(tmp_path: Path) -> None:
    first = _posting("a", "Mon, 1 Jan 2024 10:00:00 +0000")
    again = _posting("b", "Mon, 1 Jan 2024 11:00:00 +0000", first_reply="ac@x")
    got = read(tmp_path, *first, *again)
    s = got.series
    assert s.duplicates == [] and [o.numbers for o in got.others] == [[1, 2]]
    assert s.cover is not None and s.cover.message_id == "bc@x"  # the newer one
    assert [p.message_id for p in s.patches] == ["b1@x", "b2@x"]
    # Newest by Date, not by position: the resend written first in the file still wins.
    got = read(tmp_path, *again, *first)
    assert [p.message_id for p in got.series.patches] == ["b1@x", "b2@x"]


def test_unthreaded_resend_an_hour_later_is_a_second_series(tmp_path: Path) -> None:
    first = [
        msg(f"[PATCH {n}/2] p{n}", f"a{n}@x", date="Mon, 1 Jan 2024 10:00:00 +0000") for n in (1, 2)
    ]
    later = [
        msg(f"[PATCH {n}/2] p{n}", f"b{n}@x", date="Mon, 1 Jan 2024 11:00:00 +0000") for n in (1, 2)
    ]
    got = read(tmp_path, first[0], later[0], first[1], later[1])
    assert [p.message_id for p in got.series.patches] == ["b1@x", "b2@x"]
    assert got.series.duplicates == [] and [o.numbers for o in got.others] == [[1, 2]]
    # The first posting lost its 2/2: the resend's 2/2 goes with the resend (the newest
    # unthreaded series lacking it), not into the first posting's gap.
    got = read(tmp_path, first[0], later[0], later[1])
    assert [p.message_id for p in got.series.patches] == ["b1@x", "b2@x"]
    assert [o.numbers for o in got.others] == [[1]]


def test_three_unthreaded_copies_are_three_series_newest_by_date(tmp_path: Path) -> None:
    dates = [
        "Tue, 2 Jan 2024 09:00:00 +0000",
        "Mon, 1 Jan 2024 09:00:00 +0000",
        "Mon, 1 Jan 2024 12:00:00 +0000",
    ]
    copies = [msg("[PATCH 1/1] fix", f"copy{i}@x", date=d) for i, d in enumerate(dates)]
    got = read(tmp_path, *copies)
    assert len(got.others) == 2 and got.series.duplicates == []
    (p,) = got.series.patches
    assert p.message_id == "copy0@x"  # the first in the file, and the newest by Date


def test_link_and_closes_in_replies_are_collected(tmp_path: Path) -> None:
    patch = msg("[PATCH] fix", "p@x")
    reply = msg(
        "Re: [PATCH] fix",
        "r@x",
        reply_to="p@x",
        sender="R Viewer <r@example.org>",
        body="> quoted\n> Link: https://quoted.example/no\n\n"
        "Link: https://lore.kernel.org/r/abc@x\n"
        "Closes: https://bugzilla.example/123\n"
        "Reviewed-by: R Viewer <r@example.org>\n",
    )
    (p,) = read(tmp_path, patch, reply).series.patches
    got = [(t.name, t.value) for t in p.trailers if t.from_reply]
    assert got == [
        ("Link", "https://lore.kernel.org/r/abc@x"),
        ("Closes", "https://bugzilla.example/123"),
        ("Reviewed-by", "R Viewer <r@example.org>"),
    ]


def test_group_series_newest_version_of_each_series(tmp_path: Path) -> None:
    """The archive API: parse each raw message, group them all, newest version each."""
    raw: list[bytes] = []
    raw += _posting("v1", "Mon, 1 Jan 2024 10:00:00 +0000")
    v2c = msg(
        "[PATCH v2 0/2] A series",
        "v2c@x",
        reply_to="v1c@x",
        body="Cover v2.\n",
        date="Mon, 8 Jan 2024 10:00:00 +0000",
    )
    raw += [v2c] + [
        msg(
            f"[PATCH v2 {n}/2] p{n}",
            f"v2{n}@x",
            reply_to="v2c@x",
            date="Mon, 8 Jan 2024 10:00:00 +0000",
        )
        for n in (1, 2)
    ]
    raw += [msg("[PATCH] other thing", "o@x", sender="B <b@example.org>")]
    raw += [msg("Re: [PATCH] other thing", "or@x", reply_to="o@x", body="Nice.\n")]
    raw += [msg("Hello list", "h@x", body="Not a patch.\n")]
    # v3 of the first series, not threaded, a month later: tied by sender and title.
    raw += [
        msg(f"[PATCH v3 {n}/2] p{n}", f"v3{n}@x", date="Mon, 5 Feb 2024 10:00:00 +0000")
        for n in (1, 2)
    ]
    mails = [parse_mail(r.split(b"\n", 1)[1], i, f"m{i}") for i, r in enumerate(raw)]
    got = group_series(mails)
    assert [(g.series.version, g.series.title, len(g.others)) for g in got] == [
        (3, "p1", 2),
        (1, "other thing", 0),
    ]
    first = got[0]
    assert [p.message_id for p in first.series.patches] == ["v31@x", "v32@x"]
    assert sorted(o.version for o in first.others) == [1, 2]
    # Same answer through ingest for the thread alone.
    assert ingest("-", stdin=io.BytesIO(b"".join(raw[:6]))).series.version == 2


def test_partial_reroll_keeps_the_cover_and_its_reviews(tmp_path: Path) -> None:
    """v2 (cover + 2) and a lone v3 2/2 answering v2's 2/2, as b4 reads it: v3 is the
    series, with v2's cover and 1/2; a review of v2's cover holds for both v3 patches, a
    review of v2's 2/2 not for v3's 2/2."""
    cover = msg("[PATCH v2 0/2] A series", "c@x", body="Cover.\n")
    p1 = msg("[PATCH v2 1/2] one", "p1@x", reply_to="c@x")
    p2 = msg("[PATCH v2 2/2] two", "p2@x", reply_to="c@x")
    on_cover = msg(
        "Re: [PATCH v2 0/2] A series",
        "rc@x",
        reply_to="c@x",
        sender="R <r@example.org>",
        body="Reviewed-by: R <r@example.org>\n",
    )
    on_p2 = msg(
        "Re: [PATCH v2 2/2] two",
        "r2@x",
        reply_to="p2@x",
        refs=("c@x",),
        sender="T <t@example.org>",
        body="Tested-by: T <t@example.org>\n",
    )
    v3 = msg(
        "[PATCH v3 2/2] two",
        "v3p2@x",
        reply_to="p2@x",
        refs=("c@x",),
        date="Tue, 2 Jan 2024 10:00:00 +0000",
    )
    got = read(tmp_path, cover, p1, p2, on_cover, on_p2, v3)
    s = got.series
    assert s.version == 3 and s.cover is not None and s.cover.message_id == "c@x"
    assert [p.message_id for p in s.patches] == ["p1@x", "v3p2@x"]
    assert [[t.name for t in p.trailers if t.from_reply] for p in s.patches] == [
        ["Reviewed-by"],
        ["Reviewed-by"],
    ]
    assert sum("taken from v2" in p for p in s.problems) == 2
    # Not answering the same-numbered patch (a mis-tagged v3 in v2's thread): v2 is used.
    wrong = msg(
        "[PATCH v3 2/2] two", "v3p2@x", reply_to="c@x", date="Tue, 2 Jan 2024 10:00:00 +0000"
    )
    got = read(tmp_path, cover, p1, p2, wrong)
    assert got.series.version == 2 and any("tagged v3" in p for p in got.series.problems)

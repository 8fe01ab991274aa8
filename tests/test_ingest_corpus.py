"""The real pte-nolock and clk series: order, cover, files and the cover's diffstat totals."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from kernel import CORPUS

from series_tool.errors import BadInput
from series_tool.ingest import ingest, series_diffstat, split_mbox

PTE = CORPUS / "pte-nolock"
CLK = CORPUS / "clk-bulk-get-all-enabled"
pytestmark = pytest.mark.skipif(not PTE.is_dir(), reason="../shared/corpus is absent")
SEP = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"


def _cover_stat(cover_text: str) -> tuple[int, int, int]:
    m = re.search(
        r"(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?",
        cover_text,
    )
    assert m, "the cover letter has a diffstat"
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


@pytest.mark.parametrize(
    ("name", "version", "count"), [("v4", 4, 13), ("v3", 3, 14), ("v2", 2, 14)]
)
def test_pte_versions(name: str, version: int, count: int) -> None:
    r = ingest(str(PTE / f"{name}.mbox"))
    s = r.series
    assert s.version == version and s.total == count and not s.problems and not r.others
    assert [p.number for p in s.patches] == list(range(1, count + 1))
    assert s.cover is not None and s.cover.number == 0
    assert s.title == "introduce pte_offset_map_{ro|rw}_nolock()"
    assert all(p.error is None and p.files for p in s.patches)
    files, ins, dels = _cover_stat(s.cover.commit_message + "\n" + s.cover.diff_text)
    stat = series_diffstat([p.files for p in s.patches])
    assert {f.path for p in s.patches for f in p.files} == set(stat.files)
    assert (len(stat.files), stat.insertions, stat.deletions) == (files, ins, dels)
    if name == "v4":
        assert (files, ins, dels) == (12, 159, 61)
    for p in s.patches:
        assert any(t.name == "Signed-off-by" for t in p.trailers)
        assert p.author == "Qi Zheng <zhengqi.arch@bytedance.com>"


def _messages(name: str) -> list[bytes]:
    return split_mbox((PTE / f"{name}.mbox").read_bytes(), mboxrd=False)


def _write(tmp_path: Path, msgs: list[bytes]) -> str:
    f = tmp_path / "t.mbox"
    f.write_bytes(b"".join(SEP + m for m in msgs))
    return str(f)


def test_shuffled(tmp_path: Path) -> None:
    msgs = _messages("v4")
    random.Random(7).shuffle(msgs)
    s = ingest(_write(tmp_path, msgs)).series
    assert [p.number for p in s.patches] == list(range(1, 14)) and s.cover is not None


def test_one_patch_removed(tmp_path: Path) -> None:
    msgs = [m for m in _messages("v4") if b"Subject: [PATCH v4 07/13]" not in m]
    s = ingest(_write(tmp_path, msgs)).series
    assert s.missing == [7] and 7 not in [p.number for p in s.patches]
    assert any("missing" in p and "7" in p for p in s.problems)


def test_v3_and_v4_concatenated(tmp_path: Path) -> None:
    path = _write(tmp_path, _messages("v3") + _messages("v4"))
    r = ingest(path)
    assert r.series.version == 4 and len(r.series.patches) == 13
    assert [(o.version, o.total, o.numbers) for o in r.others] == [(3, 14, list(range(1, 15)))]
    assert ingest(path, version=3).series.version == 3
    with pytest.raises(BadInput, match="found v3, v4"):
        ingest(path, version=9)


def test_resent_patch_in_the_thread_is_a_second_series(tmp_path: Path) -> None:
    """Patch 5 re-sent with a new Message-Id into v4's thread: a series of its own, as
    patchwork keeps it (issue 12; it used to replace patch 5 as a duplicate)."""
    msgs = _messages("v4")
    five = next(m for m in msgs if b"[PATCH v4 05/13]" in m)
    resent = five.replace(b"Message-Id: <", b"Message-Id: <resend.").replace(
        b"adjust_pte() use", b"adjust_pte() now uses"
    )
    got = ingest(_write(tmp_path, [*msgs, resent]))
    s = got.series
    assert s.duplicates == [] and [p.number for p in s.patches] == list(range(1, 14))
    p5 = s.patch(5)
    assert p5 is not None and not p5.message_id.startswith("resend.")
    assert [(o.version, o.numbers) for o in got.others] == [(4, [5])]
    assert any("resends patch 5" in p and "<resend." in p for p in s.problems)


def test_unthreaded_resend_is_a_second_series(tmp_path: Path) -> None:
    """13/13 re-sent without In-Reply-To/References: another series, not a duplicate."""
    msgs = _messages("v4")
    last = next(m for m in msgs if b"[PATCH v4 13/13]" in m)
    head, sep, body = last.partition(b"\n\n")
    kept = [
        ln
        for ln in re.split(rb"\n(?![ \t])", head)
        if not ln.lower().startswith((b"in-reply-to:", b"references:"))
    ]
    resent = b"\n".join(kept).replace(b"Message-Id: <", b"Message-Id: <resend.") + sep + body
    assert not re.search(rb"^(in-reply-to|references):", resent.partition(b"\n\n")[0], re.M | re.I)
    got = ingest(_write(tmp_path, [*msgs, resent]))
    assert [(o.version, o.numbers) for o in got.others] == [(4, [13])]
    assert got.series.duplicates == []
    assert [p.number for p in got.series.patches] == list(range(1, 14))
    p13 = got.series.patch(13)
    assert p13 is not None and not p13.message_id.startswith("resend.")


def _review_of(message_id: bytes, reviewer: bytes) -> bytes:
    """A reviewer's reply to `message_id` carrying a Reviewed-by trailer."""
    return (
        b"From: R Viewer <" + reviewer + b">\nSubject: Re: [PATCH v4 05/13] arm\n"
        b"Message-Id: <review." + reviewer + b">\nIn-Reply-To: <" + message_id + b">\n"
        b"References: <"
        + message_id
        + b">\n\n> quoted\n\nReviewed-by: R Viewer <"
        + reviewer
        + b">\n"
    )


def test_trailer_on_the_first_copy_of_a_resent_patch(tmp_path: Path) -> None:
    """A review of the first copy counts for it; the identical resend is a series of its own.

    (Once parametrised on whether the resend's diff differs: since a resend is its own
    series, both cases asserted the same, so only the identical resend is kept.)"""
    msgs = _messages("v4")
    five = next(m for m in msgs if b"[PATCH v4 05/13]" in m)
    first_id = re.search(rb"^Message-Id: <([^>]+)>", five, re.M | re.I).group(1)  # type: ignore[union-attr]
    resent = five.replace(b"Message-Id: <", b"Message-Id: <resend.")
    review = _review_of(first_id, b"r@example.org")
    got = ingest(_write(tmp_path, [*msgs, review, resent]))
    s = got.series
    p5 = s.patch(5)
    assert p5 is not None and p5.message_id == first_id.decode() and s.duplicates == []
    carried = [t for t in p5.trailers if t.from_reply]
    assert [(t.name, t.value) for t in carried] == [("Reviewed-by", "R Viewer <r@example.org>")]
    assert [(o.version, o.numbers) for o in got.others] == [(4, [5])]


def test_clk_rename_series() -> None:
    s = ingest(str(CLK / "v4.mbox")).series
    assert (s.version, s.total, [p.number for p in s.patches]) == (4, 4, [1, 2, 3, 4])
    assert s.base_commit == "f2493655d2d3d5c6958ed996b043c821c23ae8d3"
    assert s.patches[0].message_id == "20241019-clk_bulk_ena_fix-v4-1-57f108f64e70@collabora.com"
    assert s.title == "Provide devm_clk_bulk_get_all_enabled() helper"


def test_to_dict_is_json_ready() -> None:
    import json

    d = ingest(str(PTE / "v4.mbox")).to_dict()
    assert json.loads(json.dumps(d))["series"]["version"] == 4

"""b4 fixtures: which mails are patches, order, Message-Ids, and which reply feeds which patch."""

from __future__ import annotations

import re

import pytest
from kernel import CORPUS

from series_tool.ingest import grouping, ingest, parse_mails, read_source

B4 = CORPUS / "peer" / "b4" / "samples"
pytestmark = pytest.mark.skipif(not B4.is_dir(), reason="../shared/corpus is absent")


def _reply(name: str) -> list[tuple[str, str, bool]]:
    (p,) = ingest(str(B4 / name)).series.patches
    return [(t.name, t.value, t.from_reply) for t in p.trailers if t.from_reply]


def _ref_trailers(name: str) -> list[str]:
    """Trailer lines of b4's expected output for a single-patch reference file."""
    text = (B4 / name).read_text(encoding="utf-8")
    body = text.split("\n\n", 1)[1].split("\n---\n", 1)[0]
    return re.findall(r"^((?:Reviewed|Tested)-by: .*)$", body, re.MULTILINE)


@pytest.mark.parametrize(
    "name",
    ["single", "bare-address", "nore", "non-git-patch", "with-diffstat", "htmljunk", "custody"],
)
def test_followup_trailers_match_b4_reference(name: str) -> None:
    got = [f"{n}: {v}" for n, v, _ in _reply(f"trailers-followup-{name}.mbox")]
    ref = "defaults" if name != "custody" else "unordered"
    want = _ref_trailers(f"trailers-followup-{name}-ref-{ref}.txt")
    assert sorted(got) == sorted(w for w in want if w not in _own(name))
    mails = parse_mails(str(B4 / f"trailers-followup-{name}.mbox"))
    assert len(grouping.classify(mails).patches) == 1


def _own(name: str) -> set[str]:
    """Review trailers the patch itself already carries (b4's reference repeats them)."""
    (p,) = ingest(str(B4 / f"trailers-followup-{name}.mbox")).series.patches
    return {f"{t.name}: {t.value}" for t in p.trailers if not t.from_reply}


def test_single_skips_the_mismatched_address() -> None:
    got = _reply("trailers-followup-single.mbox")
    assert [n for n, _, _ in got] == ["Reviewed-by", "Tested-by"]  # reply-to-reply counts
    assert not any("Mismatched" in v for _, v, _ in got)
    s = ingest(str(B4 / "trailers-followup-single.mbox")).series
    assert s.patches[0].message_id == "orig-message@example.com"
    assert s.patches[0].subject == "Simple test"


def test_with_cover_trailers_reach_the_right_patches() -> None:
    s = ingest(str(B4 / "trailers-followup-with-cover.mbox")).series
    assert [p.message_id for p in s.patches] == [
        "patch-1-message@example.com",
        "patch-2-message@example.com",
    ]
    one, two = ([t.value.split(" <")[0] for t in p.trailers if t.from_reply] for p in s.patches)
    assert one == ["Coverletter Reviewer1"]
    assert sorted(two) == ["Coverletter Reviewer1", "Followup Reviewer1"]
    assert s.cover is not None and s.cover.subject == "Simple cover" and s.version == 2


def test_already_present_only_the_new_address_is_a_mismatch() -> None:
    s = ingest(str(B4 / "trailers-followup-already-present.mbox")).series
    mismatches = [p for p in s.problems if p.startswith("ignored ")]
    assert len(mismatches) == 1 and mismatches[0].startswith("ignored Tested-by:")


def test_naked_cover() -> None:
    s = ingest(str(B4 / "naked-cover-single.mbox")).series
    assert s.cover is not None
    assert s.cover.subject == "do a thing to the widget subsystem"
    assert [p.subject for p in s.patches] == ["widget: do the thing"]


def test_shazam_series_order_ids_and_verify_subjects() -> None:
    s = ingest(str(B4 / "shazam-git1-just-series.mbox")).series
    assert [p.message_id for p in s.patches] == [
        f"20221025-test1-v1-{n}-e4f28f57990c@linuxfoundation.org" for n in range(1, 5)
    ]
    verify = (B4 / "shazam-git1-just-series-defaults.verify").read_text(encoding="utf-8")
    subjects = re.findall(r"^konstantin@linuxfoundation.org\n[^\n]*\n([^\n]*)$", verify, re.M)
    assert [p.subject for p in reversed(s.patches)] == subjects
    assert s.cover is not None and s.title == "This is a cover for test series 1"
    assert s.base_commit is not None
    assert all(p.author_email == "konstantin@linuxfoundation.org" for p in s.patches)


def test_thread_with_followups_only_patch_4_gains_the_trailer() -> None:
    s = ingest(str(B4 / "trailers-thread-with-followups.mbox")).series
    gained = [(p.number, t.value) for p in s.patches for t in p.trailers if t.from_reply]
    assert gained == [(4, "Follow Upper <follow.upper@example.org>")]


def test_8bit_headers_decoded() -> None:
    (raw,) = read_source(str(B4 / "save-7bit-clean.txt"))
    from series_tool.ingest import parse_mail

    m = parse_mail(raw.data)
    assert m.author_name == "Unicôdé Nàmè"
    assert m.author_email == "8-bit-header-unicodename@example.org"
    assert m.raw_subject == "Test Sûbject"


@pytest.mark.parametrize(
    "ref", sorted(p.name for p in B4.glob("*-ref-*.txt")) if B4.is_dir() else []
)
def test_reference_outputs_are_parseable_mboxes(ref: str) -> None:
    r = ingest(str(B4 / ref))
    assert 1 <= len(r.series.patches) <= 2

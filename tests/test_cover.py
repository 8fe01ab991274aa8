"""Cover letters: the shortlog and diffstat name patches that are missing from the mbox."""

from __future__ import annotations

from pathlib import Path

from series_tool.ingest import functions_named, ingest, summarise

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_format_patch_cover_of_the_example() -> None:
    series = ingest(str(EXAMPLES / "ring-slot.mbox")).series
    assert series.cover is not None
    cover = summarise(series.cover.body)
    assert cover.subjects == [p.subject for p in series.patches]
    assert sorted(cover.files) == sorted({fd.path for p in series.patches for fd in p.files})


def test_wrapped_shortlog_subjects() -> None:
    text = (
        "Blurb.\n\nJane Doe (2):\n  mm: filemap: filemap_fault_recheck_pte_none() use\n"
        "    pte_offset_map_ro_nolock()\n  arm: adjust_pte() use x()\n\n"
        " mm/filemap.c | 4 +-\n 1 file changed, 2 insertions(+), 2 deletions(-)\n"
    )
    cover = summarise(text)
    assert cover.subjects == [
        "mm: filemap: filemap_fault_recheck_pte_none() use pte_offset_map_ro_nolock()",
        "arm: adjust_pte() use x()",
    ]
    assert cover.subject_of(2) == "arm: adjust_pte() use x()" and cover.subject_of(3) is None
    assert cover.files == ["mm/filemap.c"]
    assert functions_named(cover.subjects[0]) == [
        "filemap_fault_recheck_pte_none",
        "pte_offset_map_ro_nolock",
    ]


def test_b4_cover_below_the_dashes(corpus: Path) -> None:
    """b4 puts the shortlog (6-space indent) and diffstat below a '---' line."""
    series = ingest(str(corpus / "clk-bulk-get-all-enabled" / "v4.mbox")).series
    assert series.cover is not None
    cover = summarise(series.cover.body)
    assert cover.subjects == [p.subject for p in series.patches]
    assert len(cover.files) == 4 and "include/linux/clk.h" in cover.files

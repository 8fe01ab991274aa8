"""The real pte-nolock and clk series on Debian's 6.12 tree, end to end through the CLI.

Marked `kernel`: they skip with a clear reason when linux-source-6.12 is not installed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from mboxedit import series_variant
from repo_snapshot import run_main

from series_tool.ingest import ingest

pytestmark = pytest.mark.kernel


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run_main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


def expected_choices(mbox: Path) -> dict[str, list[str]]:
    """Which new symbol each conversion patch's '+' lines call, read from the mail itself."""
    series = ingest(str(mbox)).series
    out: dict[str, list[str]] = {}
    for p in series.patches:
        for fd in p.files:
            for h in fd.hunks:
                for ln in h.lines:
                    for new in ("pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"):
                        if (
                            ln.kind == "+"
                            and new + "(" in ln.text
                            and fd.path.endswith(".c")
                            and "pgtable-generic" not in fd.path
                        ):
                            out.setdefault(fd.path, []).append(new)
    return out


def test_v4_verifies_on_612(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mbox = corpus / "pte-nolock" / "v4.mbox"
    code, rep = run_json(capsys, "verify", str(mbox), "--repo", str(kernel_repo))
    assert code == 0 and rep["ok"], rep["findings"]
    mig = rep["migration"]
    assert mig["old"] == ["pte_offset_map_nolock"]
    assert sorted(mig["new"]) == ["pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"]
    assert mig["introduced_in"] == {"pte_offset_map_ro_nolock": 1, "pte_offset_map_rw_nolock": 1}
    assert mig["removed_in"] == {"pte_offset_map_nolock": 13}
    # Patch 10 also changes the static map_pte()'s prototype in place (a pmd_t * more)
    # and fits its one caller: a conversion of that change (old = new), listed apart.
    assert [(ch["name"], ch["patch"]) for ch in rep["prototype_changes"]] == [("map_pte", 10)]
    fitted = [c for c in rep["conversions"] if c["old"] == c["new"]]
    assert [(c["patch"], c["function"], c["old"]) for c in fitted] == [
        (10, "page_vma_mapped_walk", "map_pte")
    ]
    conv = [c for c in rep["conversions"] if c["old"] == "pte_offset_map_nolock"]
    assert len(conv) == 12 == len(rep["conversions"]) - 1
    assert len({(c["file"], c["function"]) for c in conv}) == 11
    assert sorted(c["patch"] for c in conv) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 12]
    chosen: dict[str, list[str]] = {}
    for c in sorted(conv, key=lambda c: (c["file"], c["line"])):
        chosen.setdefault(c["file"], []).append(c["new"])
    assert chosen == expected_choices(mbox)
    adjust = [c for c in conv if c["patch"] == 5]
    assert [(c["file"], c["function"], c["new"]) for c in adjust] == [
        ("arch/arm/mm/fault-armv.c", "adjust_pte", "pte_offset_map_rw_nolock")
    ]
    assert not [
        r
        for r in rep["remaining"]
        if r["kind"] in ("call", "declaration", "definition", "macro", "other")
    ]
    assert [a["status"] != "failed" for a in rep["apply"]] == [True] * 13
    # every git grep -w hit of the old symbol before the series is accounted for by kind
    acc = rep["accounted"]["pte_offset_map_nolock"]
    grep = subprocess.run(
        ["git", "-C", str(kernel_repo), "grep", "-n", "-w", "pte_offset_map_nolock"],
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert acc["grep_lines"] == len(grep)
    assert acc["unaccounted"] == []
    assert acc["base"]["call"] == 12
    assert sum(acc["base"].values()) >= len(grep)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_v2_v3_verify_on_612(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    code, rep = run_json(
        capsys, "verify", str(corpus / "pte-nolock" / f"{version}.mbox"), "--repo", str(kernel_repo)
    )
    assert rep["migration"]["old"] == ["pte_offset_map_nolock"]
    assert all(a["status"] != "failed" for a in rep["apply"])
    conv = [c for c in rep["conversions"] if c["old"] == "pte_offset_map_nolock"]
    assert len({(c["file"], c["function"]) for c in conv}) == 11
    # the rest fit a prototype the series changes in place (map_pte(), as in v4)
    assert all(c["old"] == c["new"] for c in rep["conversions"] if c not in conv)
    assert code == 0 and rep["ok"], rep["findings"]


@pytest.mark.parametrize("renumber", [False, True])
def test_v4_without_one_conversion_names_the_caller(
    kernel_repo: Path,
    corpus: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    renumber: bool,
) -> None:
    order = [n for n in range(1, 14) if n != 5]
    mbox = tmp_path / "v4-minus-5.mbox"
    mbox.write_bytes(series_variant(corpus / "pte-nolock" / "v4.mbox", order, renumber))
    code, rep = run_json(capsys, "verify", str(mbox), "--repo", str(kernel_repo))
    assert code == 1 and not rep["ok"]
    calls = [r for r in rep["remaining"] if r["kind"] == "call"]
    assert [(r["file"], r["function"], r["symbol"]) for r in calls] == [
        ("arch/arm/mm/fault-armv.c", "adjust_pte", "pte_offset_map_nolock")
    ]
    line = (kernel_repo / "arch/arm/mm/fault-armv.c").read_text().splitlines()[calls[0]["line"] - 1]
    assert "pte_offset_map_nolock(" in line
    if not renumber:
        assert any(f["code"] == "missing-patch" and f["patch"] == 5 for f in rep["findings"])
    else:  # the cover still lists it
        absent = [f for f in rep["findings"] if f["code"] == "cover-lists-absent-patch"]
        assert [f["function"] for f in absent] == ["adjust_pte"]


def test_series_only_without_one_conversion(
    corpus: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside a checkout only the series is known: the gap is still named from the cover."""
    monkeypatch.chdir(tmp_path)
    mbox = tmp_path / "v4-minus-5.mbox"
    mbox.write_bytes(
        series_variant(
            corpus / "pte-nolock" / "v4.mbox", [n for n in range(1, 14) if n != 5], False
        )
    )
    code, rep = run_json(capsys, "verify", str(mbox))
    assert rep["tree"]["kind"] == "series-only"
    assert code == 1
    missing = [f for f in rep["findings"] if f["code"] == "missing-patch"]
    assert (
        missing
        and "adjust_pte()" in missing[0]["message"]
        and missing[0]["file"] == "arch/arm/mm/fault-armv.c"
    )


def test_bisect_v4_every_step_safe(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rep = run_json(
        capsys, "bisect-report", str(corpus / "pte-nolock" / "v4.mbox"), "--repo", str(kernel_repo)
    )
    assert code == 0 and all(s["safe"] for s in rep["steps"]), [s["problems"] for s in rep["steps"]]
    old = [s["references"]["pte_offset_map_nolock"] for s in rep["steps"]]
    assert rep["base_references"]["pte_offset_map_nolock"] == 12
    assert old[-1] == 0 and old == sorted(old, reverse=True)
    assert old[0] == 12 and old[-2] == 0


def test_bisect_intro_moved_later(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mbox = tmp_path / "late-intro.mbox"
    order = [2, 3, 4, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    mbox.write_bytes(series_variant(corpus / "pte-nolock" / "v4.mbox", order, renumber=True))
    code, rep = run_json(capsys, "bisect-report", str(mbox), "--repo", str(kernel_repo))
    assert code == 1
    unsafe = [s for s in rep["steps"] if not s["safe"]]
    assert [s["patch"] for s in unsafe] == [1, 2, 3]
    first = unsafe[0]["problems"]
    assert [(p["code"], p["symbol"], p["file"], p["function"]) for p in first] == [
        (
            "undefined-symbol",
            "pte_offset_map_ro_nolock",
            "arch/powerpc/mm/pgtable.c",
            "assert_pte_locked",
        )
    ]
    assert first[0]["arch"] == "powerpc"


def test_bisect_missing_conversion_breaks_the_removal(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mbox = tmp_path / "minus-12.mbox"
    mbox.write_bytes(
        series_variant(corpus / "pte-nolock" / "v4.mbox", [*range(1, 12), 13], renumber=True)
    )
    code, rep = run_json(capsys, "bisect-report", str(mbox), "--repo", str(kernel_repo))
    assert code == 1
    unsafe = [s for s in rep["steps"] if not s["safe"]]
    assert [s["patch"] for s in unsafe] == [12]
    assert [(p["code"], p["file"], p["function"]) for p in unsafe[0]["problems"]] == [
        ("removed-while-referenced", "mm/vmscan.c", "walk_pte_range")
    ]
    assert "CONFIG_LRU_GEN" in unsafe[0]["problems"][0]["configs"]


def test_clk_rename_on_612(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rep = run_json(
        capsys,
        "verify",
        str(corpus / "clk-bulk-get-all-enabled" / "v4.mbox"),
        "--repo",
        str(kernel_repo),
    )
    mig = rep["migration"]
    assert mig["old"] == ["devm_clk_bulk_get_all_enable"]
    assert mig["new"] == ["devm_clk_bulk_get_all_enabled"]
    assert mig["introduced_in"] == {"devm_clk_bulk_get_all_enabled": 1}
    assert mig["removed_in"] == {"devm_clk_bulk_get_all_enable": 4}
    assert {(c["file"], c["function"]) for c in rep["conversions"]} == {
        ("drivers/soc/mediatek/mtk-pmic-wrap.c", "pwrap_probe"),
        ("drivers/pci/controller/dwc/pci-exynos.c", "exynos_pcie_probe"),
    }
    assert code == 0 and rep["ok"], rep["findings"]

"""conversion: prototypes, calls and the old -> new argument mapping learned from a series."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from series_tool.errors import BadInput
from series_tool.ingest import ingest
from series_tool.models import Migration
from series_tool.rewrite import (
    calls_in,
    default_rules,
    learn_conversion,
    parse_rules,
    prototypes_in,
    semantic_patch,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PTE = CORPUS / "pte-nolock" / "v4.mbox"
CLK = CORPUS / "clk-bulk-get-all-enabled" / "v4.mbox"
PTE_MIGRATION = Migration(
    old=["pte_offset_map_nolock"], new=["pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"]
)

idents = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in {"int", "char", "if", "do", "for", "void", "long", "while", "return"}
)


@given(
    st.lists(idents, min_size=1, max_size=5, unique=True),
    st.lists(st.integers(0, 2), min_size=5, max_size=5),
)
def test_prototype_params_roundtrip(names: list[str], stars: list[int]) -> None:
    params = ", ".join(f"struct t{i} {'*' * stars[i]}{n}" for i, n in enumerate(names))
    proto = prototypes_in(f"int fn_x({params});\n", ["fn_x"])["fn_x"]
    assert [p.name for p in proto.params] == names
    for i, p in enumerate(proto.params):
        assert p.type.replace(" ", "") == f"structt{i}" + "*" * stars[i]
        assert (p.pointee is not None) == (stars[i] > 0)


@given(st.lists(idents, min_size=0, max_size=5))
def test_calls_in_fragment_recovers_arguments(args: list[str]) -> None:
    text = f"\tx = old_fn({', '.join(args)});\n\tother(x);\n"
    calls = calls_in(text, ["old_fn"])
    assert [(c[0], c[1]) for c in calls] == [("old_fn", args)]


def test_rules_errors_are_bad_input() -> None:
    with pytest.raises(BadInput):
        parse_rules("[[migration]]\nvariants = ['a']\n")
    with pytest.raises(BadInput):
        parse_rules("[[migration]]\nold='x'\nvariants=['a']\nwriter='b'\n")
    with pytest.raises(BadInput):
        parse_rules("not toml [")
    # the shipped rules describe operations on a pointed-to type, not one API's names
    assert default_rules().for_migration("pte_offset_map_nolock", PTE_MIGRATION.new) is None
    ops = default_rules().operations_for("pte_t")
    assert ops is not None and "set_pte_at" in ops.write_ops and "ptep_get" in ops.read_ops
    with pytest.raises(BadInput):
        parse_rules("[[operations]]\nwrite_ops = ['a']\n")


@pytest.fixture
def pte_conversion() -> object:
    if not PTE.is_file():
        pytest.skip(f"corpus not found at {PTE}")
    series = ingest(str(PTE)).series
    return learn_conversion(series, PTE_MIGRATION, lambda _: None)["pte_offset_map_nolock"]


def test_real_v4_split(pte_conversion: object) -> None:
    from series_tool.rewrite import Conversion

    assert isinstance(pte_conversion, Conversion)
    ro = pte_conversion.variants["pte_offset_map_ro_nolock"]
    rw = pte_conversion.variants["pte_offset_map_rw_nolock"]
    assert ro.pure_rename and not rw.pure_rename
    [extra] = rw.extras
    assert extra.param.name == "pmdvalp" and extra.local_type == "pmd_t"
    # the most common name among the series' own rw conversions
    assert extra.local in {"dummy_pmdval", "pmdval"}
    assert rw.new_args(["mm", "pmd", "addr", "&ptl"], {}) == [
        "mm",
        "pmd",
        "addr",
        f"&{extra.local}",
        "&ptl",
    ]
    assert len(ro.sites) == 3 and len(rw.sites) == 9


def test_real_clk_rename_flags_changed_checks() -> None:
    if not CLK.is_file():
        pytest.skip(f"corpus not found at {CLK}")
    series = ingest(str(CLK)).series
    migration = Migration(
        old=["devm_clk_bulk_get_all_enable"], new=["devm_clk_bulk_get_all_enabled"]
    )
    conv = learn_conversion(series, migration, lambda _: None)["devm_clk_bulk_get_all_enable"]
    vc = conv.variants["devm_clk_bulk_get_all_enabled"]
    assert vc.pure_rename and not vc.extras
    assert any("ret < 0" in c for c in vc.series_changed_more())
    # the return contract: patch 2 changed `if (ret)` into `if (ret < 0)`, and patch 1
    # kept the old function as a wrapper mapping counts to 0
    assert vc.result is not None and vc.result.changed
    assert ("\x000\x00", "\x000\x00 < 0") in vc.result.pairs
    assert vc.result.old_of_new == (-22, -1, 0, 0, 0, 0)


def test_cocci_parses(pte_conversion: object, tmp_path: Path) -> None:
    from series_tool.rewrite import Conversion

    assert isinstance(pte_conversion, Conversion)
    text = semantic_patch({"pte_offset_map_nolock": pte_conversion}, default_rules())
    assert "- pte_offset_map_nolock(" in text and "+ pte_offset_map_rw_nolock(" in text
    spatch = shutil.which("spatch")
    if spatch is None:
        pytest.skip("spatch not installed")
    path = tmp_path / "conv.cocci"
    path.write_text(text)
    res = subprocess.run([spatch, "--parse-cocci", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr

"""infer_migration on series made with real git, and on the real corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import git, patch_from_diff

from series_tool.ingest import ingest
from series_tool.model import (
    collect_defined,
    infer_migration,
    map_patch_without_tree,
    symbols_defined_by_series,
)
from series_tool.models import Migration, Patch

HEADER = "int old_fn(int x);\n"
LIB = "int old_fn(int x)\n{\n\treturn x;\n}\n"
CALLER_A = (
    "static int lock_helper(int v)\n{\n\treturn v;\n}\n\n"
    "int a(void)\n{\n\tlock_helper(1);\n\treturn old_fn(1);\n}\n"
)
CALLER_B = "int b(void)\n{\n\treturn old_fn(2);\n}\n"


def series_from_states(
    tmp_path: Path, make_repo: Callable[..., Path], states: list[dict[str, str]]
) -> list[Patch]:
    """One patch per state change, each the diff git makes between consecutive states."""
    repo = make_repo(tmp_path, states[0])
    patches = []
    for n, state in enumerate(states[1:], start=1):
        for rel, text in state.items():
            (repo / rel).write_text(text)
        git(repo, "add", "-A")
        patches.append(patch_from_diff(n, git(repo, "diff", "--cached")))
        git(repo, "commit", "-q", "-m", f"step {n}")
    return patches


def infer(patches: list[Patch], **kw: list[str]) -> Migration:
    symbols = symbols_defined_by_series(patches)
    maps = [m for p in patches for m in map_patch_without_tree(p, symbols)]
    return infer_migration(patches, maps, **kw)


def test_rename(tmp_path: Path, make_repo: Callable[..., Path]) -> None:
    s0 = {"inc/api.h": HEADER, "lib/api.c": LIB, "a.c": CALLER_A, "b.c": CALLER_B}
    s1 = {
        "inc/api.h": HEADER + "int new_fn(int x);\n",
        "lib/api.c": LIB + "\nint new_fn(int x)\n{\n\treturn x;\n}\n",
    }
    s2 = {"a.c": CALLER_A.replace("old_fn(1)", "new_fn(1)")}
    s3 = {"b.c": CALLER_B.replace("old_fn(2)", "new_fn(2)")}
    s4 = {
        "inc/api.h": "int new_fn(int x);\n",
        "lib/api.c": "int new_fn(int x)\n{\n\treturn x;\n}\n",
    }
    patches = series_from_states(tmp_path, make_repo, [s0, s1, s2, s3, s4])
    assert collect_defined(patches[0]) == (set(), {"new_fn"})
    assert collect_defined(patches[3]) == ({"old_fn"}, set())
    mig = infer(patches)
    assert (mig.old, mig.new, mig.inferred) == (["old_fn"], ["new_fn"], True)
    assert mig.introduced_in == {"old_fn": None, "new_fn": 1}
    assert mig.removed_in == {"old_fn": 4, "new_fn": None}


def test_split_with_helper_removed_during_a_conversion(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    s0 = {"inc/api.h": HEADER, "lib/api.c": LIB, "a.c": CALLER_A, "b.c": CALLER_B}
    s1 = {"inc/api.h": HEADER + "int fn_ro(int x);\nint fn_rw(int x);\n"}
    # Patch 2 converts a() and drops its now unused static helper.
    s2 = {"a.c": "int a(void)\n{\n\treturn fn_ro(1);\n}\n"}
    s3 = {"b.c": CALLER_B.replace("old_fn(2)", "fn_rw(2)")}
    s4 = {"inc/api.h": "int fn_ro(int x);\nint fn_rw(int x);\n", "lib/api.c": ""}
    patches = series_from_states(tmp_path, make_repo, [s0, s1, s2, s3, s4])
    mig = infer(patches)
    assert mig.old == ["old_fn"]
    assert mig.new == ["fn_ro", "fn_rw"]
    assert mig.introduced_in == {"old_fn": None, "fn_ro": 1, "fn_rw": 1}
    assert mig.removed_in["old_fn"] == 4


def test_several_old_at_once(tmp_path: Path, make_repo: Callable[..., Path]) -> None:
    head = "int old_a(void);\n#define old_b(x) old_a()\n"
    users = "int u(void)\n{\n\treturn old_a() + old_b(1);\n}\n"
    s0 = {"api.h": head, "u.c": users}
    s1 = {"api.h": head + "int new_a(void);\n#define new_b(x) new_a()\n"}
    s2 = {"u.c": users.replace("old_a()", "new_a()").replace("old_b(1)", "new_b(1)")}
    s3 = {"api.h": "int new_a(void);\n#define new_b(x) new_a()\n"}
    patches = series_from_states(tmp_path, make_repo, [s0, s1, s2, s3])
    mig = infer(patches)
    assert mig.old == ["old_a", "old_b"]
    assert mig.new == ["new_a", "new_b"]
    assert mig.removed_in == {"old_a": 3, "old_b": 3, "new_a": None, "new_b": None}


def test_overrides_keep_patch_numbers(tmp_path: Path, make_repo: Callable[..., Path]) -> None:
    s0 = {"api.h": HEADER}
    s1 = {"api.h": HEADER + "int new_fn(int x);\n"}
    s2 = {"api.h": "int new_fn(int x);\n"}
    patches = series_from_states(tmp_path, make_repo, [s0, s1, s2])
    mig = infer(patches, old=["old_fn"], new=["new_fn", "unknown"])
    assert (mig.old, mig.new, mig.inferred) == (["old_fn"], ["new_fn", "unknown"], False)
    assert mig.introduced_in == {"old_fn": None, "new_fn": 1, "unknown": None}
    assert mig.removed_in == {"old_fn": 2, "new_fn": None, "unknown": None}


def test_real_pte_nolock_series(corpus: Path) -> None:
    for version in ("v2", "v3", "v4"):
        series = ingest(str(corpus / "pte-nolock" / f"{version}.mbox")).series
        mig = infer(series.patches)
        assert mig.old == ["pte_offset_map_nolock"], version
        assert mig.new == ["pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"], version
        assert mig.introduced_in["pte_offset_map_ro_nolock"] == 1
        assert mig.introduced_in["pte_offset_map_rw_nolock"] == 1
    assert mig.removed_in["pte_offset_map_nolock"] == 13  # v4


def test_real_clk_wrapper_series(corpus: Path) -> None:
    series = ingest(str(corpus / "clk-bulk-get-all-enabled" / "v4.mbox")).series
    mig = infer(series.patches)
    assert mig.old == ["devm_clk_bulk_get_all_enable"]
    assert mig.new == ["devm_clk_bulk_get_all_enabled"]
    assert mig.introduced_in["devm_clk_bulk_get_all_enabled"] == 1
    assert mig.removed_in["devm_clk_bulk_get_all_enable"] == 4

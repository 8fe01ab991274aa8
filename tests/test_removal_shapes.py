"""verify and bisect-report on every common shape of "convert the users, then remove the old
API", over the small C project in tests/shapes/project (real git, real format-patch).

Each shape runs full, with a conversion patch dropped (renumbered, as resent by an author
who forgot it) and with its introducer (or removal) moved; the two commands must agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapes_series import (
    EXISTING_REPLACEMENT,
    HEADER_REMOVAL,
    MEMBER_REMOVAL,
    MEMBER_REMOVAL_SHARED_NAME,
    NEW_MEMBER,
    STATEMENT_MACRO,
    WRAPPERS,
    WRONG_SIGNATURE,
    Shape,
    build,
    line_of,
    mbox,
)

from series_tool.cli import main

Report = dict[str, Any]


def run(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    shape: Shape,
    order: list[int],
    renumber: bool = True,
    options: tuple[str, ...] = (),
) -> tuple[Path, tuple[int, Report], tuple[int, Report]]:
    """(base repo, (exit, verify JSON), (exit, bisect-report JSON)) for one variant."""
    repo, patches = build(tmp_path, shape)
    path = tmp_path / "series.mbox"
    path.write_text(mbox(patches, order, renumber))
    out: list[tuple[int, Report]] = []
    for cmd in ("verify", "bisect-report"):
        code = main([cmd, str(path), "--repo", str(repo), "--format", "json", *options])
        out.append((code, json.loads(capsys.readouterr()[0])))
    return repo, out[0], out[1]


def errors(rep: Report) -> set[tuple[str | None, int | None]]:
    """(file, line) of verify's error findings about code."""
    return {
        (f["file"], f["line"])
        for f in rep["findings"]
        if f["severity"] == "error" and f["file"] is not None
    }


def problems(rep: Report) -> set[tuple[str | None, int | None]]:
    """(file, line) of every blocking problem bisect-report names at any step."""
    return {
        (p["file"], p["line"])
        for st in rep["steps"]
        for p in st["problems"]
        if p["severity"] == "error"
    }


def unsafe(rep: Report) -> list[int]:
    return [st["patch"] for st in rep["steps"] if not st["safe"]]


def agree(verify: tuple[int, Report], bisect: tuple[int, Report]) -> None:
    """One analysis, one verdict: same exit status, same places named."""
    assert verify[0] == bisect[0]
    assert verify[1]["ok"] == bisect[1]["ok"]
    assert errors(verify[1]) == problems(bisect[1])
    assert verify[1]["migration"]["old"] == bisect[1]["migration"]["old"]


def remaining(rep: Report) -> list[tuple[str, int, str | None, str, str]]:
    return sorted(
        (r["file"], r["line"], r["function"], r["symbol"], r["kind"]) for r in rep["remaining"]
    )


def conversions(rep: Report) -> list[tuple[Any, ...]]:
    rows = [(c["patch"], c["file"], c["function"], c["old"], c["new"]) for c in rep["conversions"]]
    return sorted(rows, key=str)


# --------------------------------------------------------------------------- replacement exists


def test_existing_replacement_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, EXISTING_REPLACEMENT, [1, 2, 3])
    agree(v, b)
    assert v[0] == 0 and b[0] == 0
    rep = v[1]
    assert rep["migration"]["old"] == ["old_reset"]
    assert "dev_reset" in rep["migration"]["new"]
    assert conversions(rep) == [
        (1, "drivers/alpha.c", "alpha_probe", "old_reset", "dev_reset"),
        (2, "drivers/beta.c", "beta_probe", "old_reset", "dev_reset"),
    ]
    # `if (ret)` became `if (ret < 0)` with the replacement: a review item, not an error
    review = [f for f in rep["findings"] if f["code"] == "return-contract-changed"]
    assert [(f["severity"], f["file"], f["function"]) for f in review] == [
        ("review", "drivers/alpha.c", "alpha_probe"),
        ("review", "drivers/beta.c", "beta_probe"),
    ]
    assert "if (ret) -> if (ret < 0)" in review[0]["message"]
    # every git grep -w line of old_reset is accounted for, the EXPORT_SYMBOL line as such
    acc = rep["accounted"]["old_reset"]
    assert acc["unaccounted"] == [] and acc["grep_lines"] == 5
    assert acc["base"]["export"] == 1 and acc["base"]["call"] == 2


def test_existing_replacement_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, v, b = run(capsys, tmp_path, EXISTING_REPLACEMENT, [1, 3])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [2]
    line = line_of(repo, "drivers/beta.c", "old_reset(")
    assert remaining(v[1]) == [("drivers/beta.c", line, "beta_probe", "old_reset", "call")]


def test_existing_replacement_removal_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, v, b = run(capsys, tmp_path, EXISTING_REPLACEMENT, [3, 1, 2])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [1, 2]
    assert {(r[0], r[2], r[4]) for r in remaining(v[1])} == {
        ("drivers/alpha.c", "alpha_probe", "call"),
        ("drivers/beta.c", "beta_probe", "call"),
    }


def test_missing_patch_is_an_error_in_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Patch 2 of 3 left out, numbers kept: the gap is an error named once in both."""
    _, v, b = run(capsys, tmp_path, EXISTING_REPLACEMENT, [1, 3], renumber=False)
    assert v[0] == 1 and b[0] == 1 and not b[1]["ok"]
    for rep in (v[1], b[1]):
        missing = [f for f in rep["findings"] if f["code"] == "missing-patch"]
        assert [f["patch"] for f in missing] == [2] and missing[0]["severity"] == "error"


# --------------------------------------------------------------------------- new struct member


def test_new_member_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, v, b = run(capsys, tmp_path, NEW_MEMBER, [1, 2, 3, 4])
    agree(v, b)
    assert v[0] == 0
    rep = v[1]
    assert rep["migration"]["new"] == ["auto_enable"]
    assert rep["migration"]["introduced_in"] == {"auto_enable": 1}
    # the call dropped in the probe function becomes a member set in the config initializer
    got = sorted(
        (c["file"], c["line"], c["function"], c["replaces_in"], c["new"], c["replacement"])
        for c in rep["conversions"]
    )
    assert got == [
        (
            f"drivers/{d}.c",
            line_of(repo, f"drivers/{d}.c", ".irq = 3,") + 1,
            f"static const struct drv_config {d}_config",
            f"{d}_probe",
            "auto_enable",
            ".auto_enable = 1,",
        )
        for d in ("alpha", "beta")
    ]


def test_new_member_used_before_it_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, v, b = run(capsys, tmp_path, NEW_MEMBER, [2, 1, 3, 4])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [1]
    (problem,) = b[1]["steps"][0]["problems"]
    assert (problem["code"], problem["symbol"], problem["file"], problem["function"]) == (
        "undefined-symbol",
        "auto_enable",
        "drivers/alpha.c",
        "static const struct drv_config alpha_config",
    )
    assert problem["line"] == line_of(repo, "drivers/alpha.c", ".irq = 3,") + 1
    assert "a member access or initializer" in problem["message"]


def test_new_member_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, v, b = run(capsys, tmp_path, NEW_MEMBER, [1, 2, 4])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [3]
    line = line_of(repo, "drivers/beta.c", "old_enable(")
    assert remaining(v[1]) == [("drivers/beta.c", line, "beta_probe", "old_enable", "call")]


# --------------------------------------------------------------------------- header removal


def test_header_removal_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, HEADER_REMOVAL, [1, 2, 3, 4])
    agree(v, b)
    assert v[0] == 0
    mig = v[1]["migration"]
    assert set(mig["old"]) == {"core/legacy.h", "legacy_probe", "LEGACY_MAGIC"}
    assert "_CORE_LEGACY_H" not in mig["removed"]  # an include guard is not API
    expected = [
        (2, "drivers/alpha.c", None, "core/legacy.h", "core/modern.h"),
        (2, "drivers/alpha.c", "alpha_probe", "legacy_probe", "modern_probe"),
        (3, "drivers/beta.c", None, "core/legacy.h", "core/modern.h"),
        (3, "drivers/beta.c", "beta_probe", "legacy_probe", "modern_probe"),
    ]
    assert conversions(v[1]) == sorted(expected, key=str)


def test_header_removal_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, v, b = run(capsys, tmp_path, HEADER_REMOVAL, [1, 2, 4])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [3]
    assert remaining(v[1]) == [
        (
            "drivers/beta.c",
            line_of(repo, "drivers/beta.c", "legacy.h"),
            None,
            "core/legacy.h",
            "include",
        ),
        (
            "drivers/beta.c",
            line_of(repo, "drivers/beta.c", "legacy_probe"),
            "beta_probe",
            "legacy_probe",
            "call",
        ),
    ]


def test_header_introduced_late(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, HEADER_REMOVAL, [2, 1, 3, 4])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [1]
    got = {(p["symbol"], p["file"]) for p in b[1]["steps"][0]["problems"]}
    assert got == {("core/modern.h", "drivers/alpha.c"), ("modern_probe", "drivers/alpha.c")}


# --------------------------------------------------------------------------- wrappers


def test_wrappers_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, WRAPPERS, [1, 2, 3, 4])
    agree(v, b)
    assert v[0] == 0
    assert set(v[1]["migration"]["old"]) == {"old_read_lock", "old_write_lock", "__dev_lock"}
    assert conversions(v[1]) == [
        (2, "drivers/alpha.c", "alpha_work", "old_read_lock", "dev_lock"),
        (3, "drivers/beta.c", "beta_work", "old_write_lock", "dev_lock"),
    ]


def test_wrapper_never_converted_is_still_tracked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """old_write_lock's only user is in the dropped patch: no conversion of it is seen."""
    repo, v, b = run(capsys, tmp_path, WRAPPERS, [1, 2, 4])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [3]
    line = line_of(repo, "drivers/beta.c", "old_write_lock(")
    assert remaining(v[1]) == [("drivers/beta.c", line, "beta_work", "old_write_lock", "call")]


def test_wrappers_introducer_moved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, WRAPPERS, [2, 1, 3, 4])
    agree(v, b)
    assert unsafe(b[1]) == [1]
    assert [(p["code"], p["symbol"], p["function"]) for p in b[1]["steps"][0]["problems"]] == [
        ("undefined-symbol", "dev_lock", "alpha_work")
    ]


# --------------------------------------------------------------------------- wrong signature


def test_wrong_signature_flagged_where_gcc_flags_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, v, b = run(capsys, tmp_path, WRONG_SIGNATURE, [1, 2, 3])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [1, 2]
    bad = [f for f in v[1]["findings"] if f["code"] == "incompatible-signature"]
    assert sorted((f["patch"], f["file"], f["line"], f["function"]) for f in bad) == [
        (
            n,
            f"drivers/{d}.c",
            line_of(repo, f"drivers/{d}.c", ".validate"),
            f"static const struct drv_info {d}_info",
        )
        for n, d in ((1, "alpha"), (2, "beta"))
    ]
    assert all(
        "initialization of 'int (*)(struct device *, struct request *)' from incompatible "
        "pointer type 'int (*)(struct request *, struct device *)'" in f["message"]
        for f in bad
    )
    assert {c["kind"] for c in v[1]["conversions"]} == {"address"}


def test_wrong_signature_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, v, b = run(capsys, tmp_path, WRONG_SIGNATURE, [1, 3])
    agree(v, b)
    line = line_of(repo, "drivers/beta.c", ".validate")
    assert remaining(v[1]) == [
        (
            "drivers/beta.c",
            line,
            "static const struct drv_info beta_info",
            "old_validate",
            "address",
        )
    ]
    assert unsafe(b[1]) == [1, 2]


def test_wrong_signature_removal_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, WRONG_SIGNATURE, [3, 1, 2])
    agree(v, b)
    assert unsafe(b[1]) == [1, 2, 3]
    assert {r[4] for r in remaining(v[1])} == {"address"}


def test_old_and_new_named_on_the_command_line_are_what_the_tree_defines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--old/--new for a series that defines neither (it converts one driver, removes
    nothing): what they are comes from the tree's own definitions, so the initializer
    `.validate = old_validate` is an address use, and the conversion's types are checked."""
    names = ("--old", "old_validate", "--new", "generic_validate")
    repo, v, b = run(capsys, tmp_path, WRONG_SIGNATURE, [1], options=names)
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [1]
    line = line_of(repo, "drivers/alpha.c", ".validate")
    assert [(c["file"], c["line"], c["kind"]) for c in v[1]["conversions"]] == [
        ("drivers/alpha.c", line, "address")
    ]
    bad = [f for f in v[1]["findings"] if f["code"] == "incompatible-signature"]
    assert [(f["file"], f["line"]) for f in bad] == [("drivers/alpha.c", line)]
    assert (
        "from incompatible pointer type 'int (*)(struct request *, struct device *)'"
        in (bad[0]["message"])
    )
    # beta's initializer, left alone, is an address use of the old function too
    beta = line_of(repo, "drivers/beta.c", ".validate")
    assert (
        "drivers/beta.c",
        beta,
        "static const struct drv_info beta_info",
        "old_validate",
        "address",
    ) in remaining(v[1])
    assert v[1]["accounted"]["old_validate"]["base"]["other"] == 0


# --------------------------------------------------------------------------- statement macro


def test_statement_macro_removed_while_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, v, b = run(capsys, tmp_path, STATEMENT_MACRO, [1, 2])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [2]
    line = line_of(repo, "drivers/beta.c", "OLD_TAKE(")
    # the invocations of a macro are its uses (issue 8's kinds), not calls
    assert remaining(v[1]) == [("drivers/beta.c", line, "beta_work", "OLD_TAKE", "macro-use")]
    assert conversions(v[1]) == [(1, "drivers/alpha.c", "alpha_work", "OLD_TAKE", "dev_take")]
    # its own '#define OLD_TAKE(l)' is a macro definition, not a call
    assert v[1]["accounted"]["OLD_TAKE"]["base"]["macro"] == 1
    assert v[1]["accounted"]["OLD_TAKE"]["base"]["macro-use"] == 2
    assert v[1]["accounted"]["OLD_TAKE"]["base"]["call"] == 0


def test_statement_macro_conversion_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, v, b = run(capsys, tmp_path, STATEMENT_MACRO, [2])
    agree(v, b)
    assert {(r[0], r[2]) for r in remaining(v[1])} == {
        ("drivers/alpha.c", "alpha_work"),
        ("drivers/beta.c", "beta_work"),
    }


def test_statement_macro_removal_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, v, b = run(capsys, tmp_path, STATEMENT_MACRO, [2, 1])
    agree(v, b)
    assert unsafe(b[1]) == [1, 2]


def test_markdown_and_text_say_the_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, patches = build(tmp_path, WRONG_SIGNATURE)
    path = tmp_path / "series.mbox"
    path.write_text(mbox(patches, [1, 3]))
    for fmt in ("text", "markdown"):
        main(["verify", str(path), "--repo", str(repo), "--format", fmt])
        out = " ".join(capsys.readouterr()[0].split())  # the terminal text wraps
        assert "address use" in out and "a other" not in out
        assert "static const struct drv_info beta_info" in out


def test_without_a_tree_the_signature_is_said_unchecked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Series-only: no prototype can be read, and the report says so instead of passing."""
    _, patches = build(tmp_path, WRONG_SIGNATURE)
    path = tmp_path / "series.mbox"
    path.write_text(mbox(patches, [1, 2, 3]))
    monkeypatch.chdir(tmp_path)
    main(["verify", str(path), "--format", "json"])
    rep = json.loads(capsys.readouterr()[0])
    assert rep["tree"]["kind"] == "series-only"
    unchecked = [f for f in rep["findings"] if f["code"] == "signature-unchecked"]
    assert [(f["severity"], f["file"]) for f in unchecked] == [("info", "drivers/alpha.c")]
    assert "generic_validate" in unchecked[0]["message"]


def test_member_removed_while_an_initializer_sets_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, v, b = run(capsys, tmp_path, MEMBER_REMOVAL, [1, 2])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [2]
    assert v[1]["migration"]["old"] == ["irq"]
    line = line_of(repo, "drivers/beta.c", ".irq")
    assert remaining(v[1]) == [
        ("drivers/beta.c", line, "static const struct drv_config beta_config", "irq", "member")
    ]


def test_member_removed_while_another_struct_keeps_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`.irq =` in a `struct drv_config` initializer is still told apart; the uses that
    cannot be (`cfg->irq`) are said to be unresolved."""
    repo, v, b = run(capsys, tmp_path, MEMBER_REMOVAL_SHARED_NAME, [1, 2, 3])
    agree(v, b)
    assert v[0] == 1 and unsafe(b[1]) == [3]
    line = line_of(repo, "drivers/beta.c", ".irq")
    left = [r for r in remaining(v[1]) if r[4] == "member"]
    assert left == [
        ("drivers/beta.c", line, "static const struct drv_config beta_config", "irq", "member")
    ]
    assert any(f["code"] == "member-not-resolved" for f in v[1]["findings"])

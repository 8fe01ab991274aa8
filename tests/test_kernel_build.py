"""`--build kernel` on the 6.12 tree: targeted kbuild objects per step, real gcc.

The user's repository is a bare shared clone of the kernel repository in a temp folder
(the cached repository itself is never written to); series are made on it with git
plumbing or from the real v4 mbox.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from mboxedit import series_variant
from plumbing import make_series

from series_tool.cli import main

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("make", "gcc", "flex", "bison", "bc")),
        reason="kernel build tools missing (apt-get install flex bison bc libelf-dev libssl-dev)",
    ),
]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _user_repo(kernel_repo: Path, tmp: Path) -> Path:
    repo = tmp / "linux.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--shared", str(kernel_repo), str(repo)], check=True
    )
    return repo


def _state(repo: Path) -> dict[str, object]:
    """What series-tool must leave as it was in a bare repository."""
    return {
        "refs": _git(repo, "for-each-ref"),
        "worktrees": _git(repo, "worktree", "list", "--porcelain"),
        "admin": sorted(p.name for p in (repo / "worktrees").glob("*")),
        "config": (repo / "config").read_bytes(),
    }


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["bisect-report", *argv, "--build", "kernel", "--jobs", "2", "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def _swap(text: str) -> str:
    return text.replace("= iio_validate_own_trigger,", "= iio_trigger_validate_own_device,")


def _unswap(text: str) -> str:
    return text.replace("= iio_trigger_validate_own_device,", "= iio_validate_own_trigger,")


def _comment(text: str) -> str:
    return text.replace("trigger handling functions", "trigger handling functions.", 1)


def test_swapped_parameters_fail_at_the_step_with_gccs_errors(
    kernel_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two iio drivers' `.validate_trigger` converted to a function whose parameters are
    swapped: the step fails with -Werror=incompatible-pointer-types at the exact lines,
    after the drivers' CONFIG_ options (and CONFIG_IIO) were enabled on top of defconfig;
    the tree stays broken through an unrelated patch, and builds once they are reverted."""
    repo = _user_repo(kernel_repo, tmp_path)
    mbox, _ = make_series(
        repo,
        "HEAD",
        [
            (
                "iio: use iio_trigger_validate_own_device() for own triggers",
                {
                    "drivers/iio/light/rohm-bu27008.c": _swap,
                    "drivers/iio/accel/kionix-kx022a.c": _swap,
                },
            ),
            ("iio: trigger: punctuation", {"drivers/iio/industrialio-trigger.c": _comment}),
            (
                "iio: back to iio_validate_own_trigger()",
                {
                    "drivers/iio/light/rohm-bu27008.c": _unswap,
                    "drivers/iio/accel/kionix-kx022a.c": _unswap,
                },
            ),
        ],
    )
    series = tmp_path / "iio.mbox"
    series.write_bytes(mbox)
    before = _state(repo)
    code, rep = _report(capsys, str(series), "--repo", str(repo))
    assert code == 1
    assert [s["safe"] for s in rep["steps"]] == [False, False, True]
    assert rep["base_build"]["status"] == "passed"
    # Step 2 builds only industrialio-trigger.c of its own, but the drivers broken at step 1
    # are still broken there: they are built again until they build.
    assert [s["build"]["status"] for s in rep["steps"]] == ["failed", "failed", "passed"]
    assert "drivers/iio/industrialio-trigger.c" in rep["steps"][1]["build"]["objects"]["x86"]
    build = rep["steps"][0]["build"]
    assert sorted((e["file"], e["line"], e["option"]) for e in build["errors"]) == [
        ("drivers/iio/accel/kionix-kx022a.c", 877, "-Werror=incompatible-pointer-types"),
        ("drivers/iio/light/rohm-bu27008.c", 1389, "-Werror=incompatible-pointer-types"),
    ]
    assert all(e["reference"]["kind"] == "changed-line" for e in build["errors"])
    assert all("iio_trigger_validate_own_device" in e["reference"]["text"] for e in build["errors"])
    (conf,) = rep["kernel_build"]["configurations"]
    assert conf["arch"] == "x86" and {"IIO", "ROHM_BU27008"} <= set(conf["enabled"])
    assert _state(repo) == before


def test_v4_misordered_fails_to_build_exactly_where_bisect_report_says(
    kernel_repo: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real v4 with two conversions moved before the patch introducing their API:
    every other step builds for x86_64, those two fail with gcc's implicit-declaration
    error on the converted call, and the arm/powerpc objects are named with what to
    install when their cross compilers are missing."""
    repo = _user_repo(kernel_repo, tmp_path)
    mbox = tmp_path / "early-conversions.mbox"
    order = [3, 4, 1, 2, *range(5, 14)]
    mbox.write_bytes(series_variant(corpus / "pte-nolock" / "v4.mbox", order, renumber=True))
    before = _state(repo)
    code, rep = _report(capsys, str(mbox), "--repo", str(repo))
    assert code == 1
    statuses = [s["build"]["status"] for s in rep["steps"]]
    # Steps 4 and 5 (v4's patches 2 and 5) touch only arch/powerpc and arch/arm code.
    cross = {4: "powerpc64le-linux-gnu-gcc", 5: "arm-linux-gnueabihf-gcc"}
    expected = ["failed", "failed", *["passed"] * 11]
    for step, compiler in cross.items():
        if not shutil.which(compiler):
            expected[step - 1] = "skipped"  # no compiler: nothing to build for x86 there
    assert statuses == expected, statuses
    unsafe = [s["patch"] for s in rep["steps"] if not s["safe"]]
    static = [s["patch"] for s in rep["steps"] if s["problems"]]
    assert unsafe == static == [1, 2]
    first = rep["steps"][0]["build"]["errors"]
    # gcc's error on the call, and what follows from it (int-conversion of the result).
    assert {(e["file"], e["function"]) for e in first} == {
        ("mm/filemap.c", "filemap_fault_recheck_pte_none")
    }
    implicit = [e for e in first if e["option"] == "-Werror=implicit-function-declaration"]
    assert len(implicit) == 1 and "pte_offset_map_ro_nolock" in implicit[0]["message"]
    assert implicit[0]["reference"]["symbol"] == "pte_offset_map_ro_nolock"
    second = rep["steps"][1]["build"]["errors"]
    assert {e["file"] for e in second} == {"mm/filemap.c", "mm/khugepaged.c"}
    assert rep["base_build"]["status"] == "passed"
    not_built = {(n["file"], n["arch"]): n["reason"] for n in rep["kernel_build"]["not_built"]}
    if not shutil.which("arm-linux-gnueabihf-gcc"):
        assert "install gcc-arm-linux-gnueabihf" in not_built["arch/arm/mm/fault-armv.c", "arm"]
    if not shutil.which("powerpc64le-linux-gnu-gcc"):
        reason = not_built["arch/powerpc/mm/pgtable.c", "powerpc"]
        assert "install gcc-powerpc64le-linux-gnu" in reason
    assert _state(repo) == before

"""Full builds beyond `--build kernel`: tuxmake per step (its Python API, host runtime), a
TuxSuite plan checked by the tuxsuite client's own plan loader (offline), and a finished
plan's results, shaped by the client's own data classes, read back into the report.

The tree is a small kernel-like git repository (tuxmake wants Makefile, Kconfig and
Kbuild at the top; its Makefile answers the targets tuxmake runs)."""

from __future__ import annotations

import dataclasses
import json
import platform
import shutil
from pathlib import Path
from typing import Any

import pytest
from examples_repo import git
from plumbing import make_series
from repo_snapshot import unchanged

from series_tool.cli import main

MAKEFILE = """\
# Just enough of kbuild's interface for tuxmake: O=, defconfig, the default target, the
# image targets and headers_install.
O ?= .
out := $(abspath $(O))
src := $(abspath .)
.DEFAULT_GOAL := all
.PHONY: all defconfig headers_install
defconfig:
\t@echo CONFIG_X=y > $(out)/.config
headers_install:
\t@mkdir -p $(INSTALL_HDR_PATH)/include
all bzImage vmlinux:
\t@$(CC) -Wall -Werror=implicit-function-declaration -c $(src)/lib/calc.c -o $(out)/calc.o
\t@mkdir -p $(out)/arch/x86/boot
\t@cp $(out)/calc.o $(out)/arch/x86/boot/bzImage
\t@cp $(out)/calc.o $(out)/vmlinux
\t@touch $(out)/System.map
"""

CALC_H = "int calc_add(int a, int b);\n"
CALC_C = """\
#include "calc.h"

int calc_add(int a, int b)
{
\treturn a + b;
}

int calc_twice(int a)
{
\treturn calc_add(a, a);
}
"""


def _tree(tmp: Path) -> Path:
    repo = tmp / "linux"
    (repo / "lib").mkdir(parents=True)
    (repo / "Makefile").write_text(MAKEFILE)
    (repo / "Kconfig").write_text("config X\n\tbool\n")
    (repo / "Kbuild").write_text("obj-y += lib/\n")
    (repo / "lib" / "calc.h").write_text(CALC_H)
    (repo / "lib" / "calc.c").write_text(CALC_C)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    return repo


def _series(repo: Path, tmp: Path) -> Path:
    """Patch 1 calls calc_sum() before patch 2 declares it: step 1 does not build."""
    mbox, _ = make_series(
        repo,
        "HEAD",
        [
            (
                "calc: twice through calc_sum()",
                {"lib/calc.c": lambda t: t.replace("calc_add(a, a);", "calc_sum(a, a);")},
            ),
            (
                "calc: add calc_sum()",
                {
                    "lib/calc.h": lambda t: t + "int calc_sum(int a, int b);\n",
                    "lib/calc.c": lambda t: t.replace(
                        "int calc_twice",
                        "int calc_sum(int a, int b)\n{\n\treturn a + b;\n}\n\nint calc_twice",
                    ),
                },
            ),
        ],
    )
    path = tmp / "calc.mbox"
    path.write_bytes(mbox)
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, json.loads(out) if out.strip() else {}


@pytest.mark.skipif(
    platform.machine() != "x86_64" or not shutil.which("gcc") or not shutil.which("make"),
    reason="the fake tree's Makefile writes x86's image; needs gcc and make",
)
def test_tuxmake_builds_each_step_and_maps_gccs_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _tree(tmp_path)
    series = _series(repo, tmp_path)
    with unchanged(repo):
        code, rep = _json(
            capsys, ["bisect-report", str(series), "--repo", str(repo), "--build", "tuxmake"]
        )
    assert code == 1
    assert rep["base_build"]["status"] == "passed"
    assert [s["build"]["status"] for s in rep["steps"]] == ["failed", "passed"]
    (error,) = rep["steps"][0]["build"]["errors"]
    assert (error["file"], error["option"], error["function"]) == (
        "lib/calc.c",
        "-Werror=implicit-function-declaration",
        "calc_twice",
    )
    assert "calc_sum" in error["message"]
    assert error["reference"]["symbol"] == "calc_sum"
    assert rep["steps"][0]["build"]["targets"]["default"] == "FAIL"
    (conf,) = rep["kernel_build"]["configurations"]
    assert (conf["tool"], conf["toolchain"], conf["kconfig"]) == ("tuxmake", "gcc", "defconfig")
    assert conf["arch"] == "x86_64"
    # verify builds the base and the tree after the whole series, which builds (its exit
    # 1 is the analysis' used-before-introduced at patch 1, not a build finding).
    with unchanged(repo):
        code, rep = _json(
            capsys, ["verify", str(series), "--repo", str(repo), "--build", "tuxmake"]
        )
    assert code == 1
    assert {k: v["status"] for k, v in rep["kernel_build"]["steps"].items()} == {
        "0": "passed",
        "2": "passed",
    }
    assert not [f for f in rep["findings"] if f["code"].startswith("build-")]
    assert [f["code"] for f in rep["findings"] if f["severity"] == "error"] == [
        "used-before-introduced"
    ]


def test_tuxmake_spec_is_checked_by_tuxmake(capsys: pytest.CaptureFixture[str]) -> None:
    from series_tool.build import parse_tuxmake_spec

    assert parse_tuxmake_spec("tuxmake") == parse_tuxmake_spec("tuxmake::")
    spec = parse_tuxmake_spec("tuxmake:arm64:clang:https://example.org/x.config")
    assert spec is not None and spec.kconfig == "https://example.org/x.config"
    assert parse_tuxmake_spec("make -j2") is None
    code = main(["bisect-report", "x.mbox", "--build", "tuxmake:no-such-arch"])
    _, err = capsys.readouterr()
    assert code == 2 and "tuxmake:" in err and "Traceback" not in err


def _plan(
    repo: Path, series: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, dict[str, Any]]:
    plan = out / "plan.yaml"
    plan.parent.mkdir()
    with unchanged(repo):
        code, rep = _json(
            capsys,
            [
                "bisect-report",
                str(series),
                "--repo",
                str(repo),
                "--arch",
                "arm64",
                "--tuxsuite-plan",
                str(plan),
                "--tuxsuite-branch",
                "calc/v1",
                "--tuxsuite-git-repo",
                "https://git.example.org/linux.git",
            ],
        )
    assert code == 1  # patch 1 uses calc_sum before patch 2 declares it
    return plan, rep


def test_tuxsuite_plan_loads_in_the_clients_own_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan: the base and 2 steps x (x86_64, arm64), each build a commit of the bundle,
    accepted by tuxsuite's PlanConfig (schema and plan type) and by its Build, which
    checks each build's parameters as `tuxsuite plan submit` does before sending."""
    import tuxsuite.build
    import tuxsuite.config

    repo = _tree(tmp_path)
    series = _series(repo, tmp_path)
    plan, rep = _plan(repo, series, tmp_path / "out", capsys)
    loaded = tuxsuite.config.PlanConfig(None, None, str(plan))
    assert loaded.schema_warning == ""
    assert loaded.plan_type.name == "BUILD"
    builds = [cfg["build"] for cfg in loaded.plan]
    assert [(b["build_name"], b["target_arch"]) for b in builds] == [
        (f"calc/v1/step-{i}/{arch}", arch) for i in range(3) for arch in ("x86_64", "arm64")
    ]
    client = {
        "token": "offline",
        "kbapi_url": "https://tuxapi.invalid",
        "tuxapi_url": "https://tuxapi.invalid",
        "group": "g",
        "project": "p",
    }
    for b in builds:
        request, _ = tuxsuite.build.Build(**client, **b).generate_build_request()
        assert request["git_repo"] == "https://git.example.org/linux.git"
        assert request["kconfig"] == ["defconfig"] and request["toolchain"] == "gcc"
    # The bundle holds the steps: fetched into a clone, each sha is the step's tree.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "fetch", "-q", rep["tuxsuite_plan"]["bundle"], "calc/v1:calc/v1")
    shas = [c["sha"] for c in rep["tuxsuite_plan"]["commits"]]
    assert git(clone, "rev-list", "--reverse", "HEAD..calc/v1").split() == shas
    assert [b["git_sha"] for b in builds[2::2]] == shas
    assert "calc_sum(a, a)" in git(clone, "show", f"{shas[0]}:lib/calc.c")
    assert "calc_sum" in git(clone, "show", f"{shas[1]}:lib/calc.h")
    assert git(clone, "log", "-1", "--format=%s", shas[1]).strip() == "calc: add calc_sum()"
    assert rep["tuxsuite_plan"]["commands"][0].startswith("git fetch ")
    # The same series gives the same commits: the results of a plan match a later run.
    _, rep2 = _plan(repo, series, tmp_path / "again", capsys)
    assert [c["sha"] for c in rep2["tuxsuite_plan"]["commits"]] == shas


def _client_build(**values: Any) -> dict[str, Any]:
    """A build as `tuxsuite plan submit/get --json-out` writes it: every field of the
    client's own Build data class (tuxsuite.cli.models), round-tripped through it."""
    from tuxsuite.cli.models import Build

    row: dict[str, Any] = {}
    for f in dataclasses.fields(Build):
        if f.name == "extra":
            continue
        row[f.name] = values.get(f.name, "" if f.type in ("str", str) else None)
    row.update(values)
    parsed = Build.new(**row)
    assert not parsed.extra, parsed.extra  # no key the client does not know
    return row


def test_tuxsuite_results_come_back_into_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finished plan: the base and step 2 passed, step 1 failed; its downloaded log has
    gcc's error with TuxSuite's own absolute paths, mapped to lib/calc.c and the step's
    reference to calc_sum. A build of another plan, and one of another commit under the
    same name, are ignored."""
    repo = _tree(tmp_path)
    series = _series(repo, tmp_path)
    _, rep = _plan(repo, series, tmp_path / "out", capsys)
    base = git(repo, "rev-parse", "HEAD").strip()
    shas = [base, *(c["sha"] for c in rep["tuxsuite_plan"]["commits"])]
    builds: dict[str, Any] = {}
    logs = tmp_path / "downloads"
    for i in range(3):
        uid = f"2pQ{i}x"
        failed = i == 1
        builds[uid] = _client_build(
            project="g/p",
            uid=uid,
            plan="2pPLAN",
            kconfig=["defconfig"],
            target_arch="x86_64",
            toolchain="gcc",
            build_name=f"calc/v1/step-{i}/x86_64",
            git_repo="https://git.example.org/linux.git",
            git_sha=shas[i],
            download_url=f"https://storage.tuxsuite.com/public/g/p/builds/{uid}/",
            state="finished",
            result="fail" if failed else "pass",
            tuxbuild_status="complete",
            build_status="fail" if failed else "pass",
            errors_count=1 if failed else 0,
            warnings_count=0,
            duration=300,
            environment={},
            make_variables={},
            targets=[],
            waited_by=[],
        )
        (logs / uid).mkdir(parents=True)
        text = "make --silent --keep-going O=/home/tuxbuild/.cache/tuxmake/builds/1/build\n"
        if failed:
            text += (
                "/builds/linux/lib/calc.c: In function 'calc_twice':\n"
                "/builds/linux/lib/calc.c:10:16: error: implicit declaration of function "
                "'calc_sum' [-Werror=implicit-function-declaration]\n"
            )
        (logs / uid / "build.log").write_text(text)
    builds["other"] = _client_build(uid="other", build_name="nightly", state="finished")
    # The same name, another commit (a plan of another version): not this step's tree.
    builds["stale"] = {**builds["2pQ2x"], "uid": "stale", "git_sha": "1" * 40, "result": "fail"}
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"builds": builds, "tests": {}}, indent=4, sort_keys=True))
    with unchanged(repo):
        code, out = _json(
            capsys,
            [
                "bisect-report",
                str(series),
                "--repo",
                str(repo),
                "--tuxsuite-results",
                str(results),
                "--tuxsuite-logs",
                str(logs),
            ],
        )
    assert code == 1
    assert out["base_build"]["status"] == "passed"
    assert [s["build"]["status"] for s in out["steps"]] == ["failed", "passed"]
    (error,) = out["steps"][0]["build"]["errors"]
    assert (error["file"], error["line"], error["function"]) == ("lib/calc.c", 10, "calc_twice")
    assert error["reference"]["symbol"] == "calc_sum"
    assert out["steps"][0]["build"]["tuxsuite"]["x86_64"]["uid"] == "2pQ1x"
    assert out["kernel_build"]["foreign_builds"] == 1
    assert out["kernel_build"]["other_commits"] == [f"calc/v1/step-2/x86_64 built {'1' * 40}"]
    # Without the logs: the failed build still fails its step (no diagnostics to show).
    code, out = _json(
        capsys,
        ["bisect-report", str(series), "--repo", str(repo), "--tuxsuite-results", str(results)],
    )
    assert code == 1
    assert [s["build"]["status"] for s in out["steps"]] == ["failed", "passed"]


def test_tuxsuite_bad_options_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _tree(tmp_path)
    series = _series(repo, tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cases = [
        ["--tuxsuite-plan", str(tmp_path / "p.yaml"), "--tuxsuite-branch", "b"],
        [
            "--tuxsuite-plan",
            str(tmp_path / "p.yaml"),
            "--tuxsuite-branch",
            "b",
            "--tuxsuite-git-repo",
            "git@example.org:linux.git",
        ],
        [
            "--tuxsuite-plan",
            str(tmp_path / "p.yaml"),
            "--tuxsuite-branch",
            "bad..name",
            "--tuxsuite-git-repo",
            "https://example.org/linux.git",
        ],
        ["--tuxsuite-results", str(bad)],
        ["--tuxsuite-results", str(tmp_path / "absent.json")],
        ["--tuxsuite-logs", str(tmp_path)],
    ]
    for extra in cases:
        with unchanged(repo):
            code = main(["bisect-report", str(series), "--repo", str(repo), *extra])
        _, err = capsys.readouterr()
        assert code == 2, extra
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "p.yaml").exists()

"""The pieces of `--build kernel` that need no kernel: gcc's diagnostics, kbuild's
Makefile rules and Kconfig dependencies, cross-compiler detection."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from series_tool.build.diagnostics import failed_objects, missing_targets, parse_log
from series_tool.build.kbuild import (
    is_kbuild_object,
    kconfig_entries,
    object_configs,
    positive_symbols,
    read_config,
)
from series_tool.build.toolchains import DEBIAN_TRIPLETS, host_arch, toolchain

LOG = """\
  CC      drivers/iio/light/rohm-bu27008.o
/tmp/x/tree/drivers/iio/light/rohm-bu27008.c:1389:29: error: initialization of \
'int (*)(struct iio_dev *, struct iio_trigger *)' from incompatible pointer type \
'int (*)(struct iio_trigger *, struct iio_dev *)' [-Werror=incompatible-pointer-types]
 1389 |         .validate_trigger = iio_trigger_validate_own_device,
      |                             ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
/tmp/x/tree/mm/filemap.c: In function 'filemap_fault_recheck_pte_none':
/tmp/x/tree/mm/filemap.c:3273:16: error: implicit declaration of function \
'pte_offset_map_ro_nolock' [-Werror=implicit-function-declaration]
/tmp/x/tree/mm/filemap.c:3280:9: warning: unused variable 'x' [-Wunused-variable]
/tmp/x/tree/mm/filemap.c:3280:9: warning: unused variable 'x' [-Wunused-variable]
/tmp/x/tree/mm/filemap.c: At top level:
mm/filemap.c:10:1: fatal error: nothere.h: No such file or directory
make[3]: *** No rule to make target 'drivers/x/y.o'.  Stop.
make[4]: *** [/tmp/x/tree/scripts/Makefile.build:234: drivers/iio/light/rohm-bu27008.o] Error 1
make[3]: *** [/tmp/x/tree/scripts/Makefile.build:471: drivers] Error 2
"""


def test_diagnostics_are_parsed_with_function_and_option() -> None:
    diags = parse_log(LOG, ("/tmp/x/tree/",))
    assert [(d.file, d.line, d.col, d.severity, d.option, d.function) for d in diags] == [
        (
            "drivers/iio/light/rohm-bu27008.c",
            1389,
            29,
            "error",
            "-Werror=incompatible-pointer-types",
            None,
        ),
        (
            "mm/filemap.c",
            3273,
            16,
            "error",
            "-Werror=implicit-function-declaration",
            "filemap_fault_recheck_pte_none",
        ),
        ("mm/filemap.c", 3280, 9, "warning", "-Wunused-variable", "filemap_fault_recheck_pte_none"),
        ("mm/filemap.c", 10, 1, "error", None, None),
    ]
    assert diags[0].message.startswith("initialization of")
    assert missing_targets(LOG) == ["drivers/x/y.o"]
    assert failed_objects(LOG) == ["drivers/iio/light/rohm-bu27008.o"]


def test_utf8_quotes_name_the_function() -> None:
    log = "/t/a.c: In function \u2018f\u2019:\n/t/a.c:3:5: warning: w [-Wx]\n"
    assert [d.function for d in parse_log(log, ("/t/",))] == ["f"]


@given(st.text(max_size=300))
def test_any_log_parses_without_error(text: str) -> None:
    for d in parse_log(text):
        assert d.severity in ("error", "warning") and d.line >= 0


def _reader(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return files.get


def test_object_configs_follow_composites_and_directories() -> None:
    read = _reader(
        {
            "Kbuild": "obj-y += drivers/\n",
            "drivers/Makefile": "obj-$(CONFIG_IIO)\t\t+= iio/\nobj-y += base/\n",
            "drivers/iio/Makefile": "obj-y += light/\n",
            "drivers/iio/light/Makefile": (
                "obj-$(CONFIG_ROHM_BU27008) += rohm-bu27008.o\n"
                "obj-$(CONFIG_FOO) += foo.o\nfoo-y := foo-core.o \\\n\tfoo-i2c.o\n"
            ),
        }
    )
    assert object_configs("drivers/iio/light/rohm-bu27008.c", read) == ["ROHM_BU27008", "IIO"]
    assert object_configs("drivers/iio/light/foo-i2c.c", read) == ["FOO", "IIO"]
    assert is_kbuild_object("drivers/iio/light/foo-i2c.c", read)
    assert not is_kbuild_object("drivers/iio/light/included.c", read)


def test_positive_symbols() -> None:
    assert positive_symbols("I2C && (OF || COMPILE_TEST) && !PREEMPT_RT") == [
        "I2C",
        "OF",
        "COMPILE_TEST",
    ]
    assert positive_symbols("X86_64=y && m") == ["X86_64"]


def test_kconfig_entries_depends_ifs_and_selects(tmp_path: Path) -> None:
    (tmp_path / "Kconfig").write_text(
        'menuconfig IIO\n\ttristate "IIO"\n\nif IIO\n'
        'config DRV\n\ttristate "drv"\n\tdepends on I2C\n\tselect HELPER\n\thelp\n'
        "\t  depends on nothing said here\n\n"
        "config HELPER\n\ttristate\n\nendif\n"
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    entries = kconfig_entries(tmp_path, ["DRV", "HELPER"])
    assert entries["DRV"].depends == ["IIO", "I2C"] and entries["DRV"].prompt
    assert not entries["HELPER"].prompt and entries["HELPER"].selected_by == ["DRV"]


def test_read_config(tmp_path: Path) -> None:
    cfg = tmp_path / ".config"
    cfg.write_text('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_S="x"\n')
    assert read_config(cfg) == {"A": "y", "C": "m", "S": '"x"'}


def test_missing_cross_compiler_is_named() -> None:
    missing = [a for a, t in DEBIAN_TRIPLETS.items() if not shutil.which(f"{t}-gcc")]
    if not missing:
        pytest.skip("every cross compiler is installed here")
    tc = toolchain(missing[0])
    triplet = DEBIAN_TRIPLETS[missing[0]]
    assert not tc.available and tc.package == "gcc-" + triplet.replace("_", "-")
    assert toolchain("no-such-arch").package is None
    assert toolchain(host_arch()).available == bool(shutil.which("gcc"))
    assert toolchain(host_arch()).make_vars() == [f"ARCH={host_arch()}"]


def test_debian_package_names() -> None:
    assert DEBIAN_TRIPLETS["arm"] == "arm-linux-gnueabihf"
    assert DEBIAN_TRIPLETS["x86"].replace("_", "-") == "x86-64-linux-gnu"


def test_text_report_shows_kernel_build_details(tmp_path: Path) -> None:
    """The text report names configurations, options not enabled, base problems, new
    warnings and objects not built (a ring report with a kernel build part added)."""
    import io
    import json

    from examples_repo import EXAMPLES, ring_repo

    from series_tool.cli import main
    from series_tool.render import bisect_text, console_for

    repo = ring_repo(tmp_path)
    out = tmp_path / "r.json"
    argv = ["bisect-report", str(EXAMPLES / "ring-slot.mbox"), "--repo", str(repo)]
    assert main([*argv, "--format", "json", "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    diag = {"file": "src/ring.c", "line": 3, "col": 1, "severity": "warning", "arch": "x86"}
    diag |= {"message": "unused variable 'x'", "option": "-Wunused-variable", "function": "f"}
    rep["steps"][0]["build"] = {"status": "passed", "log_tail": "", "new_warnings": [diag]}
    rep["base_build"] = {
        "status": "base-errors",
        "log_tail": "",
        "base_problems": [{**diag, "severity": "error", "message": "old breakage"}],
    }
    rep["kernel_build"] = {
        "configurations": [
            {
                "arch": "x86",
                "kconfig": "defconfig",
                "ok": True,
                "enabled": ["IIO"],
                "not_enabled": {"FOO": "depends on (BAR); not set: BAR"},
                "seconds": 1.0,
                "log_tail": "",
            }
        ],
        "not_built": [{"file": "arch/arm/mm/x.c", "arch": "arm", "reason": "install gcc-arm"}],
    }
    buffer = io.StringIO()
    bisect_text(console_for(buffer, width=200), rep)
    text = buffer.getvalue()
    assert "kernel build x86: defconfig + IIO" in text
    assert "CONFIG_FOO could not be enabled: depends on (BAR)" in text
    assert "base problem (x86): src/ring.c:3: old breakage" in text
    assert "new warning (x86): src/ring.c:3 in f(): unused variable 'x' [-Wunused-variable]" in text
    assert "not built (arm): arch/arm/mm/x.c: install gcc-arm" in text


def test_objects_per_step_and_for_verify(tmp_path: Path) -> None:
    """Which .c files each step builds, from the analysis (the ring example as the tree):
    the files a patch changes, plus the users of the symbols it defines or removes."""
    from examples_repo import EXAMPLES, ring_repo

    from series_tool.build import KernelOptions, host_arch, plan_objects
    from series_tool.checks import analyse
    from series_tool.ingest import ingest
    from series_tool.replay import open_tree

    repo = ring_repo(tmp_path)
    ingested = ingest(str(EXAMPLES / "ring-slot.mbox"))
    an = analyse(ingested, open_tree(str(repo), None, None, str(repo)))
    host = host_arch()
    plan = plan_objects(an, KernelOptions())
    per_step = {i: sorted(objs.get(host, [])) for i, objs in plan.objects.items()}
    # Patch 1 adds ring_slot_ro/rw to ring.c; nothing uses them yet.
    assert per_step[1] == ["src/ring.c"]
    assert per_step[2] == ["src/dump.c"]
    # Patch 6 removes ring_slot from ring.c: nothing uses it any more, ring.c is built.
    assert per_step[6] == ["src/ring.c"]
    # The base builds every object of every step, where it exists.
    assert per_step[0] == sorted({p for i in range(1, 7) for p in per_step[i]})
    assert "patch 1 changes it" in plan.why["src/ring.c"]
    verify = plan_objects(an, KernelOptions(final_only=True))
    assert sorted(verify.objects) == [0, 6]
    assert sorted(verify.objects[6][host]) == per_step[0]


def test_a_removal_builds_the_callers_it_leaves_behind(tmp_path: Path) -> None:
    """ring-slot-missed removes ring_slot() while src/compact.c still calls it: the
    removal step builds compact.c although the patch does not touch it."""
    from examples_repo import EXAMPLES, ring_repo

    from series_tool.build import KernelOptions, host_arch, plan_objects
    from series_tool.checks import analyse
    from series_tool.ingest import ingest
    from series_tool.replay import open_tree

    repo = ring_repo(tmp_path)
    ingested = ingest(str(EXAMPLES / "ring-slot-missed.mbox"))
    an = analyse(ingested, open_tree(str(repo), None, None, str(repo)))
    plan = plan_objects(an, KernelOptions())
    last = an.steps[-1].index
    assert sorted(plan.objects[last][host_arch()]) == ["src/compact.c", "src/ring.c"]
    assert any("uses ring_slot" in why for why in plan.why["src/compact.c"])

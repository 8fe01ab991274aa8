"""`--build tuxmake[:ARCH[:TOOLCHAIN[:KCONFIG]]]`: one full kernel build per step, by tuxmake.

tuxmake (Linaro's kernel build tool, the one the TuxSuite service runs) is driven
through its Python API with the host ("null") runtime: per step, the temporary worktree
holds the step's tree and tuxmake builds its default targets into one build folder,
reused across the steps so kbuild recompiles only what a step changed. Its build.log is
read with the same diagnostics parser as `--build kernel`, into the same per-step report.
tuxmake is an optional dependency (`pip install series-tool[tuxmake]`).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from series_tool.checks import Analysis
from series_tool.errors import BadInput

from .ledger import Ledger, step_label, step_result
from .worktrees import scratch_tree, write_step

PREFIX = "tuxmake"


@dataclass(frozen=True)
class TuxmakeSpec:
    """What `--build tuxmake:...` asked for (tuxmake's own names: x86_64, arm64, gcc-13...)."""

    arch: str | None = None  # None: the host's
    toolchain: str = "gcc"
    kconfig: str = "defconfig"

    def label(self) -> str:
        return f"{self.arch or 'native'}:{self.toolchain}:{self.kconfig}"


def parse_spec(text: str) -> TuxmakeSpec | None:
    """`tuxmake[:ARCH[:TOOLCHAIN[:KCONFIG]]]` -> the spec; None for any other --build.
    KCONFIG is the rest of the text (a URL has colons of its own); empty parts keep
    their default."""
    head, _, rest = text.strip().partition(":")
    if head != PREFIX:
        return None
    arch, _, rest = rest.partition(":")
    toolchain, _, kconfig = rest.partition(":")
    return TuxmakeSpec(arch or None, toolchain or "gcc", kconfig or "defconfig")


def _module() -> Any:
    try:
        import tuxmake.build
    except ImportError:
        raise BadInput(
            "--build", "tuxmake is not installed (pip install 'series-tool[tuxmake]')"
        ) from None
    return tuxmake.build


def check_spec(spec: TuxmakeSpec) -> None:
    """Let tuxmake itself say whether it knows the architecture, toolchain and their
    pair (its constructor validates without building)."""
    module = _module()
    import tuxmake.exceptions

    try:
        module.Build(
            target_arch=spec.arch,
            toolchain=spec.toolchain,
            kconfig=spec.kconfig,
            runtime="null",
        )
    except tuxmake.exceptions.TuxMakeException as exc:
        raise BadInput("--build", f"tuxmake: {exc}") from None


def tuxmake_build(
    an: Analysis,
    spec: TuxmakeSpec,
    jobs: int,
    progress: Callable[[str], None] | None = None,
    targets: list[str] | None = None,
    final_only: bool = False,
) -> dict[str, Any]:
    """Build every step (or the base and the last, `final_only`) with tuxmake; the same
    shape as `kernel_build`: per-step results in "steps", the configuration, nothing in
    "not_built" (a full build builds everything its configuration enables)."""
    module = _module()
    say = progress or (lambda _msg: None)
    ledger = Ledger(an)
    paths = an.touched()
    steps = [an.steps[0], an.steps[-1]] if final_only and len(an.steps) > 1 else an.steps
    results: dict[int, dict[str, Any]] = {}
    arch_name = spec.arch or "native"
    config: dict[str, Any] = {
        "arch": arch_name,
        "tool": "tuxmake",
        "toolchain": spec.toolchain,
        "kconfig": spec.kconfig,
        "runtime": "null",
        "ok": True,
        "enabled": [],
        "not_enabled": {},
        "seconds": 0.0,
        "log_tail": "",
    }
    base_failed = False
    with scratch_tree(an, threading.Lock()) as scratch:
        build_dir = scratch.tmp / "build"
        build_dir.mkdir()
        roots = (str(scratch.tree) + "/", str(build_dir) + "/")
        written: dict[str, str | None] = {}
        for st in steps:
            write_step(scratch.tree, paths, an.read_at(st.index), written)
            out = scratch.tmp / f"step-{st.index}"
            say(f"tuxmake {spec.label()} after {step_label(st)}")
            started = time.monotonic()
            build = module.Build(
                tree=str(scratch.tree),
                output_dir=str(out),
                build_dir=str(build_dir),
                target_arch=spec.arch,
                toolchain=spec.toolchain,
                kconfig=spec.kconfig,
                targets=targets,
                runtime="null",
                jobs=jobs,
                quiet=True,
            )
            # tuxmake's own name for the architecture it builds ("native" resolved).
            arch_name = str(getattr(build.target_arch, "name", arch_name))
            config["arch"] = arch_name
            build.run()
            seconds = time.monotonic() - started
            statuses = {name: info.status for name, info in build.status.items()}
            log = _read(out / "build.log")
            rows = ledger.rows(st, arch_name, log, roots, tool="tuxmake")
            failed = bool(build.failed)
            if st.index == 0:
                base_failed = failed
                config["ok"] = statuses.get("config") == "PASS"
                config["seconds"] = round(seconds, 1)
                if not config["ok"]:
                    config["log_tail"] = log[-4000:]
            built = {arch_name: [n for n, s in statuses.items() if s != "SKIP"]}
            result = step_result(
                st.index,
                rows,
                built,
                seconds,
                {arch_name: round(seconds, 1)},
                failed=failed and (st.index == 0 or not base_failed),
            )
            result["targets"] = statuses
            if failed and not result["errors"] and (st.index == 0 or not base_failed):
                # A target failed without a compiler diagnostic (a link error, a missing
                # artifact): its log is the evidence.
                result["log_tail"] = log[-4000:]
            results[st.index] = result
            say(f"tuxmake after {step_label(st)}: {result['status']} ({seconds:.1f} s)")
            shutil.rmtree(out, ignore_errors=True)  # artifacts: the report keeps the log
    return {"steps": results, "configurations": [config], "not_built": [], "why": {}}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""

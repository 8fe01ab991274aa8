"""`--build kernel`: build, per step and architecture, exactly the objects the step can break.

The objects of a step (build/plan.py) are the .c files it touches, the .c files that
use the symbols, members, macros or headers it changes, and those compiling a header
that uses them. Each architecture gets one
configuration (defconfig or --kconfig, plus the CONFIG_ options those objects need) and
one O= build folder beside a temporary worktree, reused across the steps so kbuild
recompiles only what changed. gcc's diagnostics are mapped to the step, the function and
the reference; errors already there at the base are base problems, reported once.
"""

from __future__ import annotations

import os
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from series_tool.checks import Analysis, object_of, where_built
from series_tool.models import Finding

from .diagnostics import failed_objects
from .kbuild import Configured, Makefiles, configure, make_argv
from .ledger import Ledger, line_of, step_label, step_result
from .plan import KernelOptions, Plan, last_index, plan_objects
from .process import Runner, forwarding_signals, tail
from .worktrees import scratch_tree, set_sparse, write_step

LOG_TAIL_LINES = 30


class _Rules:
    """The kbuild rules an object is built by: the base tree's, or for a file the series
    creates, the last step's; each Makefile read once."""

    def __init__(self, an: Analysis) -> None:
        self.base = an.read_at(0)
        self.at_base = Makefiles(self.base)
        self.at_last = Makefiles(an.read_at(last_index(an)))

    def of(self, path: str) -> Makefiles:
        return self.at_base if self.base(path) is not None else self.at_last


def _wanted_configs(
    an: Analysis, rules: _Rules, plan: Plan, arch: str, users: set[tuple[int, str, int]]
) -> list[str]:
    """CONFIG_ options (no prefix) the architecture's objects need: their Makefile rules
    and the plain `#ifdef CONFIG_X` guards around the references that make them built."""
    wanted: list[str] = []
    paths = sorted({p for per in plan.objects.values() for p in per.get(arch, [])})
    for path in paths:
        for c in rules.of(path).configs(path):
            if c not in wanted:
                wanted.append(c)
    for index, file, line in sorted({u for u in users if u[1] in paths}):
        _, guards = where_built(file, line, an.read_at(index))
        for g in guards:
            name = g.removeprefix("CONFIG_")
            if g.startswith("CONFIG_") and name.isidentifier() and name not in wanted:
                wanted.append(name)
    return wanted


@dataclass
class ArchBuild:
    """One architecture's configured build folder."""

    conf: Configured
    unbuildable: dict[str, str]  # object -> why it is not built (config not enabled)


def _enabled(conf: Configured, path: str, rules: _Rules) -> str | None:
    """None when the object's Makefile options are on in this configuration, else why not."""
    makefiles = rules.of(path)
    if not makefiles.builds(path):
        return f"{posixpath.dirname(path) or '.'}/Makefile does not build {object_of(path)}"
    off = [c for c in makefiles.configs(path) if c not in conf.enabled]
    if not off:
        return None
    reasons = [f"CONFIG_{c}: {conf.failed.get(c, 'not enabled')}" for c in off]
    return "could not be enabled: " + "; ".join(reasons)


def kernel_build(
    an: Analysis,
    opts: KernelOptions,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Configure and build every step's objects; the report's "kernel_build" part and the
    per-step results (`steps`: index -> build dict as bisect-report shows it)."""
    plan = plan_objects(an, opts)
    say = progress or (lambda _msg: None)
    runner = Runner(timeout=opts.step_timeout)
    ledger = Ledger(an)
    rules = _Rules(an)
    env = dict(os.environ, LC_ALL="C")  # ASCII quotes in gcc's messages
    arches = sorted({a for per in plan.objects.values() for a in per})
    results: dict[int, dict[str, Any]] = {}
    configured: dict[str, dict[str, Any]] = {}
    paths = an.touched()
    sparse = sparse_patterns(plan) if opts.sparse else None
    with forwarding_signals(runner), scratch_tree(an, threading.Lock(), sparse) as scratch:
        roots = (str(scratch.tree) + "/", str(scratch.tmp) + "/")
        builds: dict[str, ArchBuild] = {}
        for arch in arches:
            tc = plan.toolchains[arch]
            wanted = _wanted_configs(an, rules, plan, arch, ledger.refs.code)
            say(f"configuring {arch} ({opts.kconfig}, {len(wanted)} options to enable)")
            log = scratch.tmp / f"configure-{arch}.log"
            conf = configure(
                runner,
                scratch.tree,
                tc,
                scratch.tmp / f"build-{arch}",
                opts.kconfig,
                wanted,
                opts.jobs,
                env,
                log,
            )
            if runner.stopping.is_set():
                raise KeyboardInterrupt
            objs = sorted({p for per in plan.objects.values() for p in per.get(arch, [])})
            unbuildable = {p: r for p in objs if (r := _enabled(conf, p, rules))}
            builds[arch] = ArchBuild(conf, unbuildable)
            configured[arch] = {
                "arch": arch,
                "cross_compile": tc.cross_compile,
                "kconfig": opts.kconfig,
                "ok": conf.ok,
                "enabled": [w for w in wanted if w in conf.enabled],
                "not_enabled": conf.failed,
                "seconds": round(conf.seconds, 1),
                "cpu_seconds": round(conf.cpu_seconds, 1),
                "log_tail": "" if conf.ok else tail(log, LOG_TAIL_LINES),
            }
            for p, r in unbuildable.items():
                plan.not_built.append({"file": p, "arch": arch, "reason": r})
        written: dict[str, str | None] = {}
        base_failed: dict[str, set[str]] = {}  # arch -> objects that do not build at the base
        # arch -> objects whose build failed at an earlier step: rebuilt at every later step
        # until they build again, because the tree there is just as broken.
        failing: dict[str, set[str]] = {}
        queue = [st for st in an.steps if st.index in plan.objects or not opts.final_only]
        at = 0
        while at < len(queue):
            st = queue[at]
            at += 1
            write_step(scratch.tree, paths, an.read_at(st.index), written)
            read = an.read_at(st.index)
            step_diags: list[dict[str, Any]] = []
            built: dict[str, list[str]] = {}
            seconds = cpu = 0.0
            per_arch: dict[str, float] = {}
            stopped = None
            planned = plan.objects.get(st.index, {})
            for arch in sorted(set(planned) | {a for a, objs in failing.items() if objs}):
                ab = builds[arch]
                if not ab.conf.ok:
                    continue
                objs = planned.get(arch, [])
                carried = [p for p in sorted(failing.get(arch, ())) if p not in objs]
                todo = [
                    p for p in [*objs, *carried] if p not in ab.unbuildable and read(p) is not None
                ]
                if not todo:
                    continue
                log = scratch.tmp / f"step-{st.index}-{arch}.log"
                argv = make_argv(ab.conf.toolchain, ab.conf.outdir, opts.jobs)
                done = runner.run([*argv, *map(object_of, todo)], scratch.tree, log, env)
                if done.interrupted:
                    raise KeyboardInterrupt
                seconds += done.seconds
                cpu += done.cpu_seconds
                per_arch[arch] = round(done.seconds, 1)
                if done.timed_out:
                    stopped = "timeout"
                text = log.read_text(errors="replace")
                built[arch] = todo
                step_diags.extend(ledger.rows(st, arch, text, roots))
                broken = set(failed_objects(text))
                if st.index == 0:
                    base_failed[arch] = {p for p in todo if object_of(p) in broken}
                else:
                    failing[arch] = {
                        p
                        for p in todo
                        if object_of(p) in broken and p not in base_failed.get(arch, set())
                    }
            result = step_result(st.index, step_diags, built, seconds, per_arch, stopped)
            result["cpu_seconds"] = round(cpu, 1)
            if st.index == 0 and sparse is not None and _missing_file(result["errors"]):
                # The sparse worktree lacked a file some object includes: widen it to the
                # whole tree (nothing is written yet at the base) and build the base again.
                say("a file outside the sparse worktree is needed: checking out the whole tree")
                set_sparse(scratch.tree, ["/*"])
                sparse = None
                ledger.reset()
                at -= 1
                continue
            results[st.index] = result
            n = sum(len(v) for v in built.values())
            say(f"build after {step_label(st)}: {result['status']} ({n} objects, {seconds:.1f} s)")
    return {
        "steps": results,
        "configurations": list(configured.values()),
        "not_built": plan.not_built,
        "why": plan.why,
    }


def _missing_file(errors: list[dict[str, Any]]) -> bool:
    return any(str(d["message"]).endswith("No such file or directory") for d in errors)


#: What kbuild reads to configure and prepare any architecture: the top-level files,
#: headers, scripts and host tools, and every Kconfig and Makefile (Kconfig sources them
#: from everywhere). The objects' own directories are added per run.
SPARSE_BASE = [
    "/*",
    "!/*/",
    "/include/",
    "/scripts/",
    "/tools/",
    # perf and the selftests are most of tools/ and no part of a kernel build.
    "!/tools/perf/",
    "!/tools/testing/",
    "/kernel/",
    "/init/",
    "/usr/",
    "/certs/",
    "/security/",
    "Kconfig*",
    "Makefile*",
    "Kbuild*",
]


def sparse_patterns(plan: Plan) -> list[str]:
    """The sparse worktree for a plan: kbuild's own files, each architecture's arch/
    folder, and each object's folder with its parent (for `#include "../x.h"`)."""
    out = list(SPARSE_BASE)
    arches = {a for per in plan.objects.values() for a in per}
    out.extend(f"/arch/{a}/" for a in sorted(arches))
    dirs: set[str] = set()
    for per in plan.objects.values():
        for objs in per.values():
            for path in objs:
                d = posixpath.dirname(path)
                parent = posixpath.dirname(d)
                dirs.add(parent if parent and parent != "arch" else d)
    out.extend(f"/{d}/" for d in sorted(dirs) if d)
    return out


def build_findings(an: Analysis, result: dict[str, Any]) -> list[Finding]:
    """verify's findings from a `final_only` kernel build: each error the series brings is
    an error, each new warning a warning, each object not built an info (with why)."""
    out: list[Finding] = []
    last = an.steps[-1].patch
    number = last.number if last is not None else None
    final = result["steps"].get(last_index(an), {})
    for kind, severity in (("errors", "error"), ("new_warnings", "warning")):
        for d in final.get(kind, []):
            out.append(
                Finding(
                    severity,  # type: ignore[arg-type]
                    f"build-{severity}",
                    f"{d['arch']}: {line_of(d)}",
                    number,
                    d["file"],
                    d["line"],
                    d["function"],
                )
            )
    for n in result["not_built"]:
        out.append(Finding("info", "not-built", f"{n['arch']}: {n['reason']}", None, n["file"]))
    return out

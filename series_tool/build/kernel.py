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
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from series_tool.checks import Analysis, Step, object_of, where_built
from series_tool.models import CODE_KINDS, Finding, Reference
from series_tool.replay import touched_paths

from .diagnostics import Diagnostic, failed_objects, missing_targets, parse_log
from .kbuild import Configured, Makefiles, configure, make_argv
from .plan import KernelOptions, Plan, last_index, plan_objects
from .process import Runner, forwarding_signals, tail
from .worktrees import scratch_tree, set_sparse, write_step

LOG_TAIL_LINES = 30


def _step(an: Analysis, index: int) -> Step:
    """The step numbered `index` (the steps may be a subset: rewrite --check builds some)."""
    return next(st for st in an.steps if st.index == index)


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


class _RefLines:
    """The analysis' first reference on each (file, line) at a step, for the diagnostics,
    and the (step, file, line) of every code reference, for the #ifdef guards. The files
    the series does not touch read the same at every step: their references are walked
    once (the base step's), the touched files' once per step that asks."""

    def __init__(self, an: Analysis, touched: set[str]) -> None:
        self.fixed: dict[tuple[str, int], Reference] = {}
        self.code: set[tuple[int, str, int]] = set()
        if an.steps:
            for r in an.steps[0].refs:
                if r.file not in touched:
                    self.fixed.setdefault((r.file, r.line), r)
                    if r.kind in CODE_KINDS:
                        self.code.add((0, r.file, r.line))
        for st in an.steps:
            for r in st.touched_refs():
                if r.kind in CODE_KINDS:
                    self.code.add((st.index if r.file in touched else 0, r.file, r.line))

    def at(self, step: Step) -> Mapping[tuple[str, int], Reference]:
        """(file, line) -> the step's first reference there."""
        touched: dict[tuple[str, int], Reference] = {}
        for r in step.touched_refs():
            touched.setdefault((r.file, r.line), r)
        return ChainMap(touched, self.fixed)


def _reference_at(
    an: Analysis, index: int, d: Diagnostic, at_line: Mapping[tuple[str, int], Reference]
) -> dict[str, Any] | None:
    """What on the diagnostic's line the step is answerable for: the analysis' reference
    to a symbol of the series there (`at_line`: `_RefLines.at` the step), else the line
    itself when the step's patch wrote it."""
    step = _step(an, index)
    r = at_line.get((d.file, d.line))
    if r is not None:
        return {"symbol": r.symbol, "kind": r.kind, "text": r.text.strip()}
    patch = step.patch
    text = an.read_at(index)(d.file)
    lines = text.splitlines() if text is not None else []
    if patch is None or not 0 < d.line <= len(lines):
        return None
    # By content, not by the hunk's line number: the hunk may have applied with an offset.
    here = lines[d.line - 1].strip()
    for fd in patch.files:
        if fd.path == d.file and any(
            hl.kind == "+" and hl.text.strip() == here for h in fd.hunks for hl in h.lines
        ):
            return {"symbol": None, "kind": "changed-line", "text": here}
    return None


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
    touched = set(touched_paths(an.series.patches))
    ref_lines = _RefLines(an, touched)
    rules = _Rules(an)
    env = dict(os.environ, LC_ALL="C")  # ASCII quotes in gcc's messages
    arches = sorted({a for per in plan.objects.values() for a in per})
    results: dict[int, dict[str, Any]] = {}
    configured: dict[str, dict[str, Any]] = {}
    paths = touched_paths(an.series.patches)
    sparse = sparse_patterns(plan) if opts.sparse else None
    with forwarding_signals(runner), scratch_tree(an, threading.Lock(), sparse) as scratch:
        roots = (str(scratch.tree) + "/", str(scratch.tmp) + "/")
        builds: dict[str, ArchBuild] = {}
        for arch in arches:
            tc = plan.toolchains[arch]
            wanted = _wanted_configs(an, rules, plan, arch, ref_lines.code)
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
                "log_tail": "" if conf.ok else tail(log, LOG_TAIL_LINES),
            }
            for p, r in unbuildable.items():
                plan.not_built.append({"file": p, "arch": arch, "reason": r})
        written: dict[str, str | None] = {}
        seen_warnings: set[tuple[Any, ...]] = set()
        base_errors: set[tuple[Any, ...]] = set()
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
            if st.patch is None:
                label = "the base"
            elif st.patch.number is not None:
                label = f"patch {st.patch.number}"
            else:
                label = f"step {st.index}"  # an unnumbered [PATCH]
            step_diags: list[dict[str, Any]] = []
            built: dict[str, list[str]] = {}
            seconds = 0.0
            per_arch: dict[str, float] = {}
            stopped = None
            planned = plan.objects.get(st.index, {})
            at_line: Mapping[tuple[str, int], Reference] | None = None
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
                per_arch[arch] = round(done.seconds, 1)
                if done.timed_out:
                    stopped = "timeout"
                text = log.read_text(errors="replace")
                built[arch] = todo
                entries: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
                for miss in missing_targets(text):
                    message = f"kbuild has no rule for {miss}"
                    entries.append(
                        (
                            (arch, miss, None, "error", message, None),
                            {"file": miss, "line": None, "col": None, "severity": "error"}
                            | {"message": message, "option": None, "function": None}
                            | {"arch": arch, "reference": None},
                        )
                    )
                for d in parse_log(text, roots):
                    if at_line is None:
                        at_line = ref_lines.at(st)
                    ref = _reference_at(an, st.index, d, at_line)
                    hit = at_line.get((d.file, d.line))
                    function = d.function or (hit.function if hit is not None else None)
                    entries.append(
                        (
                            (arch, *d.key()),
                            {**d.to_dict(), "function": function, "arch": arch, "reference": ref},
                        )
                    )
                for key, row in entries:
                    if st.index == 0:
                        row["new"] = True
                        (base_errors if row["severity"] == "error" else seen_warnings).add(key)
                    elif row["severity"] == "error":
                        row["new"] = key not in base_errors  # errors count at every step
                    else:
                        row["new"] = key not in seen_warnings  # a warning is news once
                        seen_warnings.add(key)
                    step_diags.append(row)
                broken = set(failed_objects(text))
                if st.index == 0:
                    base_failed[arch] = {p for p in todo if object_of(p) in broken}
                else:
                    failing[arch] = {
                        p
                        for p in todo
                        if object_of(p) in broken and p not in base_failed.get(arch, set())
                    }
            new_errors = [d for d in step_diags if d["severity"] == "error" and d["new"]]
            if st.index == 0 and sparse is not None and _missing_file(new_errors):
                # The sparse worktree lacked a file some object includes: widen it to the
                # whole tree (nothing is written yet at the base) and build the base again.
                say("a file outside the sparse worktree is needed: checking out the whole tree")
                set_sparse(scratch.tree, ["/*"])
                sparse = None
                seen_warnings.clear()
                base_errors.clear()
                at -= 1
                continue
            if stopped:
                status = stopped
            elif st.index == 0:
                status = "base-errors" if new_errors else "passed"
            else:
                status = "failed" if new_errors else "passed"
            if not built and stopped is None:
                status = "skipped"
            results[st.index] = {
                "status": status,
                "code": None,
                "seconds": round(seconds, 1),
                "seconds_by_arch": per_arch,
                "objects": built,
                "errors": new_errors,
                "new_warnings": [
                    d for d in step_diags if d["severity"] == "warning" and d["new"] and st.index
                ],
                "base_problems": step_diags if st.index == 0 else [],
                "log_tail": "\n".join(_line(d) for d in new_errors)[-4000:],
            }
            n = sum(len(v) for v in built.values())
            say(f"build after {label}: {status} ({n} objects, {seconds:.1f} s)")
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


def _line(d: dict[str, Any]) -> str:
    where = f"{d['file']}:{d['line']}" + (f":{d['col']}" if d.get("col") else "")
    opt = f" [{d['option']}]" if d.get("option") else ""
    return f"{where}: {d['severity']}: {d['message']}{opt}"


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
                    f"{d['arch']}: {_line(d)}",
                    number,
                    d["file"],
                    d["line"],
                    d["function"],
                )
            )
    for n in result["not_built"]:
        out.append(Finding("info", "not-built", f"{n['arch']}: {n['reason']}", None, n["file"]))
    return out

"""The per-step build results every kind of build reports the same way.

gcc's diagnostics out of a log (kbuild's, tuxmake's, a TuxSuite build's) are mapped to
the step, the function and the analysis' reference on their line; an error already there
at the base is a base problem, reported once, and a warning is news the first time it
appears. `--build kernel`, `--build tuxmake` and `--tuxsuite-results` all fill one
`Ledger`, so bisect-report reads their results alike.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from series_tool.checks import Analysis, Step
from series_tool.models import CODE_KINDS, Reference

from .diagnostics import Diagnostic, missing_targets, parse_log

Key = tuple[Any, ...]


class RefLines:
    """The analysis' first reference on each (file, line) at a step, for the diagnostics,
    and the (step, file, line) of every code reference, for the #ifdef guards. The files
    the series does not touch read the same at every step: their references are walked
    once (the base step's), the touched files' once per step that asks."""

    def __init__(self, an: Analysis) -> None:
        touched = set(an.touched())
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


def reference_at(
    an: Analysis, step: Step, d: Diagnostic, at_line: Mapping[tuple[str, int], Reference]
) -> dict[str, Any] | None:
    """What on the diagnostic's line the step is answerable for: the analysis' reference
    to a symbol of the series there (`at_line`: `RefLines.at` the step), else the line
    itself when the step's patch wrote it."""
    r = at_line.get((d.file, d.line))
    if r is not None:
        return {"symbol": r.symbol, "kind": r.kind, "text": r.text.strip()}
    patch = step.patch
    text = an.read_at(step.index)(d.file)
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


def line_of(d: dict[str, Any]) -> str:
    """A diagnostic row as gcc prints it."""
    where = f"{d['file']}:{d['line']}" + (f":{d['col']}" if d.get("col") else "")
    opt = f" [{d['option']}]" if d.get("option") else ""
    return f"{where}: {d['severity']}: {d['message']}{opt}"


def step_label(st: Step) -> str:
    """How progress lines name a step."""
    if st.patch is None:
        return "the base"
    if st.patch.number is not None:
        return f"patch {st.patch.number}"
    return f"step {st.index}"  # an unnumbered [PATCH]


class Ledger:
    """Which diagnostics are news at which step, across the steps of one build kind."""

    def __init__(self, an: Analysis, refs: RefLines | None = None) -> None:
        self.an = an
        self.refs = refs or RefLines(an)
        self.base_errors: set[Key] = set()
        self.seen_warnings: set[Key] = set()

    def reset(self) -> None:
        """Forget the base (it is built again)."""
        self.base_errors.clear()
        self.seen_warnings.clear()

    def rows(
        self, st: Step, arch: str, text: str, roots: tuple[str, ...], tool: str = "kbuild"
    ) -> list[dict[str, Any]]:
        """The diagnostics of one build log at a step, each marked `new` or not."""
        entries: list[tuple[Key, dict[str, Any]]] = []
        for miss in missing_targets(text):
            message = f"{tool} has no rule for {miss}"
            entries.append(
                (
                    (arch, miss, None, "error", message, None),
                    {"file": miss, "line": None, "col": None, "severity": "error"}
                    | {"message": message, "option": None, "function": None}
                    | {"arch": arch, "reference": None},
                )
            )
        at_line: Mapping[tuple[str, int], Reference] | None = None
        for d in parse_log(text, roots):
            if at_line is None:
                at_line = self.refs.at(st)
            ref = reference_at(self.an, st, d, at_line)
            hit = at_line.get((d.file, d.line))
            function = d.function or (hit.function if hit is not None else None)
            entries.append(
                (
                    (arch, *d.key()),
                    {**d.to_dict(), "function": function, "arch": arch, "reference": ref},
                )
            )
        return [self.mark(st.index, key, row) for key, row in entries]

    def mark(self, index: int, key: Key, row: dict[str, Any]) -> dict[str, Any]:
        """Set row["new"]: at the base everything is; later, an error unless the base had
        it (errors count at every step), a warning the first time it is seen."""
        if index == 0:
            row["new"] = True
            (self.base_errors if row["severity"] == "error" else self.seen_warnings).add(key)
        elif row["severity"] == "error":
            row["new"] = key not in self.base_errors
        else:
            row["new"] = key not in self.seen_warnings
            self.seen_warnings.add(key)
        return row


def step_result(
    index: int,
    rows: list[dict[str, Any]],
    built: dict[str, list[str]],
    seconds: float,
    per_arch: dict[str, float],
    stopped: str | None = None,
    failed: bool = False,
) -> dict[str, Any]:
    """One step's build dict as bisect-report shows it. `failed`: the build says it
    failed even where no diagnostic was read (a TuxSuite result without its log)."""
    new_errors = [d for d in rows if d["severity"] == "error" and d["new"]]
    broken = bool(new_errors) or failed
    if stopped:
        status = stopped
    elif index == 0:
        status = "base-errors" if broken else "passed"
    else:
        status = "failed" if broken else "passed"
    if not built and stopped is None:
        status = "skipped"
    return {
        "status": status,
        "code": None,
        "seconds": round(seconds, 1),
        "seconds_by_arch": per_arch,
        "objects": built,
        "errors": new_errors,
        "new_warnings": [d for d in rows if d["severity"] == "warning" and d["new"] and index],
        "base_problems": rows if index == 0 else [],
        "log_tail": "\n".join(line_of(d) for d in new_errors)[-4000:],
    }

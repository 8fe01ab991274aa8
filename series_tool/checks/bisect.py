"""Checks for `bisect-report`: is the tree after every patch safe to land on and bisect through?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from series_tool.models import kind_phrase

from .analysis import USE_KINDS, Analysis, Step
from .guards import GuardMemo, arch_of, where_built
from .problems import place, unsafe_at
from .signatures import signature_findings
from .verify import missing_findings


def _problem(
    code: str,
    message: str,
    read: Callable[[str], str | None] | None,
    symbol: str | None = None,
    file: str | None = None,
    line: int | None = None,
    function: str | None = None,
    memo: GuardMemo | None = None,
) -> dict[str, Any]:
    arch: str | None = None
    configs: list[str] = []
    if file is not None and line is not None and read is not None:
        arch, configs = where_built(file, line, read, memo)
    elif file is not None:
        arch = arch_of(file)
    return {
        "severity": "error",
        "code": code,
        "symbol": symbol,
        "file": file,
        "line": line,
        "function": function,
        "arch": arch,
        "configs": configs,
        "message": message,
    }


def step_problems(an: Analysis, st: Step, memo: GuardMemo | None = None) -> list[dict[str, Any]]:
    """Why the tree after this step may not build (empty when it is safe). ``memo``, kept
    across the steps of a series, parses each file text once however many of its lines
    are named (see :class:`GuardMemo`)."""
    assert st.patch is not None
    memo = memo if memo is not None else GuardMemo()
    p = st.patch
    read = None if an.series_only else an.read_at(st.index)
    out: list[dict[str, Any]] = []
    if p.error:
        out.append(_problem("bad-patch", f"{p.label} is broken: {p.error}", None))
    if st.apply is not None:
        for h in st.apply.hunks:
            if h.status == "failed":
                out.append(
                    _problem("apply-failed", h.message or "hunk does not apply", None, file=h.file)
                )
    for u in unsafe_at(an, st):
        r = u.ref
        what = kind_phrase(r.kind)
        if u.code == "removed-while-referenced":
            msg = (
                f"{u.symbol} is gone after patch {p.number} (removed by patch {u.removed_in}) "
                f"but {place(r)} still has {what}: {r.text.strip()}{u.note}"
            )
        else:
            intro = u.introduced_in
            later = f" (patch {intro} introduces it)" if intro and intro != p.number else ""
            msg = f"{place(r)} uses {u.symbol} ({what}), which nothing defines at this step{later}"
        out.append(_problem(u.code, msg, read, u.symbol, r.file, r.line, r.function, memo))
    for f in signature_findings(an):
        if f.patch == p.number and f.severity in ("error", "review"):
            problem = _problem(f.code, f.message, read, None, f.file, f.line, f.function, memo)
            problem["severity"] = f.severity
            out.append(problem)
    return out


def reference_counts(an: Analysis, st: Step) -> dict[str, int]:
    """Code uses of each old and new symbol at this step: the migration's progress."""
    # Only tracked symbols were looked for in the whole tree (an existing function a
    # conversion switches to was not: a count of it would be wrong).
    tracked = set(an.tracked)
    symbols = [s for s in [*an.migration.old, *an.migration.new] if s in tracked]
    return {s: st.count(s, USE_KINDS) for s in symbols}


def bisect_report(an: Analysis, builds: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The bisect report (JSON shape of the issue). `builds` maps step index -> build result."""
    steps: list[dict[str, Any]] = []
    skipped = {"status": "skipped", "log_tail": ""}
    base_build = (builds or {}).get(0, skipped)
    # A build that fails on the base too is not the series' doing: it cannot make a step
    # unsafe (the report says so once, above the steps).
    builds_count = base_build["status"] != "failed"
    memo = GuardMemo()
    for st in an.steps[1:]:
        assert st.patch is not None
        problems = step_problems(an, st, memo)
        build = (builds or {}).get(st.index, skipped)
        blocking = [q for q in problems if q["severity"] == "error"]  # not "review" items
        # A build stopped by --step-timeout proves nothing either way: not called safe.
        broken = build["status"] == "timeout" or (builds_count and build["status"] == "failed")
        safe = not blocking and not broken
        steps.append(
            {
                "patch": st.patch.number,
                "subject": st.patch.subject,
                "apply": st.apply.status if st.apply else "unknown",
                "safe": safe,
                "references": reference_counts(an, st),
                "problems": problems,
                "build": build,
            }
        )
    # The series as a whole: an incomplete numbered series is an error here as in verify.
    series_findings = [f.to_dict() for f in missing_findings(an)]
    complete = not any(f["severity"] == "error" for f in series_findings)
    return {
        "ok": complete and all(s["safe"] for s in steps),
        "findings": series_findings,
        "series": an.series.to_dict(),
        "tree": an.tree_dict(),
        "migration": an.migration.to_dict(),
        "notes": [
            # missing patches are `findings` (errors), named there once
            *(f["message"] for f in series_findings if f["severity"] != "error"),
            *(n for n in (an.base_note(), an.dirty_note()) if n),
            *(f"{path}: {why}" for path, why in sorted(an.unparsed.items())),
            *(
                [
                    "no tree was checked (series-only): counts and problems cover only what the "
                    "patches show; run it in your checkout or pass --repo"
                ]
                if an.series_only
                else []
            ),
        ],
        "base_references": reference_counts(an, an.steps[0]),
        "base_build": base_build,
        "steps": steps,
    }

"""Checks for `verify`: is every reference to an old symbol gone when its removal lands?"""

from __future__ import annotations

from typing import Any

from series_tool.ingest import CoverSummary, functions_named, summarise
from series_tool.model import count_kinds, is_c_path, is_header
from series_tool.models import Finding, Reference, Severity, kind_phrase

from .analysis import Analysis, Step, is_file_itself
from .problems import (
    Unsafe,
    leftover_definition,
    member_elsewhere,
    other_entity_macro,
    place,
    unsafe_at,
)
from .signatures import signature_findings

#: Kinds reported as warnings when they remain (text, not code).
TEXT_KINDS = frozenset({"comment", "documentation", "string"})


def apply_findings(an: Analysis) -> list[Finding]:
    """Broken patches and hunks that did not apply cleanly."""
    out: list[Finding] = []
    for st in an.steps[1:]:
        p = st.patch
        assert p is not None
        if p.error:
            out.append(Finding("error", "bad-patch", f"{p.label} is broken: {p.error}", p.number))
        if st.apply is None:
            continue
        for h in st.apply.hunks:
            if h.status == "failed":
                out.append(
                    Finding(
                        "error",
                        "apply-failed",
                        h.message or "hunk does not apply",
                        p.number,
                        h.file,
                    )
                )
            elif h.status == "fuzz":
                out.append(
                    Finding(
                        "warning",
                        "apply-fuzz",
                        f"hunk {h.hunk_index + 1} of {h.file} applies only with fuzz {h.fuzz} "
                        "(GNU patch takes it; git am, which allows no fuzz, would stop here)"
                        + (f" at offset {h.offset}" if h.offset else ""),
                        p.number,
                        h.file,
                    )
                )
    return out


def missing_findings(an: Analysis) -> list[Finding]:
    """Missing patches, named from the cover letter's shortlog and diffstat when it has them."""
    series = an.series
    cover = summarise(series.cover.body) if series.cover else CoverSummary()
    touched = {fd.path for p in series.patches for fd in p.files}
    untouched = [f for f in cover.files if f not in touched and not f.startswith("...")]
    symbols = set(an.tracked)
    out: list[Finding] = []
    for n in series.missing:
        subject = cover.subject_of(n)
        message = f"patch {n} of the series is missing"
        function = None
        if subject:
            message += f"; the cover letter lists it as {subject!r}"
            function = next((f for f in functions_named(subject) if f not in symbols), None)
        file = untouched[0] if len(series.missing) == 1 and len(untouched) == 1 else None
        if untouched and n == series.missing[0]:  # said once, not with every missing patch
            message += "; the cover's diffstat names files no patch here touches: " + ", ".join(
                untouched
            )
        out.append(Finding("error", "missing-patch", message, n, file, None, function))
    # Renumbered or not, a shortlog subject that no patch carries is a patch left out
    # (only judged when the shortlog names every patch that is here).
    have = {" ".join(p.subject.split()) for p in series.patches}
    listed = [" ".join(x.split()) for x in cover.subjects]
    if listed and have <= set(listed) and not series.missing:
        for subject in listed:
            if subject not in have:
                fn = next((f for f in functions_named(subject) if f not in symbols), None)
                out.append(
                    Finding(
                        "warning",
                        "cover-lists-absent-patch",
                        f"the cover letter lists {subject!r}, but no patch here has that subject",
                        function=fn,
                    )
                )
    return out


def _about(severity: Severity, code: str, message: str, st: Step, r: Reference) -> Finding:
    """A finding about reference `r` at step `st`: its patch, file, line and function."""
    return Finding(
        severity, code, message, st.patch.number if st.patch else None, r.file, r.line, r.function
    )


def _mention_findings(
    symbol: str, refs: list[Reference], at: Step, removed_in: int | None
) -> list[Finding]:
    """Warnings for text (comments, documentation, strings) that still names a removed old
    symbol at step `at` (the removal step, or the end of the series)."""
    if removed_in is None:
        return []
    return [
        _about(
            "warning",
            "old-symbol-mentioned",
            f"{symbol} is removed by patch {removed_in} but {place(r)} still mentions "
            f"it ({r.kind}): {r.text.strip()}",
            at,
            r,
        )
        for r in refs
        if r.kind in TEXT_KINDS
    ]


def _macro_findings(
    an: Analysis, symbol: str, macros: list[Reference], st: Step, removed_in: int | None
) -> list[Finding]:
    """Warnings for `#define NAME` lines of another entity than the removed `symbol`."""
    what = "/".join(sorted(an.roles.get(symbol, frozenset()))) or "symbol"
    return [
        _about(
            "warning",
            "same-name-macro",
            f"{symbol} is removed by patch {removed_in} (a {what}), and {place(r)} "
            f"#defines a macro of that name: another entity, not a use of it "
            f"(uses of {symbol} that see this macro are the macro's): {r.text.strip()}",
            st,
            r,
        )
        for r in macros
    ]


def unsafe_finding(u: Unsafe, st: Step) -> Finding:
    """The verify finding for one reason a step does not build (see problems.unsafe_at)."""
    patch = st.patch.number if st.patch else None
    r = u.ref
    if u.code == "removed-while-referenced":
        after = "" if patch == u.removed_in else f" after patch {patch}"
        return _about(
            "error",
            "old-symbol-still-used",
            f"{u.symbol} is removed by patch {u.removed_in} but {place(r)} still has "
            f"{kind_phrase(r.kind)}{after}: {r.text.strip()}{u.note}",
            st,
            r,
        )
    later = (
        f"patch {u.introduced_in} introduces later"
        if u.introduced_in is not None and u.introduced_in != patch
        else "nothing defines at that step"
    )
    return _about(
        "error",
        "used-before-introduced",
        f"after patch {patch}, {place(r)} uses {u.symbol} ({kind_phrase(r.kind)}), which {later}",
        st,
        r,
    )


def verify_report(an: Analysis) -> dict[str, Any]:
    """The verify report (JSON shape of the issue) with its findings."""
    mig = an.migration
    findings = [*apply_findings(an), *missing_findings(an)]
    if an.series_only:
        findings.append(
            Finding(
                "info",
                "series-only",
                "no tree: only call sites visible in the series itself are known; run inside "
                "the kernel checkout or pass --repo to check the whole tree",
            )
        )
    if not mig.old and not an.prototype_changes:
        findings.append(
            Finding(
                "warning",
                "no-migration",
                "no old symbol found: no patch removes a C definition, declaration or macro "
                "without adding it back (use --old/--new to say what migrates)",
            )
        )
    findings.extend(_unknown_symbols(an))
    if (note := an.base_note()) is not None:
        findings.append(Finding("info", "base-commit-absent", note))
    if (note := an.dirty_note()) is not None:
        findings.append(Finding("info", "dirty-worktree", note))
    # A file diff over the per-file limit is named with its patch; the file itself (its
    # text over the parse limits) is named once, unless such a diff already said so.
    oversized = [(p.number, fd) for p in an.series.patches for fd in p.files if fd.unparsed]
    for number, fd in oversized:
        findings.append(Finding("warning", "not-parsed", fd.unparsed or "", number, fd.path))
        if fd.removed and is_c_path(fd.path):
            # What such a diff removes was never read as C: it may be the very definition
            # whose callers this verdict is about, so no verdict covers it.
            findings.append(
                Finding(
                    "error",
                    "not-decided",
                    f"patch {number} removes {fd.removed} line(s) from {fd.path} in a diff "
                    "over the parse limit: what it removes (definitions, declarations, "
                    "macros) was not read, so whether every use of it is converted first "
                    "is not decided",
                    number,
                    fd.path,
                )
            )
    named = {fd.path for _, fd in oversized}
    for path, why in sorted(an.unparsed.items()):
        if path not in named:
            findings.append(Finding("warning", "not-parsed", why, None, path))
    targets: dict[str, set[str]] = {}
    for c in an.conversions:
        if c.new is not None:
            targets.setdefault(c.old, set()).add(c.new)
    split = sorted(o for o, news in targets.items() if len(news) > 1)
    if split:
        variants = sorted({n for o in split for n in targets[o]})
        findings.append(
            Finding(
                "info",
                "split-migration",
                f"the series splits {', '.join(split)} into {len(variants)} variants; "
                "`series-tool rewrite` checks which variant each converted caller needs",
            )
        )
    remaining: list[dict[str, Any]] = []
    listed: set[tuple[str, str, int, str]] = set()
    # The errors: every step's reasons not to build, each named once (problems.unsafe_at,
    # the same answer bisect-report gives per step).
    reported: set[tuple[str, str, str, str, str | None, str]] = set()
    for st in an.steps[1:]:
        for u in unsafe_at(an, st):
            r = u.ref
            key = (u.code, u.symbol, r.file, r.kind, r.function, r.text.strip())
            if key in reported:
                continue
            reported.add(key)
            findings.append(unsafe_finding(u, st))
            if u.code == "removed-while-referenced":
                row = r.to_dict()
                row["at_patch"] = st.patch.number if st.patch else None
                remaining.append(row)
                listed.add((u.symbol, r.file, r.line, r.kind))
    findings.extend(signature_findings(an))
    for sym in mig.old:
        at = an.step_of(mig.removed_in.get(sym)) if mig.removed_in.get(sym) else None
        if at is not None and member_elsewhere(an, at, sym):
            uses = [r for r in at.refs_of(sym) if r.kind == "member"]
            if uses:
                findings.append(
                    Finding(
                        "warning",
                        "member-not-resolved",
                        f"the member {sym} is removed by patch {mig.removed_in[sym]}, but other "
                        f"structs declare a member of that name: {len(uses)} uses of it remain "
                        "that this tool cannot tell apart (not judged; a build can)",
                        mig.removed_in[sym],
                    )
                )
    last = an.steps[-1]
    for sym in mig.old:
        removed_in = mig.removed_in.get(sym)
        at_removal = an.step_of(removed_in) if removed_in is not None else None
        points = {s.index: s for s in (at_removal, last) if s is not None}
        seen: set[tuple[str, int, str]] = set()
        for st in points.values():  # removal step, then the end, once each
            refs = [r for r in st.refs_of(sym) if (r.file, r.line, r.kind) not in seen]
            seen.update((r.file, r.line, r.kind) for r in refs)
            if at_removal is not None:
                # A same-named macro is another entity: said, not listed as remaining.
                macros = [r for r in refs if other_entity_macro(an, sym, r)]
                refs = [r for r in refs if r not in macros]
                findings.extend(_macro_findings(an, sym, macros, st, removed_in))
            for r in refs:
                if (sym, r.file, r.line, r.kind) in listed:
                    continue
                row = r.to_dict()
                row["at_patch"] = st.patch.number if st.patch else None
                remaining.append(row)
            findings.extend(
                _mention_findings(sym, refs, st, removed_in if at_removal is not None else None)
            )
            if at_removal is not None:
                findings.extend(
                    _about(
                        "warning",
                        "old-declaration-left",
                        f"{sym} is removed by patch {removed_in} but {place(r)} still "
                        f"{'defines' if r.kind != 'declaration' else 'declares'} it: "
                        f"{r.text.strip()} (harmless while nothing uses it; drop it too)",
                        st,
                        r,
                    )
                    for r in refs
                    if leftover_definition(an, sym, r)
                )
        if at_removal is None and last.refs_of(sym):
            findings.append(
                Finding(
                    "info",
                    "old-symbol-kept",
                    f"{sym} is not removed by this series; {len(last.refs_of(sym))} references "
                    "remain after it",
                )
            )
    checked = [*mig.old, *(s for s in mig.removed if s not in mig.old)]
    accounted = {sym: _accounted(an, sym) for sym in checked}
    for sym, acc in accounted.items():
        for where in acc["unaccounted"]:
            findings.append(
                Finding(
                    "warning",
                    "grep-hit-unclassified",
                    f"git grep -w finds {sym} at {where}, but no reference was classified there",
                )
            )
    ok = not any(f.severity == "error" for f in findings)
    return {
        "ok": ok,
        "series": an.series.to_dict(),
        "others": [o.to_dict() for o in an.ingested.others],
        "tree": an.tree_dict(),
        "migration": mig.to_dict(),
        "prototype_changes": prototype_changes_dict(an),
        "conversions": [c.to_dict() for c in an.conversions],
        "remaining": remaining,
        "accounted": accounted,
        "apply": [
            {
                "patch": st.patch.number if st.patch else None,
                "status": st.apply.status if st.apply else "unknown",
            }
            for st in an.steps[1:]
        ],
        "findings": [f.to_dict() for f in findings],
    }


def prototype_changes_dict(an: Analysis) -> list[dict[str, Any]]:
    """The functions whose prototype the series changes in place, once per name and patch
    (a header's prototype and the .c file's definition are one change), with both types
    and the calls the series fits to it (`fitted`: each under the newest change of its
    name at or before its own patch). They are not the migration's `conversions`."""
    out: dict[tuple[str, int | None], dict[str, Any]] = {}
    for ch in an.prototype_changes:
        out.setdefault(
            (ch.name, ch.patch),
            {
                "name": ch.name,
                "patch": ch.patch,
                "file": ch.file,
                "old": ch.old.pointer_type(),
                "new": ch.new.pointer_type(),
                "fitted": [],
            },
        )
    for c in an.fitted:
        at = [e for (name, _), e in out.items() if name == c.old]
        before = [e for e in at if (e["patch"] or 0) <= (c.patch or 0)]
        if before or at:
            max(before or at, key=lambda e: e["patch"] or 0)["fitted"].append(c.to_dict())
    return list(out.values())


def _unknown_symbols(an: Analysis) -> list[Finding]:
    """--old/--new names that neither the tree nor the series ever mentions."""
    if an.migration.inferred:
        return []
    out: list[Finding] = []
    for role, names in (("old", an.migration.old), ("new", an.migration.new)):
        for sym in names:
            if any(st.refs_of(sym) for st in an.steps):
                continue
            out.append(
                Finding(
                    "warning",
                    f"{role}-symbol-unknown",
                    f"--{role} {sym}: no reference to it anywhere, before or after any patch",
                )
            )
    return out


def _accounted(an: Analysis, symbol: str) -> dict[str, Any]:
    """How the base tree's `git grep -w` lines of an old symbol split into reference kinds.

    Every grep line must carry at least one classified reference; any that does not is
    listed (and reported), so nothing the grep sees goes unexplained.
    """
    # A header the series deletes is "defined" by its file (analysis._header_refs): that
    # is not a line git grep -w finds, so it is not counted among the lines' kinds.
    base = [r for r in an.steps[0].refs_of(symbol) if not is_file_itself(r)]
    out: dict[str, Any] = {"base": count_kinds(base)}
    if an.series_only:
        out.update(grep_lines=None, unaccounted=[])
        return out
    hits = an.grep_hits.get(symbol, [])
    seen = {(r.file, r.line) for r in base}
    # Lines out of the symbol's scope (model.scope) were dropped before classification.
    out_of_scope = an.out_of_scope_lines.get(symbol, 0)
    out["grep_lines"] = len(hits) + out_of_scope
    out["out_of_scope_lines"] = out_of_scope
    missing = [h for h in hits if (h.path, h.line) not in seen]
    # Lines naming another entity of the same spelling: a struct member's name used as
    # a variable or function, a function-like macro's name not followed by '(', an
    # #include of another header with the same file name.
    roles = an.roles.get(symbol, frozenset())
    member_only = bool(roles) and (roles <= {"member"} or roles <= {"function-macro"})
    others = [
        h for h in missing if member_only or (is_header(symbol) and h.text.lstrip().startswith("#"))
    ]
    out["other_entity_lines"] = len(others)
    out["unaccounted"] = [f"{h.path}:{h.line}" for h in missing if h not in others]
    return out

"""Render stage: reports as terminal text (rich), JSON, Markdown and HTML (jinja2 templates).

Pure functions from report data to text; the commands decide where the text goes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text

from series_tool.models import Ingested, Series

if TYPE_CHECKING:
    from rich.console import Console

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def console_for(stream: Any, width: int | None = None) -> Console:
    """A rich console on `stream`; colour only when it is a terminal (rich's own check)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # `series-tool ... | head`: the reader left. Say nothing more, keep the exit
            # status (rich's default turns this into exit 1, which means "finding" here).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.file.fileno())

    # markup=False: subjects, names and paths from mail are printed as they are (a "[/]"
    # in a From: header is text, not a style tag).
    return _Console(file=stream, width=width, highlight=False, soft_wrap=False, markup=False)


def series_header(console: Console, series: Series) -> None:
    """Title, version, cover, base and grouping remarks of a series."""
    head = Text()
    head.append(f"v{series.version} ", style="bold")
    head.append(series.title or "(untitled)", style="bold")
    total = series.total if series.total is not None else len(series.patches)
    head.append(f"  ({len(series.patches)} of {total} patches")
    head.append(", with cover letter)" if series.cover else ", no cover letter)")
    console.print(head)
    if series.cover:
        console.print(f"  cover: {series.cover.author}  {series.cover.date}")
    if series.base_commit:
        console.print(f"  base-commit: {series.base_commit}")
    for problem in series.problems:
        console.print(Text("  ") + Text("note:", style="yellow") + Text(f" {problem}"))


def show_text(console: Console, ingested: Ingested) -> None:
    """The `show` report for people."""
    series = ingested.series
    series_header(console, series)
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("subject")
    table.add_column("author")
    table.add_column("files", justify="right")
    table.add_column("+", justify="right", style="green")
    table.add_column("-", justify="right", style="red")
    table.add_column("trailers")
    for p in series.patches:
        trailers = ", ".join(
            f"{t.name}{'*' if t.from_reply else ''}"
            for t in p.trailers
            if t.name != "Signed-off-by"
        )
        number = "-" if p.number is None else str(p.number)
        subject = Text(p.subject)
        if p.error:
            subject.append(f"\n  broken: {p.error}", style="bold red")
        table.add_row(
            number,
            subject,
            p.author_name or p.author,
            str(len(p.files)),
            str(p.insertions),
            str(p.deletions),
            trailers,
        )
    console.print(table)
    if series.diffstat:
        files, ins, dels = series.diffstat
    else:
        files = len({f.path for p in series.patches for f in p.files})
        ins = sum(p.insertions for p in series.patches)
        dels = sum(p.deletions for p in series.patches)
    console.print(
        f"{len(series.patches)} patches; base to tip: {files} files changed, "
        f"{ins} insertions(+), {dels} deletions(-)"
    )
    if any(t.from_reply for p in series.patches for t in p.trailers):
        console.print("* trailer collected from a review reply")
    if series.missing:
        console.print(
            Text("missing:", style="bold red") + Text(f" {', '.join(map(str, series.missing))}")
        )
    if series.duplicates:
        dups = ", ".join(map(str, series.duplicates))
        console.print(Text("duplicates (kept the last):", style="yellow") + Text(f" {dups}"))
    for other in ingested.others:
        numbers = ",".join(map(str, other.numbers)) or "-"
        console.print(
            f"also found: v{other.version} {other.title!r} ({len(other.numbers)} of "
            f"{other.total if other.total is not None else '?'}: {numbers})"
        )


def from_template(template: str, report: dict[str, Any]) -> str:
    """A report from `templates/<template>`: Markdown to paste into a reply mail, or one
    self-contained HTML page (templating autoescapes `*.html.j2`)."""
    from .templating import render

    return render(template, report=report)


def _patch_rows(report: dict[str, Any]) -> list[tuple[Any, str, str]]:
    status = {a["patch"]: a["status"] for a in report.get("apply", [])}
    return [
        (p["number"], p["subject"], status.get(p["number"], ""))
        for p in report["series"]["patches"]
    ]


def _finding_line(f: dict[str, Any]) -> Text:
    line = Text()
    line.append(f"{f['severity']}", style=_SEVERITY_STYLE.get(f["severity"], ""))
    line.append(f" [{f['code']}]")
    if f.get("patch") is not None:
        line.append(f" patch {f['patch']}:")
    line.append(f" {f['message']}")
    return line


def _room(console: Console, widths: list[int]) -> int:
    """Width left for the last (subject) column after the narrow ones and their padding."""
    return max(20, console.width - sum(w + 2 for w in widths) - 1)


def _cut(text: str, width: int) -> str:
    """`text`, shortened with an ellipsis to fit `width` cells (subjects, not data)."""
    return text if len(text) <= width else text[: width - 1] + "\u2026"


_APPLY_LEGEND = (
    "apply: clean = as written; offset = the context sits a few lines away (git am and "
    "patch both accept it); fuzz = only with outer context ignored (GNU patch accepts it, "
    "git am rejects it); failed = does not apply"
)


def _symbol_lines(console: Console, report: dict[str, Any]) -> None:
    mig = report["migration"]
    for sym in mig["old"]:
        at = mig["removed_in"].get(sym)
        when = f"removed by patch {at}" if at else "not removed by this series"
        console.print(Text("old: ") + Text(sym, style="red") + Text(f" ({when})"))
    for sym in mig["new"]:
        at = mig["introduced_in"].get(sym)
        when = f"introduced by patch {at}" if at else "not introduced by this series"
        console.print(Text("new: ") + Text(sym, style="green") + Text(f" ({when})"))
    for ch in report.get("prototype_changes", []):
        console.print(
            Text("changed: ")
            + Text(f"{ch['name']}()", style="yellow")
            + Text(
                f" (prototype changed in place by patch {ch['patch']}: {ch['old']} -> {ch['new']})"
            )
        )


def _fits(line: Text, width: int) -> bool:
    """Whether rich would print `line` unchanged at `width`: no tab to expand, no
    whitespace at its end, and no wider than the console."""
    plain = line.plain
    return (
        "\t" not in plain
        and "\n" not in plain
        and plain == plain.rstrip()
        and cell_len(plain) <= width
    )


def _print_lines(console: Console, lines: list[Text]) -> None:
    """Print each line as `console.print(line)` would, thousands at a time.

    A tree-wide API leaves 15,000 references: printed one by one, rich's render pipeline
    and word wrapping were most of the report's CPU. Runs of lines are printed as one
    Text instead (rich wraps each line of a Text on its own, as if printed alone); runs
    of lines that fit the width skip the wrapping (a fitting line wraps to itself).
    """
    width = console.width
    run: list[Text] = []
    fitting = True
    for line in lines:
        fits = _fits(line, width)
        if run and fits != fitting:
            console.print(Text("\n").join(run), soft_wrap=fitting)
            run = []
        run.append(line)
        fitting = fits
    if run:
        console.print(Text("\n").join(run), soft_wrap=fitting)


#: More references than this with one text in one place are printed as one line.
_ALIKE_SHOWN = 3


def _alike_rows(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[int]]]:
    """Each row to print, with the lines of the rows it stands for: rows alike in all but
    their line (same step, file, function, symbol, kind and text) are one printed row
    when there are more than `_ALIKE_SHOWN` of them (a generated file calling the old
    API a million times is one line of the report, not a million; JSON keeps them all)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        key = (r["at_patch"], r["file"], r["function"], r["symbol"], r["kind"], r["text"].strip())
        groups.setdefault(key, []).append(r)
    out: list[tuple[dict[str, Any], list[int]]] = []
    for group in groups.values():
        if len(group) > _ALIKE_SHOWN:
            out.append((group[0], [r["line"] for r in group]))
        else:
            out.extend((r, [r["line"]]) for r in group)
    order = {id(r): i for i, r in enumerate(rows)}
    return sorted(out, key=lambda x: order[id(x[0])])


def verify_text(console: Console, report: dict[str, Any]) -> None:
    """The `verify` report for people: patches and what each converts, then the verdict."""
    from rich.table import Table

    series = report["series"]
    total = series["total"] if series["total"] is not None else len(series["patches"])
    console.print(
        Text(
            f"v{series['version']} {series['title']}  "
            f"({len(series['patches'])} of {total} patches)",
            style="bold",
        )
    )
    tree = report["tree"]
    where = tree["path"] or "no tree"
    base = f" at {tree['base'][:12]}" if tree.get("base") else ""
    dirty = " (uncommitted changes not included)" if tree.get("dirty") else ""
    console.print(f"tree: {tree['kind']} {where}{base}{dirty}")
    _symbol_lines(console, report)
    by_patch: dict[Any, list[str]] = {}
    for c in report["conversions"]:
        replacement = c.get("replacement")
        target = c["new"] or (repr(replacement) if replacement else "(dropped)")
        where = _where(c.get("replaces_in") or c["function"], c["file"])
        by_patch.setdefault(c["patch"], []).append(f"converts {where}: {c['old']} -> {target}")
    fitted = [c for ch in report.get("prototype_changes", []) for c in ch.get("fitted", [])]
    for c in fitted:
        where = _where(c["function"], c["file"])
        by_patch.setdefault(c["patch"], []).append(f"fits {where}: {c['replacement']}")
    # Narrow columns first, the subject last: it is the one that may be cut.
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True, min_width=2)
    table.add_column("apply", no_wrap=True, min_width=6)
    table.add_column("subject", no_wrap=True)
    rows = _patch_rows(report)
    room = _room(console, [len(str(len(rows))), 6])
    for number, subject, status in rows:
        style = {"failed": "bold red", "fuzz": "yellow"}.get(status, "")
        table.add_row(str(number), Text(status, style=style), _cut(subject, room))
        for conv in by_patch.get(number, []):
            table.add_row("", "", Text(_cut(f"  {conv}", room), style="green"))
    console.print(table)
    console.print(Text(_APPLY_LEGEND, style="dim"))
    if report["conversions"] or not fitted:
        console.print(_conversion_count(report["conversions"]))
    if fitted:
        console.print(f"{len(fitted)} call(s) fitted to a prototype changed in place")
    for sym, acc in report.get("accounted", {}).items():
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(acc["base"].items()) if n) or "none"
        lines = (
            f"{acc['grep_lines']} git grep -w lines; " if acc.get("grep_lines") is not None else ""
        )
        if acc.get("out_of_scope_lines"):
            lines += f"{acc['out_of_scope_lines']} out of its scope; "
        console.print(f"{sym} before the series: {lines}{kinds}")
    if report["remaining"]:
        console.print(Text("remaining references:", style="bold"))
        refs: list[Text] = []
        for r, same in _alike_rows(report["remaining"]):
            style = "red" if r["kind"] not in ("comment", "documentation", "string") else "yellow"
            fn = r["function"] or ""
            fn = f" in {fn}()" if fn.isidentifier() else (f" in {fn}" if fn else "")
            line = Text(f"  after patch {r['at_patch']}: {r['file']}:{r['line']}{fn}: ")
            line.append(r["kind"], style=style)
            line.append(f": {r['text'].strip()}")
            if len(same) > 1:
                line.append(f" (and {len(same) - 1:,} more identical lines up to line {max(same)})")
            refs.append(line)
        _print_lines(console, refs)
    for f in report["findings"]:
        console.print(_finding_line(f))
    errors = sum(1 for f in report["findings"] if f["severity"] == "error")
    if errors:
        console.print(Text("NOT OK", style="bold red") + Text(f": {errors} error(s)"))
    elif not report["migration"]["old"] and not report.get("prototype_changes"):
        console.print(
            Text("nothing to verify", style="yellow") + Text(": the series removes no old symbol")
        )
    elif report["tree"]["kind"] == "series-only":
        console.print(
            Text("OK as far as the series shows", style="bold green")
            + Text(
                ": no tree was checked, so callers outside the patches are unknown "
                "(run it in your checkout or pass --repo)"
            )
        )
    else:
        console.print(Text("OK", style="bold green") + Text(f": {_ok_detail(report)}"))


def _where(fn: str | None, file: str) -> str:
    """Where a conversion is: `f()` for a function, else the #define or declaration it is
    in as written, else the file at file scope."""
    if not fn:
        return f"{file} (file scope)"
    return f"{fn}()" if fn.isidentifier() else fn


def _conversion_count(conversions: list[dict[str, Any]]) -> str:
    """ "N conversions in F functions", with those outside functions counted apart: in
    #define bodies, in other declarations (initializers), at file scope."""
    functions: set[tuple[str, str]] = set()
    macros = declarations = file_scope = 0
    for c in conversions:
        fn = c["function"]
        if not fn:
            file_scope += 1
        elif fn.isidentifier():
            functions.add((c["file"], fn))
        elif fn.startswith("#define"):
            macros += 1
        else:
            declarations += 1
    elsewhere = [
        f"{n} {what}"
        for n, what in (
            (macros, "in #define bodies"),
            (declarations, "in declarations or initializers"),
            (file_scope, "at file scope"),
        )
        if n
    ]
    tail = f" ({', '.join(elsewhere)})" if elsewhere else ""
    return f"{len(conversions)} conversions in {len(functions)} functions{tail}"


def _ok_detail(report: dict[str, Any]) -> str:
    """What an OK of verify vouches for: the old API gone, the changed prototypes fitted."""
    parts = []
    if report["migration"]["old"]:
        parts.append("every reference to the old API is gone before it is removed")
    if report.get("prototype_changes"):
        names = ", ".join(sorted({f"{ch['name']}()" for ch in report["prototype_changes"]}))
        parts.append(f"every use of {names} fits its prototype as changed in place")
    return "; ".join(parts)


def bisect_text(console: Console, report: dict[str, Any]) -> None:
    """The `bisect-report` for people: one row per step, then the problems."""
    from rich.table import Table

    series = report["series"]
    console.print(Text(f"v{series['version']} {series['title']}", style="bold"))
    _symbol_lines(console, report)
    for f in report.get("findings", []):
        console.print(_finding_line(f))
    for note in report.get("notes", []):
        console.print(Text(f"note: {note}", style="cyan"))
    symbols = list(report["base_references"])
    # Symbol names are long: columns get short labels, explained above the table.
    labels = {s: chr(ord("A") + i) if i < 26 else str(i) for i, s in enumerate(symbols)}
    for s in symbols:
        role = "old" if s in report["migration"]["old"] else "new"
        console.print(f"  {labels[s]} = code uses of {s} ({role})")
    built = any(st["build"]["status"] != "skipped" for st in report["steps"])
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("step", justify="right", no_wrap=True, min_width=4)
    table.add_column("apply", no_wrap=True, min_width=6)
    for s in symbols:
        table.add_column(labels[s], justify="right", no_wrap=True, min_width=3)
    if built:
        table.add_column("build", no_wrap=True, min_width=6)
    table.add_column("verdict", no_wrap=True, min_width=6)
    table.add_column("subject", no_wrap=True)
    widths = [4, 6, *(max(3, len(str(report["base_references"][s]))) for s in symbols)]
    room = _room(console, [*widths, *([6] if built else []), 6])
    base_row = ["base", "", *[str(report["base_references"][s]) for s in symbols]]
    table.add_row(*base_row, *([""] if built else []), "", "")
    for st in report["steps"]:
        verdict = Text("safe", style="green") if st["safe"] else Text("UNSAFE", style="bold red")
        table.add_row(
            str(st["patch"]),
            st["apply"],
            *[str(st["references"].get(s, 0)) for s in symbols],
            *([st["build"]["status"]] if built else []),
            verdict,
            _cut(st["subject"], room),
        )
    console.print(table)
    if report.get("base_build") and report["base_build"]["status"] == "failed":
        console.print(
            Text(
                "the build already fails on the base tree: step failures are not the series' "
                f"doing\n{report['base_build']['log_tail']}",
                style="yellow",
            )
        )
    for st in report["steps"]:
        for p in st["problems"]:
            where = ""
            if p.get("arch"):
                where += f" [arch/{p['arch']}]"
            if p.get("configs"):
                where += f" [{', '.join(p['configs'])}]"
            console.print(
                Text(f"step {st['patch']}: {p['code']}: {p['message']}{where}", style="red")
            )
        base_failed = report.get("base_build", {}).get("status") == "failed"
        if st["build"]["status"] == "failed" and not base_failed:
            console.print(
                Text(f"step {st['patch']}: build failed:\n{st['build']['log_tail']}", style="red")
            )
        for w in st["build"].get("new_warnings", []):
            where = f"{w['file']}:{w['line']}" + (f" in {w['function']}()" if w["function"] else "")
            opt = f" [{w['option']}]" if w.get("option") else ""
            console.print(
                Text(
                    f"step {st['patch']}: new warning ({w['arch']}): {where}: {w['message']}{opt}"
                ),
                style="yellow",
            )
        if st["build"]["status"] == "timeout":
            console.print(
                Text(
                    f"step {st['patch']}: build stopped by --step-timeout: not checked", style="red"
                )
            )
    _kernel_build_text(console, report)
    if report["ok"]:
        console.print(
            Text("OK", style="bold green")
            + Text(": every step is safe to land on and bisect through")
        )
    else:
        bad = [str(s["patch"]) for s in report["steps"] if not s["safe"]]
        why = f"unsafe steps: {', '.join(bad)}" if bad else "the series is incomplete"
        console.print(Text("NOT OK", style="bold red") + Text(f": {why}"))


def _kernel_build_text(console: Console, report: dict[str, Any]) -> None:
    """--build kernel: configurations, base problems (once), objects not built and why."""
    kernel = report.get("kernel_build")
    if not kernel:
        return
    for conf in kernel["configurations"]:
        on = ", ".join(conf["enabled"]) or "nothing more"
        console.print(
            Text(
                f"{conf.get('tool', 'kernel build')} {conf['arch']}: {conf['kconfig']} + {on} "
                f"({'configured' if conf['ok'] else 'configuration failed'}, {conf['seconds']} s)",
                style="cyan" if conf["ok"] else "red",
            )
        )
        for name, why in conf["not_enabled"].items():
            console.print(Text(f"  CONFIG_{name} could not be enabled: {why}", style="yellow"))
        if not conf["ok"]:
            console.print(Text(conf["log_tail"], style="red"))
    for d in report.get("base_build", {}).get("base_problems", []):
        if d["severity"] == "error":
            where = f"{d['file']}:{d['line']}"
            console.print(
                Text(f"base problem ({d['arch']}): {where}: {d['message']}", style="yellow")
            )
    for n in kernel["not_built"]:
        console.print(Text(f"not built ({n['arch']}): {n['file']}: {n['reason']}", style="yellow"))


def rewrite_text(console: Console, report: dict[str, Any], patches: list[Any]) -> None:
    """The `rewrite` report for people: each conversion, why, and what to review."""
    if not report["conversions"] and not report["not_handled"] and not report.get("text_updates"):
        console.print(
            Text("nothing to do", style="green")
            + Text(": no caller of the old API remains when it is removed")
        )
    by_patch: dict[str, list[dict[str, Any]]] = {}
    for c in report["conversions"]:
        by_patch.setdefault(c["patch_file"], []).append(c)
    for gp in patches:
        console.print(Text(gp.filename, style="bold"))
        for c in by_patch.get(gp.filename, []):
            fn = f" {c['function']}()" if c["function"] else ""
            new = c["new"] or "(dropped)"
            console.print(f"  {c['file']}:{c['line']}{fn}: {c['old']} -> {new}")
            console.print(f"    why: {c['reason']}")
            for item in c["needs_review"]:
                label = "review (unsure):" if item in c.get("unsure", []) else "review:"
                console.print(Text("    ") + Text(label, style="yellow") + Text(f" {item}"))
    for t in report.get("text_updates", []):
        console.print(
            f"  {t['file']}:{t['line']} ({t['kind']}): {t['old']} -> {t['new']} [{t['patch_file']}]"
        )
    for d in report.get("disagreements", []):
        console.print(
            Text("review of the series: ", style="yellow")
            + Text(
                f"patch {d['patch']} converts {d['function'] or '?'}() ({d['file']}:{d['line']}) "
                f"to {d['series_chose']}(), but the analysis says {d['analysis_says']}(): "
                f"{d['reason']}"
            )
        )
    for r in report.get("needs_review", []):
        console.print(
            Text("not converted, needs review:", style="yellow")
            + Text(f" {r['file']}:{r['line']} {r['function'] or '?'}(): {r['why']}")
        )
    for r in report["not_handled"]:
        console.print(
            Text("not converted:", style="red")
            + Text(f" {r['file']}:{r['line']} ({r['kind']}): {r['why']}")
        )
    summary = report.get("summary", {})
    if summary.get("generated_to_review") or summary.get("not_generated_to_review"):
        console.print(
            Text("to review: ", style="bold yellow")
            + Text(
                f"{summary['generated_to_review']} of {summary['generated']} generated "
                "conversion(s) the tool is not sure of (review (unsure) above, also in each "
                "mail); "
                f"{summary['not_generated_to_review']} site(s) not generated"
            )
        )
    later = report.get("converted_later", [])
    if later:
        console.print(
            f"left to the series: {len(later)} site(s) that later patches of the series convert"
        )
    check = report.get("check")
    if check is not None:
        verdict = (
            Text("check OK", style="bold green")
            if check["ok"]
            else Text("check FAILED", style="bold red")
        )
        where = check["insert_before"]
        at = f"before patch {where}" if where is not None else "after the last patch"
        detail = check["note"] or "every patch applies and no code reference to the old API remains"
        console.print(verdict + Text(f" (mails inserted {at}): {detail}"))
        if check.get("base_build") is not None:
            console.print(f"  build of the base: {check['base_build']['status']}")
        for st in check["steps"]:
            build = st.get("build")
            if build is None:
                continue
            what = f"patch {st['patch']}" if st["patch"] is not None else st["generated"]
            style = "green" if build["status"] == "passed" else "red"
            console.print(Text(f"  build after {what}: ") + Text(str(build["status"]), style=style))
    if report["written"]:
        console.print(f"wrote {', '.join(report['written'])}")
        if report.get("apply_before_patch") is not None:
            console.print(f"apply them with `git am` before patch {report['apply_before_patch']}")
    elif patches:
        console.print("use -o DIR or --mbox FILE to write the patches")

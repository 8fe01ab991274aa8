"""The subcommands: each wires the pipeline stages together and picks the renderer.

Side effects (reading the source, writing reports and patches) happen here and in
the stage modules' explicit I/O functions, never at import time.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from series_tool.errors import BadInput
from series_tool.ingest import ingest
from series_tool.models import CODE_KINDS, Reference

from .outputs import STDOUT, Output, check_outputs, make_dir, write_in_dir, write_text

if TYPE_CHECKING:
    from series_tool.checks import Analysis
    from series_tool.models import Ingested
    from series_tool.rewrite import CheckResult, RewritePlan

EXIT_OK = 0
EXIT_FINDING = 1


def ingest_args(args: argparse.Namespace) -> Ingested:
    """The series a command works on: SOURCE, or --message-id's thread in --archive."""
    message_id = getattr(args, "message_id", None)
    archive = getattr(args, "archive", None)
    scan_dir = getattr(args, "scan_dir", None)
    if message_id is None:
        if archive is not None:
            raise BadInput("--archive", "needs --message-id (which thread to take)")
        if scan_dir is not None:
            raise BadInput("--scan-dir", "needs --message-id and --archive")
        if args.source is None:
            raise BadInput("SOURCE", "give a series (an mbox, Maildir, ...) or --message-id")
        return ingest(args.source, version=args.version, stdin=sys.stdin.buffer)
    if args.source is not None:
        raise BadInput("--message-id", "give either SOURCE or --message-id, not both")
    if archive is None:
        raise BadInput("--message-id", "needs --archive ARCHIVE (a local list archive)")
    if not os.path.exists(archive):
        raise BadInput(archive, "no such file or directory")
    from series_tool.ingest import as_mboxrd, thread_of

    where = f"{archive}: <{message_id.strip().strip('<>')}>"
    from .scanstate import DEFAULT_SCAN_DIR, load_threads

    index = None
    if scan_dir is not None:
        index = load_threads(scan_dir, archive)
    elif _scan_of(DEFAULT_SCAN_DIR, archive):
        # scan's default output folder here holds a scan of this archive: use its index.
        index = load_threads(DEFAULT_SCAN_DIR, archive)
    if index is None:
        thread = thread_of(archive, message_id)
    else:
        thread = thread_of(archive, message_id, known=index[0], after=index[1])
    try:
        ingested = ingest("-", version=args.version, stdin=io.BytesIO(as_mboxrd(thread)))
    except BadInput as exc:
        raise BadInput(where, exc.message) from None
    ingested.series.source = where
    return ingested


def _scan_of(out_dir: str, archive: str) -> bool:
    """Whether ``out_dir`` holds a readable scan state of ``archive``."""
    from .scanstate import load_state

    if not os.path.isfile(os.path.join(out_dir, "state.json")):
        return False
    try:
        return load_state(out_dir).get("archive") == os.path.abspath(archive)
    except BadInput:
        return False  # not ours to judge here: the whole archive is read instead


def run_index(args: argparse.Namespace) -> int:
    """`series-tool index`: build the word index of the tree at --base (default HEAD)."""
    from series_tool.replay import GitTree, build_index

    tree = GitTree(_index_repo(args.repo), args.base)
    assert tree.path is not None and tree.base is not None
    path, files, words = build_index(tree.path, tree.base)
    print(f"indexed {files} files ({words} distinct words) of {tree.base[:12]}: {path}")
    return EXIT_OK


def _index_repo(repo: str | None) -> str:
    """The repository `index` reads: --repo, else the checkout around the current folder."""
    import git

    try:
        found = git.Repo(repo or os.getcwd(), search_parent_directories=repo is None)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise BadInput("--repo", f"not a git repository: {repo or os.getcwd()}") from None
    return str(found.working_tree_dir or found.git_dir)


def run_show(args: argparse.Namespace) -> int:
    """`series-tool show`: parse the series and print it; exit 1 when a patch is broken."""
    from series_tool.render import console_for, show_text, to_json

    ingested = ingest_args(args)
    if args.format == "json":
        sys.stdout.write(to_json(ingested.to_dict()))
    else:
        show_text(console_for(sys.stdout), ingested)
    broken = [p for p in ingested.series.patches if p.error]
    for p in broken:
        print(f"series-tool: {ingested.series.source}: {p.label}: {p.error}", file=sys.stderr)
    return EXIT_FINDING if broken else EXIT_OK


def _analyse(args: argparse.Namespace) -> Analysis:
    """ingest -> tree -> analysis, shared by verify, bisect-report and rewrite."""
    # The C and git stages load only for the commands that use them (show stays light).
    from series_tool.checks import analyse
    from series_tool.replay import open_tree

    for flag, names in (("--old", args.old), ("--new", args.new)):
        for name in names or []:
            if not name.isidentifier() or not name.isascii():
                raise BadInput(flag, f"{name!r} is not a C identifier")
    ingested = ingest_args(args)
    tree = open_tree(args.repo, args.base, ingested.series.base_commit, os.getcwd())
    return analyse(ingested, tree, old=args.old, new=args.new)


def run_verify(args: argparse.Namespace) -> int:
    """`series-tool verify`: exit 0 when safe, 1 on an error finding."""
    from series_tool.checks import verify_report

    _check_build_args(args)
    if args.build is not None and args.build.strip() != "kernel" and not _tuxmake_spec(args):
        raise BadInput(
            "--build",
            "verify builds with 'kernel' or 'tuxmake[:...]' only (bisect-report takes a command)",
        )
    an = _analyse(args)
    report = verify_report(an)
    if args.build:
        if an.series_only:
            raise BadInput("--build", "needs a tree: run inside a git checkout or pass --repo")
        from series_tool.build import build_findings

        spec = _tuxmake_spec(args)
        if spec is not None:
            kernel = _tuxmake_build(args, an, spec, final_only=True)
        else:
            kernel = _kernel_build(args, an, final_only=True)
        findings = build_findings(an, kernel)
        report["findings"].extend(f.to_dict() for f in findings)
        report["ok"] = report["ok"] and not any(f.severity == "error" for f in findings)
        report["kernel_build"] = kernel
    # Renderers (rich, jinja2) load only now: start-up before the tree grep begins is on
    # the critical path of the git-grep time budget, output after it is not.
    # Each format loads only its own renderer (JSON: neither rich nor jinja2).
    if args.format == "json":
        from series_tool.render import write_json

        write_json(report, sys.stdout)
    elif args.format == "markdown":
        from series_tool.render import from_template

        sys.stdout.write(from_template("verify.md.j2", report))
    else:
        from series_tool.render import console_for, verify_text

        verify_text(console_for(sys.stdout), report)
    return EXIT_OK if report["ok"] else EXIT_FINDING


def run_bisect(args: argparse.Namespace) -> int:
    """`series-tool bisect-report`: exit 0 when every step is safe, 1 otherwise."""
    from series_tool.checks import bisect_report

    _check_build_args(args)
    outputs = [Output("-o", args.output)] if args.output else []
    check_outputs(outputs, [args.source])
    plan_request = _tuxsuite_request(args)
    an = _analyse(args)
    builds: dict[int, dict[str, Any]] | None = None
    kernel: dict[str, Any] | None = None
    tuxsuite_plan: dict[str, Any] | None = None
    if plan_request is not None:
        tuxsuite_plan = _tuxsuite_plan(an, plan_request)
    if args.tuxsuite_results:
        from series_tool.build import read_tuxsuite_results

        logs = Path(args.tuxsuite_logs) if args.tuxsuite_logs else None
        if logs is not None and not logs.is_dir():
            raise BadInput("--tuxsuite-logs", f"{logs} is not a folder")
        kernel = read_tuxsuite_results(an, Path(args.tuxsuite_results), logs)
        builds = kernel.pop("steps")
    elif args.build:
        if an.series_only:
            raise BadInput("--build", "needs a tree: run inside a git checkout or pass --repo")
        spec = _tuxmake_spec(args)
        if spec is not None:
            kernel = _tuxmake_build(args, an, spec)
            builds = kernel.pop("steps")
        elif args.build.strip() == "kernel":
            kernel = _kernel_build(args, an)
            builds = kernel.pop("steps")
        else:
            builds = _build_with_progress(an, args.build, _jobs(args, an), args.step_timeout)
        base_build = builds.get(0, {})
        if base_build.get("code") in (126, 127):
            tail = str(base_build.get("log_tail", "")).strip().splitlines()
            last = tail[-1] if tail else "no output"
            raise BadInput(
                "--build",
                f"{args.build!r} cannot run on the base tree (exit {base_build['code']}): {last}",
            )
    report = bisect_report(an, builds)
    if kernel is not None:
        report["kernel_build"] = kernel
    if tuxsuite_plan is not None:
        report["tuxsuite_plan"] = tuxsuite_plan
    # Each format loads only its own renderer (JSON: neither rich nor jinja2).
    to_file = bool(args.output and args.output != STDOUT)
    if args.format == "json":
        from series_tool.render import to_json

        text = to_json(report)
    elif args.format in ("markdown", "html"):
        from series_tool.render import from_template

        text = from_template(f"bisect.{'md' if args.format == 'markdown' else 'html'}.j2", report)
    else:
        from series_tool.render import bisect_text, console_for

        if not to_file:
            bisect_text(console_for(sys.stdout), report)
            return EXIT_OK if report["ok"] else EXIT_FINDING
        buffer = io.StringIO()
        bisect_text(console_for(buffer, width=120), report)
        text = buffer.getvalue()
    if to_file:
        write_text("-o", args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK if report["ok"] else EXIT_FINDING


def _kernel_build(
    args: argparse.Namespace, an: Analysis, final_only: bool = False
) -> dict[str, Any]:
    """`--build kernel`: targeted kbuild objects per step and architecture."""
    from series_tool.build import KernelOptions, kernel_build
    from series_tool.render import console_for

    missing = [f for f in ("Kconfig", "Makefile", "scripts/config") if an.tree.read(f) is None]
    if missing:
        raise BadInput(
            "--build",
            f"'kernel' needs a Linux source tree; {an.tree.path} has no {', '.join(missing)}",
        )
    arches = [a.strip() for a in (args.arch or "").split(",") if a.strip()]
    for a in arches:
        if not a.replace("_", "").isalnum():
            raise BadInput("--arch", f"{a!r} is not a kbuild architecture name")
    kconfig = args.kconfig
    if os.sep in kconfig or os.path.exists(kconfig):
        if not os.path.isfile(kconfig):
            raise BadInput("--kconfig", f"{kconfig} is not a file")
        kconfig = os.path.abspath(kconfig)
    elif not kconfig.replace("_", "").replace(".", "").isalnum():
        raise BadInput("--kconfig", f"{kconfig!r} is neither a file nor a kbuild target")
    # make -jN: every core unless --jobs says otherwise.
    asked = args.jobs if args.jobs is not None else _cores()
    jobs = min(asked, _cores()) if not args.force_jobs else asked
    if asked > jobs:
        print(
            f"series-tool: --jobs {args.jobs} capped at {jobs} (the number of cores)",
            file=sys.stderr,
        )
    from series_tool.build import tree_bytes

    size = tree_bytes(an)
    if size is not None:
        where = tempfile.gettempdir()
        free = shutil.disk_usage(where).free
        print(
            f"series-tool: 1 sparse temporary worktree (at most {_human(size)}) and build folders "
            f"in {where} ({_human(free)} free)",
            file=sys.stderr,
        )
        if size > free:
            raise BadInput(
                "--build", f"the worktree needs {_human(size)}, {where} has {_human(free)}"
            )
    console = console_for(sys.stderr)
    opts = KernelOptions(
        arches=arches,
        kconfig=kconfig,
        jobs=jobs,
        step_timeout=args.step_timeout,
        final_only=final_only,
    )
    with console.status("kernel build") as status:

        def say(message: str) -> None:
            status.update(message)
            console.print(message)

        return kernel_build(an, opts, say)


def _tuxmake_spec(args: argparse.Namespace) -> Any:
    """--build tuxmake[:...]'s spec, checked by tuxmake itself; None for other --build."""
    if not args.build:
        return None  # without --build the build stage is not even loaded (start-up time)
    from series_tool.build import check_tuxmake_spec, parse_tuxmake_spec

    spec = parse_tuxmake_spec(args.build or "")
    if spec is not None:
        check_tuxmake_spec(spec)
    return spec


def _tuxmake_build(
    args: argparse.Namespace, an: Analysis, spec: Any, final_only: bool = False
) -> dict[str, Any]:
    """--build tuxmake: one full tuxmake build per step (or the base and the last)."""
    from series_tool.build import tuxmake_build
    from series_tool.render import console_for

    if an.series_only:
        raise BadInput("--build", "needs a tree: run inside a git checkout or pass --repo")
    jobs = args.jobs if args.jobs is not None else _cores()
    console = console_for(sys.stderr)
    with console.status("tuxmake") as status:

        def say(message: str) -> None:
            status.update(message)
            console.print(message)

        return tuxmake_build(an, spec, jobs, say, final_only=final_only)


def _tuxsuite_request(args: argparse.Namespace) -> Any:
    """--tuxsuite-plan's options, checked before any work (None without it)."""
    from series_tool.build import TuxsuitePlanRequest, check_tuxsuite_request, host_arch, tux_arch

    if args.tuxsuite_results and args.build:
        raise BadInput("--tuxsuite-results", "reads builds already made: not with --build")
    if args.tuxsuite_logs and not args.tuxsuite_results:
        raise BadInput("--tuxsuite-logs", "needs --tuxsuite-results")
    if not args.tuxsuite_plan:
        for flag in ("tuxsuite_branch", "tuxsuite_git_repo"):
            if getattr(args, flag):
                raise BadInput("--" + flag.replace("_", "-"), "needs --tuxsuite-plan FILE")
        return None
    for flag in ("tuxsuite_branch", "tuxsuite_git_repo"):
        if not getattr(args, flag):
            raise BadInput("--tuxsuite-plan", f"needs --{flag.replace('_', '-')}")
    arches = [host_arch()]
    arches += [a.strip() for a in (args.arch or "").split(",") if a.strip() not in ("", *arches)]
    req = TuxsuitePlanRequest(
        Path(args.tuxsuite_plan),
        args.tuxsuite_branch,
        args.tuxsuite_git_repo,
        [tux_arch(a) for a in arches],
        args.tuxsuite_toolchain,
        args.kconfig,
    )
    if args.tuxsuite_plan == STDOUT:
        raise BadInput("--tuxsuite-plan", "needs a file (its git bundle is written beside it)")
    check_tuxsuite_request(req)
    check_outputs(
        [Output("--tuxsuite-plan", str(req.plan)), Output("--tuxsuite-plan", str(req.bundle))],
        [args.source],
    )
    return req


def _tuxsuite_plan(an: Analysis, req: Any) -> dict[str, Any]:
    """Write the plan and the bundle; what was written and the commands to run next."""
    from series_tool.build import make_tuxsuite_plan
    from series_tool.render import render

    if an.series_only:
        raise BadInput("--tuxsuite-plan", "needs a tree: run inside a git checkout or pass --repo")
    written = make_tuxsuite_plan(an, req)
    write_text("--tuxsuite-plan", str(req.plan), render("tuxsuite-plan.yaml.j2", **written))
    print(f"wrote {req.plan} and {req.bundle}; then run:", file=sys.stderr)
    for line in written["commands"]:
        print(f"  {line}", file=sys.stderr)
    return written


def _check_build_args(args: argparse.Namespace) -> None:
    """The --build options, checked before any work."""
    if args.jobs is not None and args.jobs < 1:
        raise BadInput("--jobs", f"must be at least 1, not {args.jobs}")
    if args.build is not None and not args.build.strip():
        raise BadInput("--build", "the build command is empty")
    if args.step_timeout is not None and not args.step_timeout > 0:
        raise BadInput(
            "--step-timeout", f"must be a positive number of seconds, not {args.step_timeout}"
        )
    _tuxmake_spec(args)  # tuxmake's own check of ARCH and TOOLCHAIN, before any work


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _jobs(args: argparse.Namespace, an: Analysis) -> int:
    """--jobs, capped at the cores unless --force-jobs; says on stderr how much disk the
    worktrees take, and refuses when the temporary folder has not that much free."""
    from series_tool.build import tree_bytes

    jobs: int = min(args.jobs or 1, len(an.steps))
    cores = _cores()
    if jobs > cores and not args.force_jobs:
        print(
            f"series-tool: --jobs {args.jobs} capped at {cores} (the number of cores); "
            "--force-jobs to run more",
            file=sys.stderr,
        )
        jobs = cores
    size = tree_bytes(an)
    if size is not None:
        where = tempfile.gettempdir()
        free = shutil.disk_usage(where).free
        need = size * jobs
        print(
            f"series-tool: {jobs} temporary worktree{'s' if jobs > 1 else ''} of "
            f"{_human(size)} each ({_human(need)} in {where}, {_human(free)} free)",
            file=sys.stderr,
        )
        if need > free:
            raise BadInput(
                "--jobs",
                f"{jobs} worktrees need {_human(need)} but {where} has {_human(free)} free",
            )
    return jobs


def _human(n: int) -> str:
    """A byte count for people: 1.4 GB."""
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _build_with_progress(
    an: Analysis, cmd: str, jobs: int, step_timeout: float | None = None
) -> dict[int, dict[str, Any]]:
    from rich.progress import Progress

    from series_tool.build import build_steps
    from series_tool.render import console_for

    with Progress(console=console_for(sys.stderr), transient=True) as progress:
        task = progress.add_task(
            f"building the base and {len(an.steps) - 1} steps", total=len(an.steps)
        )

        def advance(index: int, result: dict[str, object]) -> None:
            progress.advance(task)
            patch = an.steps[index].patch
            label = patch.label if index and patch else "the base"
            progress.console.print(f"build after {label}: {result['status']}")

        return build_steps(an, cmd, jobs, advance, step_timeout)


def _identity(an: Analysis) -> tuple[str, str]:
    """Who the generated patches are from and when, as `git format-patch` says it: git's
    author identity (`git var GIT_AUTHOR_IDENT`: user.name/email, GIT_AUTHOR_* variables),
    else the series author, now."""
    from email.utils import formatdate

    from series_tool.replay import GitTree

    if isinstance(an.tree, GitTree):
        try:
            ident = str(an.tree.repo.git.var("GIT_AUTHOR_IDENT"))
        except Exception:
            ident = ""
        who, _, when = ident.rpartition("> ")
        stamp, _, zone = when.partition(" ")
        if who and stamp.isdigit() and len(zone) == 5:
            sign = -1 if zone[0] == "-" else 1
            offset = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
            import datetime

            tz = datetime.timezone(datetime.timedelta(seconds=offset))
            moment = datetime.datetime.fromtimestamp(int(stamp), tz)
            from email.utils import format_datetime

            return who + ">", format_datetime(moment)
        if who := (an.tree.identity() or ""):
            return who, formatdate(localtime=True)
    first = an.series.patches[0] if an.series.patches else None
    author = first.author if first else "series-tool <series-tool@localhost>"
    return author, formatdate(localtime=True)


def run_rewrite(args: argparse.Namespace) -> int:
    """`series-tool rewrite`: write conversion patches for the callers the series missed."""
    from series_tool.checks import not_a_use, prototype_misfits
    from series_tool.replay import GitTree
    from series_tool.rewrite import RewritePlan, changed_later, load_rules, plan_rewrite

    outputs = [
        Output(flag, path, is_dir=flag == "-o")
        for flag, path in (("-o", args.output_dir), ("--mbox", args.mbox), ("--cocci", args.cocci))
        if path is not None
    ]
    check_outputs(outputs, [args.source, args.rules], force=args.force)
    _check_build_args(args)
    if args.build is not None and args.build.strip() == "kernel":
        # kbuild plans objects from every step's references; the check's replay (the
        # series with the mails inserted) has none computed, so it is not offered.
        raise BadInput("--build", "rewrite --check builds with a command, not 'kernel'")
    rules = load_rules(args.rules) if args.rules else None
    an = _analyse(args)
    if an.series_only:
        raise BadInput(
            an.series.source, "rewrite needs a tree: run it inside a git checkout or pass --repo"
        )
    if not an.migration.old and not an.prototype_changes:
        raise BadInput(an.series.source, "no old symbol found to migrate from (use --old/--new)")
    author, date = _identity(an)
    index, remaining = an.before_first_removal()
    # A same-named #define of another entity is no use of the old one, and a definition
    # or declaration left behind is no caller (verify warns about it): nothing to convert.
    remaining = [r for r in remaining if not not_a_use(an, r.symbol, r)]
    # Only the callers the series misses: a site a later patch converts is the series' own.
    remaining, converted_later = changed_later(
        remaining, an.read_at(index), an.read_at(len(an.steps) - 1)
    )
    plan = (
        plan_rewrite(
            an.series,
            an.migration,
            remaining,
            an.read_at(index),
            rules,
            author,
            date,
            history=functools.cache(an.tree.subjects) if isinstance(an.tree, GitTree) else None,
            base_read=an.read_at(0),
        )
        if an.migration.old
        else RewritePlan()
    )
    # A use left behind by a prototype changed in place is a missed caller too, one that
    # is not rewritten: listed, so that rewrite never stays silent where verify errs.
    misfits = prototype_misfits(an)
    plan.not_handled.extend(misfits)
    written: list[str] = []
    if args.output_dir and plan.patches:
        make_dir("-o", args.output_dir)
        patch_files = {
            os.path.realpath(os.path.join(args.output_dir, gp.filename)) for gp in plan.patches
        }
        if args.cocci and os.path.realpath(args.cocci) in patch_files:
            raise BadInput("--cocci", f"{args.cocci} is also a patch file written by -o")
        for gp in plan.patches:
            written.append(write_in_dir("-o", args.output_dir, gp.filename, gp.mail))
    elif args.mbox and plan.patches:
        write_text("--mbox", args.mbox, "".join(gp.mail for gp in plan.patches))
        written.append(args.mbox)
    if args.cocci:
        from series_tool.rewrite import semantic_patch

        write_text("--cocci", args.cocci, semantic_patch(plan.conversion, rules))
        written.append(args.cocci)
    report = {**plan.to_dict(), "series": an.series.to_dict(), "written": written}
    report["converted_later"] = [r.to_dict() for r in converted_later]
    if args.check or args.build:
        report["check"] = _check_rewrite(an, index, plan, args, [r for r, _ in misfits]).to_dict()
    removal = an.steps[index + 1].patch if index + 1 < len(an.steps) else None
    report["apply_before_patch"] = removal.number if removal else None
    # With an output on stdout ('-'), the report goes to stderr so the two never mix.
    stream = sys.stderr if any(o.stdout for o in outputs) else sys.stdout
    if args.format == "json":
        from series_tool.render import to_json

        stream.write(to_json(report))
    else:
        from series_tool.render import console_for, rewrite_text

        rewrite_text(console_for(stream), report, plan.patches)
    # Every code kind left unconverted breaks the build (an address use, an #include...).
    unhandled_code = [r for r, _ in plan.not_handled if r.kind in CODE_KINDS]
    failed_check = "check" in report and not report["check"]["ok"]
    # A generated conversion with review items is a site the tool is not sure of: the
    # mail is written, and the run still says a person must look (README's contract).
    to_review = plan.review or plan.reviewed_conversions()
    return EXIT_FINDING if unhandled_code or to_review or failed_check else EXIT_OK


def _check_rewrite(
    an: Analysis,
    index: int,
    plan: RewritePlan,
    args: argparse.Namespace,
    misfits: list[Reference],
) -> CheckResult:
    """`rewrite --check`: the series replayed with the generated mails before its removal
    (`misfits`: uses left unfitting a prototype changed in place, never converted);
    with `--build CMD`, CMD run on the base, after each mail, the removal and the end."""
    from series_tool.checks import not_a_use
    from series_tool.rewrite import check_rewrite, mail_patch

    mails = [
        mail_patch(n, gp.subject, gp.diff, "series-tool")
        for n, gp in enumerate(plan.patches, start=1)
    ]
    removal = an.steps[index + 1].refs if index + 1 < len(an.steps) else an.steps[-1].refs
    removal = [r for r in removal if not not_a_use(an, r.symbol, r)]
    result = check_rewrite(
        an.series.patches, mails, index, an.tree, an.migration.old, removal, misfits
    )
    if args.build:
        builds = _build_check(an, result, args)
        base = builds.get(0, {})
        if base.get("code") in (126, 127):
            tail = str(base.get("log_tail", "")).strip().splitlines()
            last = tail[-1] if tail else "no output"
            raise BadInput(
                "--build",
                f"{args.build!r} cannot run on the base tree (exit {base['code']}): {last}",
            )
        result.add_builds(builds)
    return result


def _build_check(
    an: Analysis, result: CheckResult, args: argparse.Namespace
) -> dict[int, dict[str, object]]:
    """Build the steps of the check's replay (the series with the mails inserted) with the
    build stage, as bisect-report builds the series' own steps."""
    import dataclasses

    from rich.progress import Progress

    from series_tool.build import build_steps
    from series_tool.checks import ListRefs
    from series_tool.render import console_for

    assert result.replayed is not None
    rep = result.replayed
    template = an.steps[0]
    steps = [
        dataclasses.replace(
            template,
            index=i,
            patch=result.patches[i - 1] if i else None,
            apply=rep.steps[i - 1].apply if i else None,
            view=ListRefs([]),
        )
        for i in result.build_indices()
    ]
    series = dataclasses.replace(an.series, patches=result.patches)
    checked = dataclasses.replace(
        an, ingested=dataclasses.replace(an.ingested, series=series), steps=steps, replayed=rep
    )
    if args.build.strip() == "kernel":
        return dict(_kernel_build(args, checked)["steps"])
    spec = _tuxmake_spec(args)
    if spec is not None:
        return dict(_tuxmake_build(args, checked, spec)["steps"])
    labels = {st.index: (st.patch.subject if st.patch else "the base") for st in steps}
    with Progress(console=console_for(sys.stderr), transient=True) as progress:
        task = progress.add_task(f"building {len(steps)} states", total=len(steps))

        def advance(i: int, res: dict[str, object]) -> None:
            progress.advance(task)
            progress.console.print(f"build after {labels[i]}: {res['status']}")

        return build_steps(checked, args.build, _jobs(args, checked), advance, args.step_timeout)

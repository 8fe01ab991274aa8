"""The `series-tool` command line: argument parsing, exit codes, and nothing else.

Exit status: 0 = fine/safe, 1 = an error finding, 2 = bad input or usage. Bad input is
one line on stderr, never a traceback (set SERIES_TOOL_DEBUG=1 to see one for a bug).
"""

from __future__ import annotations

import argparse
import errno
import gc
import os
import select
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from series_tool import __version__
from series_tool.errors import BadInput

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2

_SOURCE_HELP = (
    "the series: an mbox (mboxo/mboxrd, git format-patch --stdout, patchwork or b4 download), "
    "a gzipped mbox (lore t.mbox.gz), a Maildir, a directory of format-patch files, one patch "
    "mail, or - for stdin"
)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with one line (argparse's default is also 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"series-tool: {message} (see '{self.prog} --help')\n")


def _add_analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--repo",
        metavar="DIR",
        help="the tree: a git repository (read through git, never modified) or a plain "
        "directory; default: the git checkout you are in, else series-only mode",
    )
    p.add_argument(
        "--base",
        metavar="REV",
        help="the revision the series applies to; default: the series' base-commit: when "
        "the repository has it, else HEAD",
    )
    p.add_argument(
        "--old", action="append", metavar="SYMBOL", help="old symbol (repeat; default: inferred)"
    )
    p.add_argument(
        "--new", action="append", metavar="SYMBOL", help="new symbol (repeat; default: inferred)"
    )


def _add_build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--build",
        metavar="CMD",
        help="build each step in a temporary worktree: a shell command, 'kernel' for "
        "targeted kbuild objects of what each step can break, or "
        "'tuxmake[:ARCH[:TOOLCHAIN[:KCONFIG]]]' for one full tuxmake build per step "
        "(host runtime; pip install 'series-tool[tuxmake]')",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="steps built at once (default 1), or with --build kernel make -jN (default: the "
        "number of cores); at most the number of cores unless --force-jobs",
    )
    p.add_argument(
        "--force-jobs",
        action="store_true",
        help="allow --jobs above the number of cores (each job may take a worktree of disk)",
    )
    p.add_argument(
        "--arch",
        metavar="A,B",
        help="with --build kernel: also build for these kbuild architectures (arm64,powerpc...)",
    )
    p.add_argument(
        "--kconfig",
        metavar="FILE|TARGET",
        default="defconfig",
        help="with --build kernel: the base configuration, a .config file or a kbuild target "
        "(defconfig, allmodconfig, tinyconfig...); default defconfig",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        metavar="SECONDS",
        help="stop a step's build (its whole process group) after SECONDS",
    )


def _add_tuxsuite_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tuxsuite-plan",
        metavar="FILE",
        help="write a TuxSuite plan (one build per step x architecture: the host's and "
        "--arch) and, beside it, a git bundle of the steps as commits of --tuxsuite-branch; "
        "series-tool never pushes: it prints the commands that do",
    )
    p.add_argument(
        "--tuxsuite-branch", metavar="NAME", help="with --tuxsuite-plan: the steps' branch"
    )
    p.add_argument(
        "--tuxsuite-git-repo",
        metavar="URL",
        help="with --tuxsuite-plan: the git:// or https:// repository the branch is pushed "
        "to, which TuxSuite fetches",
    )
    p.add_argument(
        "--tuxsuite-toolchain",
        metavar="NAME",
        default="gcc",
        help="with --tuxsuite-plan: the TuxSuite toolchain (gcc, gcc-13, clang...); default gcc",
    )
    p.add_argument(
        "--tuxsuite-results",
        metavar="FILE",
        help="read a finished plan's results (tuxsuite plan submit/get --json-out FILE) "
        "into the per-step report",
    )
    p.add_argument(
        "--tuxsuite-logs",
        metavar="DIR",
        help="with --tuxsuite-results: the folder of the builds' downloaded logs "
        "(tuxsuite --download --output-dir DIR), for gcc's diagnostics per step",
    )


def _add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", nargs="?", help=_SOURCE_HELP)
    p.add_argument("--version", type=int, metavar="N", help="which version of the series (vN)")
    p.add_argument(
        "--message-id",
        metavar="ID",
        help="instead of SOURCE: the thread of this message in --archive (as b4 mbox "
        "takes it from lore)",
    )
    p.add_argument(
        "--archive",
        metavar="ARCHIVE",
        help="a local list archive for --message-id: a public-inbox git repository "
        "(or v2 inbox directory), an mbox or a Maildir",
    )
    p.add_argument(
        "--scan-dir",
        metavar="DIR",
        help="the -o DIR of a `scan` of --archive: its thread index answers --message-id "
        "without reading the whole archive (mail archived after that scan is read); "
        "default: series-tool-scan when it holds a scan of --archive",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands (also used by the docs tests)."""
    parser = _Parser(
        prog="series-tool",
        description="Analyse a Linux-kernel-style patch series that migrates an API: "
        "which callers it converts, whether the old API is gone before it is removed, "
        "whether every step is safe to bisect, and the patches for callers it missed.",
    )
    parser.add_argument("-V", "--tool-version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    show = sub.add_parser(
        "show",
        help="parse a series from mail and show its patches",
        description="Group the mails of SOURCE into series and versions, pick the newest "
        "version (or --version N), and show its patches, trailers (including those from "
        "review replies), diff sizes, and what is missing or duplicated.",
    )
    _add_source_args(show)
    show.add_argument("--format", choices=["text", "json"], default="text")

    verify = sub.add_parser(
        "verify",
        help="prove every caller of the old API is converted before it is removed",
        description="Infer the migration (old -> new symbols) from the series, map every hunk "
        "to the functions and call sites it touches, replay the series over the tree in "
        "memory, and list every reference to an old symbol that remains when the patch that "
        "removes it lands. Exit 0 = safe, 1 = an error finding, 2 = bad input.",
    )
    _add_source_args(verify)
    _add_analysis_args(verify)
    _add_build_args(verify)
    verify.add_argument("--format", choices=["text", "json", "markdown"], default="text")

    bisect = sub.add_parser(
        "bisect-report",
        help="is every step of the series safe to land on and bisect through",
        description="For each step k (patches 1..k applied): does patch k apply, are symbols "
        "used that nothing defines yet, are old symbols removed while still referenced, and "
        "how far the migration has come. --build CMD also builds each step in a temporary "
        "git worktree. Exit 0 = every step safe, 1 = some step unsafe, 2 = bad input.",
    )
    _add_source_args(bisect)
    _add_analysis_args(bisect)
    _add_build_args(bisect)
    _add_tuxsuite_args(bisect)
    bisect.add_argument("--format", choices=["text", "json", "markdown", "html"], default="text")
    bisect.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE (- for stdout)"
    )

    rewrite = sub.add_parser(
        "rewrite",
        help="generate conversion patches for callers the series missed",
        description="Find the callers of old symbols that remain when the removal patch "
        "comes, learn the conversion from the series (argument mapping, variant choice), "
        "and write one git-am-able patch per caller function.",
    )
    _add_source_args(rewrite)
    _add_analysis_args(rewrite)
    out = rewrite.add_mutually_exclusive_group()
    out.add_argument("-o", "--output-dir", metavar="DIR", help="write one .patch file per mail")
    out.add_argument("--mbox", metavar="FILE", help="write all mails into one mbox (- for stdout)")
    rewrite.add_argument(
        "--cocci", metavar="FILE", help="also write a Coccinelle semantic patch (- for stdout)"
    )
    rewrite.add_argument(
        "--force",
        action="store_true",
        help="write into an -o directory that already holds files (default: refuse, so "
        "patches of an earlier run are not mixed with these)",
    )
    rewrite.add_argument(
        "--rules", metavar="FILE", help="TOML rules for choosing variants (default: shipped rules)"
    )
    rewrite.add_argument(
        "--check",
        action="store_true",
        help="replay base + series with the generated mails inserted where they go and "
        "check every patch still applies and nothing of the old API remains",
    )
    _add_build_args(rewrite)
    rewrite.add_argument("--format", choices=["text", "json"], default="text")
    index = sub.add_parser(
        "index",
        help="build a word index of the tree, so later runs need no git grep",
        description="Read every file of the tree at REV once and store which files hold "
        "each word (SQLite, under $XDG_CACHE_HOME/series-tool/index, keyed by the tree id). "
        "Later runs at a commit with that tree find references through it instead of "
        "git grep, with the same results; other trees still use git grep.",
    )
    index.add_argument(
        "--repo", metavar="DIR", help="the repository (default: the checkout you are in)"
    )
    index.add_argument(
        "--base", metavar="REV", default="HEAD", help="the commit to index (default: HEAD)"
    )
    scan = sub.add_parser(
        "scan",
        help="check every API-removal series of a list archive",
        description="Read a list archive (a public-inbox git repository, a v2 inbox "
        "directory, an mbox or a Maildir), group its mail into series, keep the newest "
        "version of each, select those that remove an API the tree has, and run verify and "
        "bisect-report on each. Writes per series a JSON report, a patchwork check, a reply "
        "mail (never sent) and an HTML page, and an index.html, into -o DIR; the state there "
        "makes the next run read only new mail. Exit 0 = nothing failed, 1 = a series "
        "failed, 2 = bad input.",
    )
    scan.add_argument("archive", metavar="ARCHIVE", help="the list archive")
    scan.add_argument("--repo", metavar="DIR", help="the tree (default: the checkout you are in)")
    scan.add_argument(
        "--base",
        metavar="REV",
        help="check every series at REV (default: its base-commit: when the tree has it, "
        "else HEAD)",
    )
    when = scan.add_mutually_exclusive_group()
    when.add_argument(
        "--since", metavar="DATE", help="only messages archived from DATE on (YYYY-MM-DD)"
    )
    when.add_argument(
        "--all", action="store_true", help="read the whole archive again, ignoring the state"
    )
    scan.add_argument(
        "-o",
        "--output-dir",
        metavar="DIR",
        default="series-tool-scan",
        help="reports, checks, replies, index.html and the state (default: series-tool-scan)",
    )
    scan.add_argument("--format", choices=["text", "json"], default="text")
    scan.add_argument(
        "--list", metavar="ADDR", help="the list to Cc in replies (default: from List-Id)"
    )
    scan.add_argument(
        "--url-base",
        metavar="URL",
        help="where -o DIR is served: the checks' target_url points there",
    )
    scan.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        metavar="N",
        help="processes decoding mail and checking series (default: 2)",
    )
    scan.add_argument(
        "--budget",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="time allowed to check one series; past it the series is reported as not "
        "checked (default: 120)",
    )
    scan.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


#: The commands that analyse one series (see `_collector_paused`).
_ONE_SERIES = frozenset({"verify", "bisect-report", "rewrite"})


@contextmanager
def _collector_paused(command: str) -> Iterator[None]:
    """No cyclic garbage collection while one series is analysed (the state is restored
    after it).

    The analysis keeps millions of small objects until it is done (the patches' lines,
    every version of the touched files, the references at every step) and makes almost
    no reference cycles: each full collection walks all of them to free next to nothing
    (a fifth of the main process' CPU for a 1,000-patch series, a third for 5,000).
    Reference counting still frees everything else as it goes.
    """
    paused = command in _ONE_SERIES and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _dispatch(args: argparse.Namespace) -> int:
    # Imports are deferred so `--help` and each command load only what they use:
    # start-up time counts against the git-grep budget.
    if args.command == "scan":
        from series_tool.commands import run_scan

        return run_scan(args)
    if args.command == "index":
        from series_tool.commands import run_index

        return run_index(args)
    if args.command == "show":
        from series_tool.commands import run_show

        return run_show(args)
    if args.command == "verify":
        from series_tool.commands import run_verify

        return run_verify(args)
    if args.command == "bisect-report":
        from series_tool.commands import run_bisect

        return run_bisect(args)
    from series_tool.commands import run_rewrite

    return run_rewrite(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `series-tool` console script."""
    args = build_parser().parse_args(argv)
    try:
        with _collector_paused(args.command):
            code = _dispatch(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BadInput as exc:
        print(f"series-tool: {exc.where}: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        # SIGTERM and SIGHUP during a build arrive as a KeyboardInterrupt with `signum`.
        signum = getattr(exc, "signum", 2)
        print("series-tool: interrupted", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError as exc:
        if exc.filename is not None or not _stdout_gone():
            return _internal_error(exc)
        # `series-tool show x | head`: the reader went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        if exc.filename is None and exc.errno in _WRITE_ERRORS:
            # `series-tool verify x > /dev/full`: our own output could not be written.
            print(f"series-tool: stdout: cannot write: {exc.strerror}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return _internal_error(exc)
    except Exception as exc:
        return _internal_error(exc)


#: errno values of a failed write to stdout: the user's disk or device, not our bug.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _stdout_gone() -> bool:
    """Whether our stdout is a pipe whose reader has gone away.

    A BrokenPipeError can also come from a git process we feed; only a closed reader of
    our own stdout is the harmless `| head` case. poll() reports POLLERR for the write end
    of a pipe with no reader left.
    """
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in poller.poll(0))
    except (OSError, ValueError):
        return False


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("SERIES_TOOL_DEBUG"):
        raise exc
    print(
        f"series-tool: internal error: {type(exc).__name__}: {exc} "
        "(set SERIES_TOOL_DEBUG=1 for a traceback, and please report it)",
        file=sys.stderr,
    )
    return 3


if __name__ == "__main__":
    sys.exit(main())

"""Bad input: one clear line, exit status 2, never a traceback (run as a real subprocess)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from examples_repo import EXAMPLES
from repo_snapshot import repo_of, unchanged


def cli(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a subprocess; the tree it reads must be unchanged afterwards."""
    repo = repo_of(args, cwd)
    with unchanged(*([repo] if repo is not None else [])):
        return subprocess.run(
            [sys.executable, "-m", "series_tool.cli", *args],
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            cwd=cwd,
        )


def assert_one_line_error(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in lines[0]


@pytest.mark.parametrize("command", ["show", "verify", "bisect-report", "rewrite"])
def test_missing_file(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nope.mbox"
    assert_one_line_error(cli(command, str(missing)), str(missing))


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert_one_line_error(cli("show", str(empty)), str(empty))


def test_not_mail(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    assert_one_line_error(cli("verify", str(junk)), str(junk))


def test_mbox_without_patch(tmp_path: Path) -> None:
    mbox = tmp_path / "talk.mbox"
    mbox.write_text(
        "From someone@example.org Mon Sep 17 00:00:00 2001\n"
        "From: A <a@example.org>\nSubject: hello\nMessage-Id: <1@x>\n\njust talk\n"
    )
    assert_one_line_error(cli("show", str(mbox)), str(mbox))


def test_bad_hunk_counts_in_a_single_patch(tmp_path: Path) -> None:
    text = (EXAMPLES / "ring-slot.mbox").read_text()
    one = text.split("\nFrom ", 3)[2]  # the second mail: patch 2/6
    broken = "From " + one.replace("@@ -9,7 +9,7 @@", "@@ -9,9 +9,9 @@", 1)
    path = tmp_path / "one.patch"
    path.write_text(broken)
    res = cli("show", str(path))
    assert res.returncode in (1, 2), res.stderr
    assert "Traceback" not in res.stderr
    assert "hunk" in res.stderr and str(path) in res.stderr


def test_unknown_version(tmp_path: Path) -> None:
    assert_one_line_error(cli("show", str(EXAMPLES / "ring-slot.mbox"), "--version", "7"), "7")


def test_bad_base_revision(tmp_path: Path) -> None:
    res = cli(
        "verify",
        str(EXAMPLES / "ring-slot.mbox"),
        "--repo",
        str(EXAMPLES / "ring"),
        "--base",
        "nope",
    )
    # A plain directory has no revisions: --base makes no sense there.
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_stdin_and_gzip(tmp_path: Path) -> None:
    data = (EXAMPLES / "ring-slot.mbox").read_bytes()
    res = cli("show", "-", "--format", "json", stdin=data)
    assert res.returncode == 0, res.stderr
    assert '"total": 6' in res.stdout
    gz = tmp_path / "t.mbox.gz"
    gz.write_bytes(gzip.compress(data))
    res2 = cli("show", str(gz), "--format", "json")
    assert res2.returncode == 0 and res2.stdout == res.stdout


def test_help_for_every_command() -> None:
    for command in ("show", "verify", "bisect-report", "rewrite"):
        res = cli(command, "--help")
        assert res.returncode == 0 and "usage: series-tool " + command in res.stdout
    res = cli("frobnicate")
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["bisect-report", "{M}", "--format", "html", "-o", "{tmp}/no/such/dir/r.html"],
        ["bisect-report", "{M}", "-o", "{tmp}"],
        ["rewrite", "{M}", "-o", "{M}"],
        ["rewrite", "{M}", "--mbox", "{tmp}"],
        ["rewrite", "{M}", "--cocci", "{tmp}"],
        ["bisect-report", "{M}", "--build", " "],
        ["verify", "{M}", "--old", ""],
        ["verify", "{M}", "--new", "not-a-symbol"],
        ["verify", "{M}", "--repo", "{M}"],
    ],
)
def test_bad_output_and_option_values(tmp_path: Path, args: list[str]) -> None:
    mbox = str(EXAMPLES / "ring-slot.mbox")
    argv = [a.format(M=mbox, tmp=tmp_path) for a in args]
    res = cli(*argv, "--repo", str(EXAMPLES / "ring")) if "--repo" not in argv else cli(*argv)
    assert_one_line_error(res)


def test_truncated_gzip(tmp_path: Path) -> None:
    gz = tmp_path / "t.mbox.gz"
    gz.write_bytes(gzip.compress((EXAMPLES / "ring-slot.mbox").read_bytes())[:500])
    assert_one_line_error(cli("show", str(gz)), str(gz), "truncated")


def test_reports_get_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = cli(
        "bisect-report",
        str(EXAMPLES / "ring-slot.mbox"),
        "--repo",
        str(EXAMPLES / "ring"),
        "--format",
        "html",
        "-o",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'[[migration]]\nold = "caf\xe9"\n', ["not UTF-8", "0xe9"]),
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", ["nested too deeply"]),
        (b"x = " + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n", ["nested too deeply"]),
    ],
)
def test_bad_rules_files_are_one_line(tmp_path: Path, content: bytes, words: list[str]) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes(content)
    res = cli(
        "rewrite",
        str(EXAMPLES / "ring-slot-missed.mbox"),
        "--repo",
        str(EXAMPLES / "ring"),
        "--rules",
        str(rules),
    )
    assert_one_line_error(res, str(rules), *words)


def test_no_cyclic_collection_while_one_series_is_analysed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify analyses with the cyclic garbage collector paused, and gives it back (the
    same process may go on: a test suite, a caller of main); also after bad input."""
    import gc

    import series_tool.checks as checks
    from series_tool.cli import main

    seen: list[bool] = []
    analyse = checks.analyse

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return analyse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checks, "analyse", spy)
    assert gc.isenabled()
    mbox, repo = str(EXAMPLES / "ring-slot.mbox"), str(EXAMPLES / "ring")
    assert main(["verify", mbox, "--repo", repo, "--format", "json"]) == 0
    assert seen == [False] and gc.isenabled()
    assert main(["verify", str(tmp_path / "nothing.mbox"), "--repo", repo]) == 2
    assert gc.isenabled()
    capsys.readouterr()

"""Outputs go where they were asked, into what is there, and nowhere else (issue 10, item 2)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, ring_repo
from repo_snapshot import unchanged

MISSED = EXAMPLES / "ring-slot-missed.mbox"
RULES = EXAMPLES / "ring-rules.toml"


def cli(repo: Path, *args: str, stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess reading `repo`, which must be unchanged afterwards."""
    with unchanged(repo):
        return subprocess.run(
            [sys.executable, "-m", "series_tool.cli", *args, "--repo", str(repo)],
            capture_output=stdout is None,
            stdout=stdout,
            stderr=subprocess.PIPE if stdout is not None else None,
            text=True,
            check=False,
        )


def one_line_error(res: subprocess.CompletedProcess[str], *words: str) -> str:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def device(tmp_path: Path, name: str, minor: int) -> Path:
    """A character device like /dev/null (minor 3) or /dev/full (minor 7).

    As root a private node in tmp_path (so a bug replacing it destroys nothing of the
    machine's); otherwise the system's own, which an unprivileged run cannot replace."""
    if os.geteuid() != 0:
        return Path("/dev") / name
    node = tmp_path / name
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return node


@pytest.mark.parametrize("flag", ["--mbox", "--cocci"])
def test_a_device_is_written_not_replaced(tmp_path: Path, flag: str) -> None:
    repo = ring_repo(tmp_path)
    null = device(tmp_path, "null", 3)
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), flag, str(null))
    assert res.returncode == 0, res.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert not [p for p in null.parent.iterdir() if p.name.startswith(".series-tool-")]


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    res = cli(
        repo, "bisect-report", str(EXAMPLES / "ring-slot.mbox"), "--format", "json", "-o", str(fifo)
    )
    reader.join(timeout=30)
    assert res.returncode == 0, res.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(got[0])["ok"] is True


def test_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    target = tmp_path / "real.html"
    target.write_text("old")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    res = cli(
        repo, "bisect-report", str(EXAMPLES / "ring-slot.mbox"), "--format", "html", "-o", str(link)
    )
    assert res.returncode == 0, res.stderr
    assert link.is_symlink() and "<html" in target.read_text()


@pytest.mark.parametrize("flag", ["--mbox", "--cocci"])
def test_no_space_left_is_exit_2(tmp_path: Path, flag: str) -> None:
    repo = ring_repo(tmp_path)
    full = device(tmp_path, "full", 7)
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), flag, str(full))
    one_line_error(res, flag, "No space left on device")
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_stdout_on_a_full_device_is_exit_2(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    with open(device(tmp_path, "full", 7), "w") as full:
        res = cli(repo, "verify", str(EXAMPLES / "ring-slot.mbox"), stdout=full.fileno())
    one_line_error(res, "No space left on device")


def test_dash_is_stdout(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    res = cli(
        repo, "bisect-report", str(EXAMPLES / "ring-slot.mbox"), "--format", "json", "-o", "-"
    )
    assert res.returncode == 0 and json.loads(res.stdout)["ok"] is True
    assert not (Path.cwd() / "-").exists()
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), "--mbox", "-")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("From ") and "ring_slot_rw" in res.stdout
    assert "ring_compact" in res.stderr  # the report moved out of the way
    res = cli(repo, "rewrite", str(MISSED), "--mbox", "-", "--cocci", "-")
    one_line_error(res, "stdout")


@pytest.mark.parametrize(
    "args",
    [
        ["rewrite", "{series}", "--mbox", "{series}"],
        ["rewrite", "{series}", "--rules", "{rules}", "--cocci", "{rules}"],
        ["rewrite", "{series}", "--mbox", "{tmp}/x", "--cocci", "{tmp}/x"],
        ["rewrite", "{series}", "--mbox", "{tmp}/x", "--cocci", "{tmp}/./x"],
        ["bisect-report", "{series}", "-o", "{series}"],
        ["rewrite", "{tmp}/patches", "-o", "{tmp}/patches"],
        ["rewrite", "{tmp}/patches", "--mbox", "{tmp}/patches/extra.patch"],
    ],
)
def test_an_input_or_another_output_is_never_overwritten(tmp_path: Path, args: list[str]) -> None:
    repo = ring_repo(tmp_path)
    series = tmp_path / "series.mbox"
    series.write_bytes(MISSED.read_bytes())
    rules = tmp_path / "rules.toml"
    rules.write_bytes(RULES.read_bytes())
    (tmp_path / "patches").mkdir()
    subprocess.run(
        ["git", "mailsplit", f"-o{tmp_path / 'patches'}", str(series)],
        check=True,
        capture_output=True,
    )
    before = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "ring" not in p.parts
    }
    argv = [a.format(series=series, rules=rules, tmp=tmp_path) for a in args]
    one_line_error(cli(repo, *argv))
    after = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "ring" not in p.parts
    }
    assert after == before


def test_a_non_empty_output_directory_needs_force(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / "0001-stale.patch"
    stale.write_text("from an earlier run\n")
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), "-o", str(out))
    one_line_error(res, "-o", "not empty", "--force")
    assert [p.name for p in out.iterdir()] == [stale.name]
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), "-o", str(out), "--force")
    assert res.returncode == 0, res.stderr
    assert len(list(out.glob("*.patch"))) == 2 and stale.read_text() == "from an earlier run\n"


def test_a_symlink_inside_the_output_directory_is_replaced_not_followed(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    out = tmp_path / "out"
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), "-o", str(out))
    assert res.returncode == 0, res.stderr
    (name,) = [p.name for p in out.iterdir()]
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (out / name).unlink()
    (out / name).symlink_to(victim)
    res = cli(repo, "rewrite", str(MISSED), "--rules", str(RULES), "-o", str(out), "--force")
    assert res.returncode == 0, res.stderr
    assert victim.read_text() == "keep me" and not (out / name).is_symlink()

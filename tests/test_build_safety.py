"""`--build` must not touch what is not ours: other worktrees, processes, temp folders.

Real git repositories, real signals sent to a real `series-tool` process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, git, ring_repo, snapshot

from series_tool.cli import main

ROOT = Path(__file__).resolve().parents[1]
SERIES = str(EXAMPLES / "ring-slot.mbox")


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _cli(tmp: Path, *argv: str) -> subprocess.Popen[str]:
    """series-tool in a subprocess with a private TMPDIR (to see what it leaves there)."""
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "series_tool.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"


def test_a_user_worktree_whose_folder_is_missing_keeps_its_head_and_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`git worktree prune` would drop the registration of a worktree on an unmounted
    drive; series-tool removes only the worktrees it made."""
    repo = ring_repo(tmp_path)
    away = tmp_path / "usb" / "feature"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(away))
    admin = repo / ".git" / "worktrees" / "feature"
    head, index = (admin / "HEAD").read_bytes(), (admin / "index").read_bytes()
    away.rename(tmp_path / "usb" / "elsewhere")  # the drive is unmounted for a while
    before = snapshot(repo)
    code = main(["bisect-report", SERIES, "--repo", str(repo), "--build", "true"])
    capsys.readouterr()
    assert code == 0
    assert (admin / "HEAD").read_bytes() == head and (admin / "index").read_bytes() == index
    assert snapshot(repo) == before
    (tmp_path / "usb" / "elsewhere").rename(away)
    assert git(away, "rev-parse", "--abbrev-ref", "HEAD").strip() == "feature"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_stops_the_builds_and_cleans_up(tmp_path: Path, signum: int) -> None:
    """The signal reaches the build's whole process group (a background child too), the
    worktrees and temp folders go, the repository is as it was, exit 128+signal."""
    repo = ring_repo(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    pids = tmp_path / "pids"
    before = snapshot(repo)
    # A build that ignores nothing but takes long, with a grandchild in the background.
    cmd = f"sleep 60 & echo $! >> {pids}; echo $$ >> {pids}; sleep 60"
    proc = _cli(tmp, "bisect-report", SERIES, "--repo", str(repo), "--build", cmd, "--jobs", "2")
    _wait_for(pids)
    time.sleep(0.3)
    started = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 15  # not after the 60 s step
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and "interrupted" in err
    spawned = [int(x) for x in pids.read_text().split()]
    assert spawned and not [p for p in spawned if _alive(p)]
    assert list(tmp.iterdir()) == []
    assert snapshot(repo) == before


def test_step_timeout_kills_the_group_and_goes_on(tmp_path: Path) -> None:
    repo = ring_repo(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = snapshot(repo)
    pids = tmp_path / "pids"
    cmd = f"echo $$ >> {pids}; sleep 60"
    started = time.monotonic()
    proc = _cli(
        tmp,
        "bisect-report",
        SERIES,
        "--repo",
        str(repo),
        "--build",
        cmd,
        "--step-timeout",
        "0.5",
        "--format",
        "json",
    )
    out, _ = proc.communicate(timeout=120)
    assert time.monotonic() - started < 40
    rep = json.loads(out)
    assert rep["base_build"]["status"] == "timeout"
    assert {s["build"]["status"] for s in rep["steps"]} == {"timeout"}
    assert proc.returncode == 1  # a step whose build did not finish is not called safe
    assert not [p for p in map(int, pids.read_text().split()) if _alive(p)]
    assert list(tmp.iterdir()) == [] and snapshot(repo) == before


def test_a_daemonised_child_does_not_hold_the_run(tmp_path: Path) -> None:
    """A child that leaves the group (setsid) keeping stdout open: a pipe reader would wait
    for it; the output file does not."""
    repo = ring_repo(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    pids = tmp_path / "pids"
    cmd = f"setsid sh -c 'echo $$ >> {pids}; exec sleep 30' & echo built"
    started = time.monotonic()
    proc = _cli(tmp, "bisect-report", SERIES, "--repo", str(repo), "--build", cmd)
    try:
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - started < 20, err
        assert proc.returncode == 0, err
    finally:
        for pid in map(int, pids.read_text().split()) if pids.exists() else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_jobs_are_capped_at_the_cores_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    argv = ["bisect-report", SERIES, "--repo", str(repo), "--build", "true", "--jobs", "64"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    cores = len(os.sched_getaffinity(0))
    assert f"--jobs 64 capped at {cores}" in err
    assert f"{min(cores, 7)} temporary worktree" in err and "free)" in err
    assert main([*argv, "--force-jobs"]) == 0
    err = capsys.readouterr().err
    assert "capped" not in err and "7 temporary worktrees" in err  # base + 6 steps


def test_bad_step_timeout_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = ring_repo(tmp_path)
    argv = ["bisect-report", SERIES, "--repo", str(repo), "--build", "true"]
    assert main([*argv, "--step-timeout", "0"]) == 2
    assert "--step-timeout" in capsys.readouterr().err


def test_build_kernel_outside_a_kernel_tree_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    before = snapshot(repo)
    for command in ("bisect-report", "verify"):
        assert main([command, SERIES, "--repo", str(repo), "--build", "kernel"]) == 2
        err = capsys.readouterr().err
        assert "needs a Linux source tree" in err and len(err.strip().splitlines()) == 1
    assert main(["verify", SERIES, "--repo", str(repo), "--build", "make"]) == 2
    assert "'kernel' or 'tuxmake[:...]' only" in capsys.readouterr().err
    assert snapshot(repo) == before

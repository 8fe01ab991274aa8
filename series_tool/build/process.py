"""Build commands as process groups: interruptible, time-limited, never waited on through a pipe.

Each command runs in a session (and so a process group) of its own, so a signal meant for
series-tool does not reach it by accident and a kill reaches all of it: `make` and every
compiler it started. Output goes to a file, not a pipe: a daemonised grandchild that keeps
the descriptor open cannot hold the run up waiting for end-of-file.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

#: Seconds between SIGTERM and SIGKILL when a build group is stopped.
GRACE_SECONDS = 5.0

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """series-tool received `signum` while building; the builds have been stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class Finished:
    """How one command ended."""

    code: int | None  # None when it was stopped (timeout or interrupt)
    timed_out: bool
    interrupted: bool
    seconds: float
    log: Path
    #: user + sys of the command and what it waited for (from this process's children
    #: totals around its wait: exact when one command runs at a time, as kbuild's do)
    cpu_seconds: float = 0.0


class Runner:
    """Runs commands in their own process groups and stops them all on request.

    One Runner per build run, shared by its worker threads; `stop()` may come from the
    signal handler of the main thread.
    """

    def __init__(self, timeout: float | None = None, grace: float = GRACE_SECONDS) -> None:
        self.timeout = timeout
        self.grace = grace
        self._lock = threading.Lock()
        self._groups: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()
        self.signum: int | None = None

    def run(
        self,
        argv: str | Sequence[str],
        cwd: Path,
        log: Path,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Finished:
        """Run `argv` (a shell command when a string) in `cwd`, output appended to `log`."""
        start = time.monotonic()
        limit = timeout if timeout is not None else self.timeout
        if self.stopping.is_set():
            return Finished(None, False, True, 0.0, log)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                shell=isinstance(argv, str),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own session and process group: pgid == pid
            )
        with self._lock:
            self._groups[proc.pid] = proc
        cpu_before = _children_cpu()
        try:
            if self.stopping.is_set():  # a stop that came while it was starting
                self._kill_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=limit)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                self._kill_group(proc, signal.SIGTERM)
            code = proc.returncode
        finally:
            # Whatever the command left behind in its group (`cmd &`) goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with self._lock:
                self._groups.pop(proc.pid, None)
        interrupted = self.stopping.is_set()
        stopped = timed_out or interrupted
        return Finished(
            None if stopped else code,
            timed_out,
            interrupted,
            time.monotonic() - start,
            log,
            _children_cpu() - cpu_before,
        )

    def _kill_group(self, proc: subprocess.Popen[bytes], first: int) -> None:
        """`first` to the group, SIGKILL after the grace period if it is still there."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=self.grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=self.grace)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop every running group: `signum` first, SIGKILL after the grace period.

        Runs in its own thread so a signal handler returns at once."""
        self.signum = self.signum or signum
        self.stopping.set()
        with self._lock:
            procs = list(self._groups.values())
        for proc in procs:
            threading.Thread(target=self._kill_group, args=(proc, signum), daemon=True).start()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tail(log: Path, lines: int) -> str:
    """The last `lines` lines of a log file (read from its end: kernel logs can be long)."""
    try:
        with open(log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def forwarding_signals(runner: Runner) -> Iterator[None]:
    """While building: SIGINT, SIGTERM and SIGHUP stop the build groups and raise
    `Interrupted` in the main thread, which then removes the worktrees on its way out.

    Only the first signal acts; later ones are ignored so that the clean-up itself is not
    interrupted half-way. The previous handlers come back afterwards. Outside the main
    thread (signal handlers cannot be set there) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if runner.stopping.is_set():
            return
        runner.stop(signum)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in FORWARDED}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)

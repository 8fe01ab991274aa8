"""Writing the files a command was asked to write, and nothing else.

Every output (`-o`, `--mbox`, `--cocci`, `bisect-report -o`) goes through here:

* checked before any work: `-` (stdout) at most once, never one of the inputs (the
  series, `--rules`) or inside an input folder, never the same file as another output
  of the run, the folder must exist and be writable, an existing non-empty `-o`
  directory is refused unless `--force` (stale patches of an earlier run are the
  classic `git am *.patch` accident);
* a regular file (or a symlink to one, which stays a symlink) is replaced atomically:
  written to a temporary file beside the real target, then renamed over it;
* anything else that is there already (a device, a FIFO, a terminal, `/dev/stdout`) is
  written in place, never replaced: renaming over /dev/null as root would destroy it;
* a failed write (ENOSPC from /dev/full, EIO, a full disk) is bad input, exit 2 with one
  line naming the output.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from series_tool.errors import BadInput

STDOUT = "-"


@dataclass(frozen=True)
class Output:
    """One output a command was asked for: its option, its path, file or directory."""

    flag: str
    path: str
    is_dir: bool = False

    @property
    def stdout(self) -> bool:
        """Whether this output is the standard output (`-`)."""
        return self.path == STDOUT


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of what `path` names (following symlinks), or None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _inside(path: str, folder: str) -> bool:
    real, top = _real(path), _real(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _is_regular_or_absent(path: str) -> bool:
    """True for a regular file (through symlinks) or nothing yet; False for a device, a
    FIFO, a socket or a terminal, and for /proc and /dev names like /dev/stdout."""
    real = _real(path)
    if real.startswith(("/proc/", "/dev/")):
        return False
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return True  # reported when the write is attempted
    return stat.S_ISREG(st.st_mode)


def check_outputs(
    outputs: Sequence[Output], inputs: Iterable[str | None], force: bool = False
) -> None:
    """Refuse, before any work, outputs that would overwrite what they must not.

    `inputs` are the paths the command reads (None and `-` are skipped).
    """
    reads = [p for p in inputs if p and p != STDOUT]
    to_stdout = [o for o in outputs if o.stdout]
    if len(to_stdout) > 1:
        flags = " and ".join(o.flag for o in to_stdout)
        raise BadInput(to_stdout[1].flag, f"{flags} cannot both write to stdout ('-')")
    for o in outputs:
        if o.stdout:
            if o.is_dir:
                raise BadInput(o.flag, "needs a directory; '-' (stdout) only works for one file")
            continue
        if not o.path:
            raise BadInput(o.flag, "the output name is empty")
        for src in reads:
            same = _identity(src) is not None and _identity(src) == _identity(o.path)
            if same or (os.path.isdir(src) and _inside(o.path, src)):
                raise BadInput(o.flag, f"{o.path} is an input of this run ({src}); not overwritten")
        if o.is_dir:
            _check_dir(o, force)
        else:
            _check_file(o)
    named = [o for o in outputs if not o.stdout]
    for i, a in enumerate(named):
        for b in named[i + 1 :]:
            clash = _real(a.path) == _real(b.path) or (
                _identity(a.path) is not None and _identity(a.path) == _identity(b.path)
            )
            if clash:
                raise BadInput(b.flag, f"{b.path} is also the output of {a.flag} ({a.path})")


def _check_file(o: Output) -> None:
    if os.path.isdir(o.path):
        raise BadInput(o.flag, f"{o.path} is a directory; give a file name")
    if not _is_regular_or_absent(o.path):
        return  # a device or FIFO: written in place, no folder needed
    parent = os.path.dirname(_real(o.path))
    if not os.path.isdir(parent):
        raise BadInput(o.flag, f"{os.path.dirname(os.path.abspath(o.path))} does not exist")
    if not os.access(parent, os.W_OK):
        raise BadInput(o.flag, f"{parent} is not writable (for {o.path})")


def _check_dir(o: Output, force: bool) -> None:
    if os.path.lexists(o.path) and not os.path.isdir(o.path):
        raise BadInput(o.flag, f"{o.path} exists and is not a directory")
    if os.path.isdir(o.path):
        try:
            entries = sorted(os.listdir(o.path))
        except OSError as exc:
            raise BadInput(o.flag, f"cannot read {o.path}: {exc.strerror}") from None
        if entries and not force:
            raise BadInput(
                o.flag,
                f"{o.path} is not empty ({len(entries)} entries, e.g. {entries[0]}); files from "
                "an earlier run would mix with the new ones: use an empty directory or --force",
            )


def write_text(flag: str, path: str, text: str, stdout: TextIO | None = None) -> None:
    """Write `text` to the output `path` of option `flag` (`-`: `stdout`).

    Raises BadInput (exit 2) when the write fails, naming the output.
    """
    if path == STDOUT:
        out = stdout if stdout is not None else sys.stdout
        try:
            out.write(text)
            out.flush()
        except OSError as exc:
            raise BadInput(flag, f"cannot write to stdout: {exc.strerror or exc}") from None
        return
    data = text.encode("utf-8", "surrogateescape")
    if _is_regular_or_absent(path):
        _replace_file(flag, path, data)
    else:
        _write_in_place(flag, path, data)


def _write_in_place(flag: str, path: str, data: bytes) -> None:
    """Write into an existing device, FIFO or terminal as `cat > path` would."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise BadInput(flag, f"cannot write {path}: {exc.strerror}") from None
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError as exc:
        raise BadInput(flag, f"cannot write {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _replace_file(flag: str, path: str, data: bytes, follow: bool = True) -> None:
    """Replace a regular file atomically (never half-written); with `follow`, a symlink
    stays one and its target is written.

    A new file gets the usual permissions (0666 less the umask), an existing one keeps its own.
    """
    target = _real(path) if follow else os.path.abspath(path)
    directory = os.path.dirname(target)
    try:
        st = os.lstat(target)
        if not stat.S_ISREG(st.st_mode):
            raise OSError
        mode = stat.S_IMODE(st.st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".series-tool-")
    except OSError as exc:
        raise BadInput(flag, f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # ENOSPC and EIO show here, not after the rename
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise BadInput(flag, f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_in_dir(flag: str, directory: str, name: str, text: str) -> str:
    """Write the file `name` of the output directory `directory`; return its path.

    Unlike a named output, an entry of the directory is replaced, never followed: a
    symlink left there points anywhere, and the user asked for files in this folder.
    """
    if os.sep in name or name in ("", ".", ".."):
        raise BadInput(flag, f"{name!r} is not a file name")
    path = os.path.join(directory, name)
    if os.path.lexists(path) and not os.path.islink(path) and not os.path.isfile(path):
        raise BadInput(flag, f"{path} exists and is not a regular file")
    _replace_file(flag, path, text.encode("utf-8", "surrogateescape"), follow=False)
    return path


def make_dir(flag: str, path: str) -> None:
    """Create the output directory `path` (and its parents) if needed."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise BadInput(flag, f"cannot create {path}: {exc.strerror}") from None

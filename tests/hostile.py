"""Hostile or careless variants of the bundled example series, for the hardening tests.

The extra diffs are inserted as text into a copy of examples/ring-slot.mbox (test input
only); the tool under test parses every variant from scratch.
"""

from __future__ import annotations

import re
from pathlib import Path

from examples_repo import EXAMPLES

SERIES = EXAMPLES / "ring-slot.mbox"
_MAIL_START = re.compile(rb"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\n", re.M)


def new_file(path: str, text: str, mode: str = "100644") -> str:
    """A git diff creating `path` with `text` (a symlink's target with mode 120000)."""
    lines = text.splitlines()
    body = "".join(f"+{ln}\n" for ln in lines)
    if not text.endswith("\n"):
        body += "\\ No newline at end of file\n"
    return (
        f"diff --git a/{path} b/{path}\nnew file mode {mode}\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def with_diff(number: int, diff: str, series: Path = SERIES) -> bytes:
    """The series with `diff` appended to patch `number`'s diff (0 is the cover)."""
    data = series.read_bytes()
    starts = [m.start() for m in _MAIL_START.finditer(data)] + [len(data)]
    start, end = starts[number], starts[number + 1]
    mail = data[start:end]
    sig = mail.rindex(b"\n-- \n") + 1
    return data[:start] + mail[:sig] + diff.encode() + mail[sig:] + data[end:]


def write(tmp_path: Path, number: int, diff: str, name: str = "hostile.mbox") -> Path:
    """`with_diff` written to tmp_path/name."""
    out = tmp_path / name
    out.write_bytes(with_diff(number, diff))
    return out

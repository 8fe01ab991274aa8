"""Make variants of a real series mbox for tests: drop, reorder and renumber its patches.

This edits test *inputs* only (it splits on the archive's own mboxrd separator line), so
that the parser under test still reads every variant from scratch.
"""

from __future__ import annotations

import re
from pathlib import Path

SEPARATOR = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
_NUMBER = re.compile(rb"^(Subject: \[PATCH[^\]]*?)(\d+)/(\d+)\]", re.M)


def messages(mbox: Path) -> list[bytes]:
    """The messages of a corpus mbox (each starting with its separator line)."""
    data = mbox.read_bytes()
    return [SEPARATOR + part for part in data.split(SEPARATOR) if part.strip()]


def number_of(message: bytes) -> int:
    m = _NUMBER.search(message)
    assert m, "not a numbered patch mail"
    return int(m.group(2))


def series_variant(mbox: Path, order: list[int], renumber: bool, keep_cover: bool = True) -> bytes:
    """The cover (optionally) plus the patches numbered `order`, in that order.

    With `renumber`, subjects are rewritten to 0/N..N/N in the new order (the series as
    its author would have sent it; the cover's shortlog and diffstat stay as they were);
    without it, the original numbers stay (so dropped patches show up as missing).
    """
    msgs = messages(mbox)
    by_number = {number_of(m): m for m in msgs}
    total = len(order)
    width = len(_NUMBER.search(by_number[order[0]]).group(2))  # type: ignore[union-attr]
    numbered = [(0, 0)] if keep_cover and 0 in by_number else []
    out: list[bytes] = []
    for new_number, old_number in [*numbered, *enumerate(order, start=1)]:
        msg = by_number[old_number]
        if renumber:
            label = f"{new_number:0{width}d}/{total:0{width}d}]".encode()
            msg = _NUMBER.sub(lambda m, label=label: m.group(1) + label, msg, count=1)
        out.append(msg)
    return b"".join(out)

"""Mutated mboxes for fuzzing the mail reader (issue 10 items 11-13), shared by the fast
test (tests/test_fuzz_mail.py) and the larger run (benchmarks/fuzz_mail.py).

Each input is a corpus mbox with a few mutations drawn from a seeded generator: byte
flips, spliced and cut chunks, messages shuffled or duplicated, CRLF, a separator inside
a header block, and the targeted attacks of the issue (MIME nested 1,000 deep, ``[PATCH
1/100000000]``, 5,000-digit numbers in tags and ``@@`` headers, 300k References ids, a
gzip bomb). The same seed always gives the same inputs.
"""

from __future__ import annotations

import gzip
import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kernel import CORPUS

CORPUS_MBOXES = [
    CORPUS / "pte-nolock" / "v4.mbox",
    CORPUS / "clk-bulk-get-all-enabled" / "v4.mbox",
    *sorted((CORPUS / "peer" / "patchwork" / "series").glob("*.mbox")),
    *sorted((CORPUS / "peer" / "b4" / "samples").glob("*.mbox")),
    CORPUS / "peer" / "git" / "t5100" / "sample.mbox",
]
_SEP = re.compile(rb"(?m)^From \S+ .*\d\d:\d\d:\d\d.*\d{4}\s*$")


@dataclass(frozen=True)
class FuzzInput:
    """One mutated mbox and what was done to it."""

    name: str
    data: bytes
    mutations: tuple[str, ...]


def _messages(data: bytes) -> list[bytes]:
    starts = [m.start() for m in _SEP.finditer(data)] or [0]
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def _nested(depth: int) -> bytes:
    parts = "".join(
        f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n' for i in range(1, depth)
    )
    return (
        "From fuzz Mon Sep 17 00:00:00 2001\nFrom: F <f@x>\nSubject: [PATCH 1/2] deep\n"
        'Message-Id: <deep@fuzz>\nContent-Type: multipart/mixed; boundary="b0"\n\n'
        + parts
        + f"--b{depth - 1}\nContent-Type: text/plain\n\nx\n"
    ).encode()


def _bomb(mib: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = b"From x Mon Sep 17 00:00:00 2001\nFrom: F <f@x>\nSubject: [PATCH] b\n\n"
    zeros = b"\n" * (1 << 20)
    return c.compress(head) + b"".join(c.compress(zeros) for _ in range(mib)) + c.flush()


def mutate(data: bytes, rnd: random.Random) -> tuple[bytes, list[str]]:
    """A few random mutations of ``data``; returns the result and their names."""
    done: list[str] = []
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        kind = rnd.choice(
            [
                "flip",
                "flip",
                "splice",
                "cut",
                "truncate",
                "shuffle",
                "duplicate",
                "crlf",
                "separator-in-header",
                "huge-total",
                "huge-tag",
                "huge-hunk",
                "long-references",
                "nested-mime",
                "damaged-message",
            ]
        )
        done.append(kind)
        n = len(buf)
        if kind == "flip" and n:
            for _ in range(rnd.randint(1, 16)):
                buf[rnd.randrange(n)] = rnd.randrange(256)
        elif kind == "splice" and n:
            a = rnd.randrange(n)
            chunk = bytes(buf[a : a + rnd.randint(1, 400)])
            at = rnd.randrange(n)
            buf[at:at] = chunk
        elif kind == "cut" and n:
            a = rnd.randrange(n)
            del buf[a : a + rnd.randint(1, 2000)]
        elif kind == "truncate" and n:
            del buf[rnd.randrange(n) :]
        elif kind in ("shuffle", "duplicate"):
            msgs = _messages(bytes(buf))
            if kind == "shuffle":
                rnd.shuffle(msgs)
            else:
                msgs.insert(rnd.randrange(len(msgs) + 1), rnd.choice(msgs))
            buf = bytearray(b"".join(msgs))
        elif kind == "crlf":
            buf = bytearray(bytes(buf).replace(b"\n", b"\r\n"))
        elif kind == "separator-in-header":
            m = list(re.finditer(rb"(?m)^Subject: ", bytes(buf)))
            if m:
                at = rnd.choice(m).start()
                buf[at:at] = b"From x Mon Sep 17 00:00:00 2001\n"
        elif kind == "huge-total":
            buf = bytearray(re.sub(rb"(\[PATCH[^\]]*?)\d+/\d+", rb"\g<1>1/100000000", bytes(buf)))
        elif kind == "huge-tag":
            big = b"9" * rnd.choice([10, 4301, 6000])
            buf = bytearray(re.sub(rb"\[PATCH", b"[PATCH v" + big + b" " + big + b"/2", bytes(buf)))
        elif kind == "huge-hunk":
            big = b"7" * rnd.choice([12, 4301, 6000])
            buf = bytearray(re.sub(rb"(?m)^@@ -\d+", b"@@ -" + big, bytes(buf), count=3))
        elif kind == "long-references":
            refs = b" ".join(b"<r%d@fuzz>" % i for i in range(rnd.choice([1000, 40000, 300000])))
            buf = bytearray(
                re.sub(
                    rb"(?m)^Subject: ", b"References: " + refs + b"\nSubject: ", bytes(buf), count=2
                )
            )
        elif kind == "nested-mime":
            msgs = _messages(bytes(buf))
            msgs.insert(rnd.randrange(len(msgs) + 1), _nested(rnd.choice([150, 1000, 3000])))
            buf = bytearray(b"".join(msgs))
        elif kind == "damaged-message":
            msgs = _messages(bytes(buf))
            msgs.insert(
                rnd.randrange(len(msgs) + 1), b"From x Mon Sep 17 00:00:00 2001\n\x00\xff junk\n"
            )
            buf = bytearray(b"".join(msgs))
    out = bytes(buf)
    if rnd.random() < 0.1:
        out = gzip.compress(out)
        done.append("gzip")
    return out, done


def inputs(count: int, seed: int = 0, bomb: bool = True) -> Iterator[FuzzInput]:
    """``count`` mutated mboxes (the first one a gzip bomb when ``bomb``)."""
    rnd = random.Random(seed)
    sources = [(p.name, p.read_bytes()) for p in CORPUS_MBOXES if p.is_file()]
    for i in range(count):
        if bomb and i == 0:
            yield FuzzInput("gzip-bomb-2GiB", _bomb(2048), ("gzip-bomb",))
            continue
        name, data = rnd.choice(sources)
        mutated, done = mutate(data, rnd)
        yield FuzzInput(f"{i:04d}-{name}", mutated, tuple(done))


def write(inp: FuzzInput, folder: Path) -> Path:
    """The input as a file in ``folder`` (``.mbox.gz`` when it is gzip data)."""
    suffix = ".mbox.gz" if inp.data.startswith(b"\x1f\x8b") else ".mbox"
    path = folder / (inp.name + suffix)
    path.write_bytes(inp.data)
    return path

"""Reading and grouping a list archive's worth of mail: time and peak RSS, and how they grow.

Writes N synthetic list messages (series with cover letters, rerolls threaded into the
previous version, unlabelled patches under versioned covers, unthreaded patches, resends,
review replies with long References, plain discussion), then, each in a fresh process:

* floor: ``email.message_from_bytes`` of every message and a dict by Message-Id (what any
  reader of the archive pays);
* parse: ``series_tool.ingest.parse_mail`` of every message;
* group: ``group_series`` of the parsed mails, without diffs (the first pass a scanner
  makes) and with every diff parsed.

Sizes double up to N, so the ratio per doubling shows whether it is linear (2.0) or not.
Usage: python benchmarks/bench_grouping.py [N]   (default 100000)
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIFF = (
    "diff --git a/drivers/x{n}.c b/drivers/x{n}.c\n--- a/drivers/x{n}.c\n+++ b/drivers/x{n}.c\n"
    "@@ -10,3 +10,3 @@ static int probe(void)\n \tint a;\n-\told_get(a);\n+\tnew_get(a);\n"
    " \treturn 0;\n"
)


def _mail(
    msgid: str,
    subject: str,
    sender: str,
    t: int,
    refs: list[str],
    body: str,
) -> bytes:
    head = [
        f"From: Dev {sender} <{sender}@example.org>",
        f"Subject: {subject}",
        f"Message-Id: <{msgid}>",
        "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t)),
    ]
    if refs:
        head.append(f"In-Reply-To: <{refs[-1]}>")
        head.append("References: " + " ".join(f"<{r}>" for r in refs))
    return ("\n".join(head) + "\n\n" + body).encode()


def synthesize(n: int, seed: int = 1) -> list[bytes]:
    """About ``n`` messages of list traffic, in the order a list would archive them."""
    rnd = random.Random(seed)
    out: list[bytes] = []
    t = 1_600_000_000
    k = 0
    while len(out) < n:
        k += 1
        t += rnd.randint(10, 600)
        sender = f"dev{rnd.randint(1, 3000)}"
        kind = rnd.random()
        if kind < 0.45:  # a series, maybe rerolled in reply to its previous version
            total = rnd.randint(1, 8)
            prev_cover: str | None = None
            for version in range(1, rnd.choice([1, 1, 2, 3]) + 1):
                tag = f" v{version}" if version > 1 else ""
                cover = f"s{k}v{version}c@x"
                refs = [prev_cover] if prev_cover else []
                out.append(
                    _mail(
                        cover,
                        f"[PATCH{tag} 0/{total}] subsystem: series {k}",
                        sender,
                        t,
                        refs,
                        "Cover letter.\n\n-- \n2.45\n",
                    )
                )
                unlabelled = version > 1 and rnd.random() < 0.2
                for num in range(1, total + 1):
                    ptag = "" if unlabelled else tag
                    out.append(
                        _mail(
                            f"s{k}v{version}p{num}@x",
                            f"[PATCH{ptag} {num}/{total}] sub: step {num}",
                            sender,
                            t + num,
                            [*refs, cover],
                            f"Step {num}.\n\nSigned-off-by: Dev <{sender}@example.org>\n---\n"
                            + DIFF.format(n=num),
                        )
                    )
                for r in range(rnd.randint(0, 3)):
                    target = f"s{k}v{version}p{rnd.randint(1, total)}@x"
                    deep = [f"old{k}.{i}@x" for i in range(rnd.randint(0, 20))]
                    out.append(
                        _mail(
                            f"s{k}v{version}r{r}@x",
                            f"Re: [PATCH{tag}] sub: step",
                            "rev",
                            t + 100 + r,
                            [*deep, *refs, cover, target],
                            "> quoted\n\nReviewed-by: Dev rev <rev@example.org>\n",
                        )
                    )
                prev_cover = cover
                t += 86400
        elif kind < 0.65:  # a single patch, sometimes resent unthreaded
            for copy in range(rnd.choice([1, 1, 1, 2])):
                out.append(
                    _mail(
                        f"one{k}.{copy}@x",
                        f"[PATCH] fix thing {k}",
                        sender,
                        t + copy * 3600,
                        [],
                        "Fix.\n---\n" + DIFF.format(n=k),
                    )
                )
        else:  # discussion without patches
            root = f"talk{k}@x"
            out.append(_mail(root, f"question {k}", sender, t, [], "How do I ...?\n"))
            for r in range(rnd.randint(0, 4)):
                out.append(
                    _mail(
                        f"talk{k}.{r}@x",
                        f"Re: question {k}",
                        f"dev{r}",
                        t + r,
                        [root],
                        "> How\n\nLike this.\n",
                    )
                )
    return out[:n]


def child(path: str, stage: str) -> None:
    """Run one stage over the messages in ``path`` (NUL-separated); print seconds and RSS."""
    data = Path(path).read_bytes().split(b"\0")
    start = time.perf_counter()
    cpu = time.process_time()
    if stage == "floor":
        import email

        ids = {}
        for raw in data:
            msg = email.message_from_bytes(raw)
            ids[msg.get("Message-Id")] = msg
    else:
        from series_tool.ingest import group_series, parse_mail

        mails = [parse_mail(raw, i, f"m{i}") for i, raw in enumerate(data)]
        parsed, parsed_cpu = time.perf_counter(), time.process_time()
        if stage != "parse":
            start, cpu = parsed, parsed_cpu
            got = group_series(mails, "bench", diffs=stage == "group+diffs")
            assert got, "no series found"
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{elapsed:.3f} {cpu:.3f} {rss}")


def main() -> None:
    """Generate, then time every stage at doubling sizes, each in a fresh process."""
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sizes = [top // 8, top // 4, top // 2, top]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for size in sizes:
            f = Path(tmp) / f"{size}.bin"
            f.write_bytes(b"\0".join(synthesize(size)))
            files[size] = f
        print(
            f"{'stage':<12} "
            + " ".join(f"{s:>22}" for s in sizes)
            + "   (wall s / CPU s / peak MB)"
        )
        for stage in ("floor", "parse", "group", "group+diffs"):
            cells = []
            times = []
            for size in sizes:
                res = subprocess.run(
                    [sys.executable, __file__, "--child", str(files[size]), stage],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                secs, cpu, rss = res.stdout.split()
                times.append(float(cpu))
                cells.append(f"{float(secs):6.2f}/{float(cpu):6.2f}s {int(rss) // 1024:4d}MB")
            growth = times[-1] / times[-2] if times[-2] else float("nan")
            print(
                f"{stage:<12} "
                + " ".join(f"{c:>22}" for c in cells)
                + f"   CPU x{growth:.2f} for the last doubling"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()

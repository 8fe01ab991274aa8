"""Build small public-inbox style repositories (one commit per message, the mail in `m`).

Test support: `git fast-import` writes all commits in one process, as public-inbox's own
v2 writer does. The messages come from the shared mboxes and from mail the tests write.
"""

from __future__ import annotations

import subprocess
from email.utils import parsedate_to_datetime
from pathlib import Path

from series_tool.ingest import split_mbox


def messages_of(mbox: Path) -> list[bytes]:
    """The messages of an mbox (mboxrd unescaped), as bytes."""
    return split_mbox(mbox.read_bytes())


def _stamp(data: bytes, fallback: int) -> int:
    for line in data.split(b"\n\n", 1)[0].splitlines():
        if line.lower().startswith(b"date:"):
            try:
                return int(parsedate_to_datetime(line[5:].decode().strip()).timestamp())
            except (TypeError, ValueError):
                break
    return fallback


def append_messages(repo: Path, messages: list[bytes], bare: bool = True) -> None:
    """Append one commit per message (file `m`) to the repository's master branch."""
    if not repo.exists():
        args = ["git", "init", "-q", "-b", "master"] + (["--bare"] if bare else [])
        subprocess.run([*args, str(repo)], check=True)
    has_head = (
        subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "-q", "--verify", "refs/heads/master"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    stream = bytearray()
    for i, data in enumerate(messages):
        when = _stamp(data, 1_700_000_000 + i)
        stream += b"commit refs/heads/master\n"
        stream += f"committer inbox <inbox@example.org> {when} +0000\n".encode()
        stream += b"data 8\nmessage\n"
        if i == 0 and has_head:
            stream += b"from refs/heads/master^0\n"
        stream += f"M 100644 inline m\ndata {len(data)}\n".encode() + data + b"\n"
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"], input=bytes(stream), check=True
    )
    if not bare:
        subprocess.run(["git", "-C", str(repo), "read-tree", "master"], check=True)


def reply(to_id: str, subject: str, n: int, body: str = "Looks fine to me.\n") -> bytes:
    """A plain review reply to message `to_id`."""
    return (
        f"From: Reviewer {n} <reviewer{n}@example.org>\n"
        f"To: list@example.org\n"
        f"Subject: Re: {subject}\n"
        f"Date: Mon, 2 Dec 2024 10:{n % 60:02d}:00 +0000\n"
        f"Message-ID: <reply-{n}@example.org>\n"
        f"In-Reply-To: <{to_id}>\n"
        f"References: <{to_id}>\n"
        f"List-Id: <list.example.org>\n\n"
        f"{body}"
    ).encode()

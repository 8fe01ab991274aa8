"""Read a public-inbox archive: every commit's file ``m``, in commit order, with its commit id.

A public-inbox v2 inbox keeps one git repository per epoch (``git/0.git``, ``git/1.git``,
...); each commit adds one message as the blob ``m``. This module reads such a repository
(an epoch, a bare mirror of one, a non-bare clone, or the inbox directory holding
``git/N.git``) through GitPython with ONE ``git cat-file --batch`` pipe per epoch: the
requests ``<commit>:m`` are written by a feeder thread while the answers are read, so the
pipe never blocks on a full buffer. Nothing is ever checked out.

An mbox or Maildir given instead is read through :func:`read_source` (one pass, no
increments): its messages get ``commit`` ``None``.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import git

from series_tool.errors import BadInput

from .mailsource import read_source

#: epoch repositories inside a public-inbox v2 directory
_EPOCH = re.compile(r"^(\d+)\.git$")


@dataclass(frozen=True)
class ArchiveMessage:
    """One message of an archive: its raw bytes and where it is."""

    data: bytes
    epoch: str  # epoch name ("0" for git/0.git; "" for a single repository or mbox)
    commit: str | None  # the commit that added it (None for mbox/Maildir input)
    where: str  # for messages to people: "ARCHIVE: commit 1a2b3c4d" / "file: message 3"


def is_git_archive(path: str) -> bool:
    """Whether ``path`` is a git repository or a public-inbox v2 directory of epochs."""
    p = Path(path)
    if not p.is_dir():
        return False
    if epoch_dirs(path):
        return True
    return ((p / "HEAD").is_file() and (p / "objects").is_dir()) or (p / ".git").exists()


def epoch_dirs(path: str) -> list[tuple[str, Path]]:
    """``(epoch name, repository)`` of a v2 inbox in epoch order; [] for other folders."""
    gitdir = Path(path) / "git"
    if not gitdir.is_dir():
        return []
    found = [(int(m.group(1)), d) for d in gitdir.iterdir() if (m := _EPOCH.match(d.name))]
    return [(str(n), d) for n, d in sorted(found)]


def _open(path: str) -> git.Repo:
    repo = git.Repo(path)
    # A bare mirror without core.bare=true looks non-bare to GitPython, which then runs
    # git in the parent folder: name the git directory explicitly.
    repo.git.update_environment(GIT_DIR=repo.git_dir)
    return repo


def _repos(path: str) -> list[tuple[str, git.Repo]]:
    epochs = epoch_dirs(path)
    try:
        if epochs:
            return [(name, _open(str(d))) for name, d in epochs]
        return [("", _open(path))]
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise BadInput(path, "not a git repository (nor a public-inbox v2 directory)") from None


def _head(repo: git.Repo) -> str | None:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", "HEAD^{commit}")).strip() or None
    except git.GitCommandError:
        return None  # an empty epoch (no message yet)


def archive_heads(path: str) -> dict[str, str]:
    """The newest commit of each epoch (epochs without commits are left out)."""
    heads: dict[str, str] = {}
    for name, repo in _repos(path):
        head = _head(repo)
        if head is not None:
            heads[name] = head
    return heads


def _commits(
    repo: git.Repo, since_commit: str | None, since: datetime | None, where: str
) -> list[str]:
    """Commits after ``since_commit`` (exclusive) up to HEAD, oldest first."""
    head = _head(repo)
    if head is None:
        return []
    if since_commit is not None:
        if since_commit == head:
            return []  # the common incremental case: one rev-parse, nothing else
        try:
            repo.git.merge_base("--is-ancestor", since_commit, head)
        except git.GitCommandError:
            raise BadInput(
                where,
                f"the scanned commit {since_commit[:12]} is not in this archive's history "
                "any more (rewritten?); rerun with --all",
            ) from None
    rev = f"{since_commit}..{head}" if since_commit else head
    out = str(repo.git.rev_list("--reverse", "--topo-order", "--format=%ct", rev))
    commits: list[str] = []
    lines = out.splitlines()
    # rev-list --format prints "commit <sha>" then the formatted line.
    for header, stamp in zip(lines[0::2], lines[1::2], strict=False):
        sha = header.split()[-1]
        if since is not None and int(stamp) < since.timestamp():
            continue
        commits.append(sha)
    return commits


def _feed(stdin: IO[bytes], requests: Iterable[str]) -> None:
    try:
        for r in requests:
            stdin.write(r.encode() + b"\n")
        stdin.close()
    except (BrokenPipeError, ValueError):
        pass  # the reader stopped early (an error or an interrupt): nothing to feed


def cat_file_batch(repo: git.Repo, requests: list[str]) -> Iterator[tuple[str, bytes | None]]:
    """``(request, blob bytes or None when missing)`` for each request, through one pipe.

    One ``git cat-file --batch`` process answers every request; a thread writes the
    requests so that neither side waits for the other's buffer to drain.
    """
    if not requests:
        return
    proc = repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
    stdin, stdout = proc.proc.stdin, proc.proc.stdout
    assert stdin is not None and stdout is not None
    feeder = threading.Thread(target=_feed, args=(stdin, requests), daemon=True)
    feeder.start()
    try:
        for r in requests:
            header = stdout.readline()
            parts = header.split()
            if len(parts) == 3 and parts[1] == b"blob":
                size = int(parts[2])
                data = stdout.read(size)
                stdout.read(1)  # the newline after each object
                yield r, data
            elif len(parts) == 3:
                stdout.read(int(parts[2]) + 1)  # not a blob (a tree named m?): skip it
                yield r, None
            else:
                yield r, None  # "<request> missing": a commit without m (a deletion)
    finally:
        feeder.join(timeout=5)
        proc.proc.wait()


@dataclass
class ArchivePlan:
    """What a read will cover, known before any message is read (for progress bars, and
    so that worker processes are started before the ``cat-file`` pipe exists: a forked
    worker would otherwise hold the pipe open and git would never see its end)."""

    path: str
    epochs: list[tuple[str, git.Repo, list[str]]]  # (epoch name, repository, commits)
    mails: list[ArchiveMessage] | None = None  # an mbox or Maildir, read at once

    @property
    def heads(self) -> dict[str, str]:
        """The last commit of each epoch once the plan is read (where the next run starts).

        From the plan, not from the repository: mail archived while this run reads is
        left for the next run instead of being skipped.
        """
        return {name: commits[-1] for name, _, commits in self.epochs if commits}

    @property
    def total(self) -> int:
        """How many messages (commits) there are to read."""
        if self.mails is not None:
            return len(self.mails)
        return sum(len(commits) for _, _, commits in self.epochs)


def plan_archive(
    path: str, after: dict[str, str] | None = None, since: datetime | None = None
) -> ArchivePlan:
    """The commits to read, epoch by epoch, oldest first (see :func:`read_archive`)."""
    if not is_git_archive(path):
        mails = [ArchiveMessage(r.data, "", None, r.where) for r in read_source(path)]
        return ArchivePlan(path, [], mails)
    after = after or {}
    epochs = [
        (name, repo, _commits(repo, after.get(name), since, path)) for name, repo in _repos(path)
    ]
    return ArchivePlan(path, epochs)


def read_plan(plan: ArchivePlan) -> Iterator[ArchiveMessage]:
    """The messages of a plan, in commit order, one ``cat-file --batch`` pipe per epoch."""
    if plan.mails is not None:
        yield from plan.mails
        return
    for name, repo, commits in plan.epochs:
        label = f"{plan.path}: epoch {name}" if name else plan.path
        for request, data in cat_file_batch(repo, [f"{c}:m" for c in commits]):
            if data is not None:
                commit = request[:-2]
                yield ArchiveMessage(data, name, commit, f"{label}: commit {commit[:12]}")


def read_archive(
    path: str, after: dict[str, str] | None = None, since: datetime | None = None
) -> Iterator[ArchiveMessage]:
    """Every message of ARCHIVE in commit order, epoch by epoch.

    ``after`` maps an epoch name to the last commit already read: only later commits
    are read (the incremental scan). ``since`` skips commits older than that date
    (committer date, which public-inbox sets when the message is added). A commit
    without ``m`` (public-inbox records deletions that way) is skipped. An mbox or
    Maildir is read whole through :func:`read_source`.
    """
    return read_plan(plan_archive(path, after, since))


def read_commits(path: str, wanted: list[tuple[str, str]]) -> dict[str, bytes]:
    """The ``m`` blob of each ``(epoch, commit)`` asked for, keyed by commit id.

    Used to fetch earlier messages of a series again when new mail joins it (the state
    keeps commit ids, not message bodies).
    """
    repos = dict(_repos(path))
    out: dict[str, bytes] = {}
    by_epoch: dict[str, list[str]] = {}
    for epoch, commit in wanted:
        by_epoch.setdefault(epoch, []).append(commit)
    for epoch, commits in by_epoch.items():
        repo = repos.get(epoch)
        if repo is None:
            continue
        for request, data in cat_file_batch(repo, [f"{c}:m" for c in dict.fromkeys(commits)]):
            if data is not None:
                out[request[:-2]] = data
    return out


def parse_since(value: str) -> datetime:
    """``--since DATE``: an ISO 8601 date or date-time (UTC unless it says otherwise)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput("--since", f"{value!r} is not a date (use YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


_THREAD_HEADER = re.compile(
    rb"^(message-id|in-reply-to|references)[ \t]*:(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)
_ID = re.compile(rb"<([^<>\s]+)>")


def _thread_ids(data: bytes) -> tuple[str | None, list[str]]:
    """(Message-Id, the ids it answers) from the header block alone."""
    end = data.find(b"\n\n")
    head = data if end < 0 else data[: end + 1]
    own: str | None = None
    refs: list[str] = []
    for name, value in _THREAD_HEADER.findall(head):
        ids = [i.decode("utf-8", "replace") for i in _ID.findall(value)]
        if name.lower() == b"message-id":
            own = own or (ids[0] if ids else None)
        else:
            refs.extend(ids)
    return own, refs


@dataclass(frozen=True)
class ThreadEntry:
    """Where one archived message is and which messages it answers (a thread index row)."""

    epoch: str
    commit: str | None
    message_id: str | None
    refs: tuple[str, ...]

    def to_json(self) -> list[object]:
        """A compact JSON row: ``[epoch, commit, message_id, [refs...]]``."""
        return [self.epoch, self.commit, self.message_id, list(self.refs)]

    @classmethod
    def from_json(cls, row: list[object]) -> ThreadEntry:
        """The entry back from :meth:`to_json`."""
        epoch, commit, own, refs = row
        assert isinstance(epoch, str) and isinstance(refs, list)
        return cls(
            epoch,
            commit if isinstance(commit, str) else None,
            own if isinstance(own, str) else None,
            tuple(str(r) for r in refs),
        )


def thread_entry(msg: ArchiveMessage) -> ThreadEntry:
    """The thread index row of a message, from its header block alone."""
    own, refs = _thread_ids(msg.data)
    return ThreadEntry(msg.epoch, msg.commit, own, tuple(refs))


def thread_of(
    path: str,
    message_id: str,
    known: list[ThreadEntry] | None = None,
    after: dict[str, str] | None = None,
) -> list[bytes]:
    """Every message of the thread holding ``message_id``, in archive order.

    What ``b4 mbox`` fetches from lore, from a local archive: the messages connected to
    it through In-Reply-To and References, whole thread (other versions threaded into
    it included). ``known`` is a thread index of the archive up to the commits ``after``
    (kept by ``scan``): then only later messages are read, and only the thread's messages
    are read in full. Raises :class:`BadInput` when the archive does not have it.
    """
    wanted = message_id.strip().strip("<>")
    entries: list[ThreadEntry] = list(known or [])
    raw: dict[int, bytes] = {}  # messages without a commit (mbox) are kept as read
    for msg in read_archive(path, after if known is not None else None):
        if msg.commit is None:
            raw[len(entries)] = msg.data
        entries.append(thread_entry(msg))
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for e in entries:
        if e.message_id is None:
            continue
        parent.setdefault(e.message_id, e.message_id)
        for ref in e.refs:
            parent.setdefault(ref, ref)
            a, b = find(e.message_id), find(ref)
            if a != b:
                parent[a] = b
    if not any(e.message_id == wanted for e in entries):
        raise BadInput(path, f"no message <{wanted}> in this archive")
    root = find(wanted)
    members = [
        i for i, e in enumerate(entries) if e.message_id is not None and find(e.message_id) == root
    ]
    stored = [(entries[i].epoch, entries[i].commit) for i in members if i not in raw]
    blobs = read_commits(path, [(ep, c) for ep, c in stored if c is not None])
    out: list[bytes] = []
    for i in members:
        data = raw.get(i)
        commit = entries[i].commit
        if data is None and commit is not None:
            data = blobs.get(commit)
        if data is not None:
            out.append(data)
    return out


def as_mboxrd(messages: list[bytes]) -> bytes:
    """Messages as one mboxrd (the format lore and ``b4 mbox`` write)."""
    out = bytearray()
    quoted = re.compile(rb"^(>*From )", re.MULTILINE)
    for data in messages:
        out += b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
        body = quoted.sub(rb">\1", data)
        out += body if body.endswith(b"\n") else body + b"\n"
        out += b"\n"
    return bytes(out)

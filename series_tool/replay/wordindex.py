"""A persistent word index of one git tree: which files hold a word, without a grep.

A bot or CI checking many series against one tree greps the same 86k files again and
again. `series-tool index` reads the tree once and stores, for every word (a maximal run
of [A-Za-z0-9_], git grep -w's notion of a word), the files that hold it. Later runs at a
commit with that tree look the symbols up, read only those files and find the lines in
them with the same matcher git grep's Python twin uses (`scan_text`): the same hits, at
the cost of a few file reads.

Where it lives: $XDG_CACHE_HOME/series-tool/index/<hash of the repository path>/<tree>.sqlite
(~/.cache when XDG_CACHE_HOME is unset). Not in the repository's .git: the user's
repository stays byte-identical, and a cache may be deleted at any time. Keyed by tree id,
so any commit with the same tree shares it, and a tree that was not indexed simply falls
back to git grep.
"""

from __future__ import annotations

import array
import hashlib
import os
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from series_tool.errors import BadInput

_WORD = re.compile(rb"[A-Za-z0-9_]+")
#: git's binary heuristic (as `git grep -I` and `scan_text`): a NUL in the first 8000 bytes.
_BINARY_PROBE = 8000
_SCHEMA = "1"


def cache_root() -> Path:
    """$XDG_CACHE_HOME/series-tool/index, else ~/.cache/series-tool/index."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "series-tool" / "index"


def index_file(repo_dir: str, tree: str) -> Path:
    """Where the index of `tree` (a tree id) of the repository at `repo_dir` is kept."""
    key = hashlib.sha256(str(Path(repo_dir).resolve()).encode()).hexdigest()[:16]
    return cache_root() / key / f"{tree}.sqlite"


def _git(repo_dir: str, *args: str, stdin: bytes | None = None) -> bytes:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    proc = subprocess.run(
        ["git", *args], cwd=repo_dir, input=stdin, capture_output=True, env=env, check=False
    )
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise BadInput(repo_dir, f"git {args[0]} failed: {msg}")
    return proc.stdout


def tree_of(repo_dir: str, rev: str) -> str:
    """The tree id of the commit `rev`."""
    return (
        _git(repo_dir, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{tree}}")
        .decode()
        .strip()
    )


def _blobs(repo_dir: str, tree: str) -> tuple[list[str], list[str]]:
    """(blob ids, paths) of every file of the tree (regular files and symlinks, as git
    grep searches them; submodules are not files)."""
    out = _git(repo_dir, "ls-tree", "-r", "-z", "--full-tree", tree)
    shas: list[str] = []
    paths: list[str] = []
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        _, kind, sha = meta.split(b" ")
        if kind == b"blob":
            shas.append(sha.decode())
            paths.append(path.decode("utf-8", "surrogateescape"))
    return shas, paths


def build_index(repo_dir: str, rev: str = "HEAD") -> tuple[Path, int, int]:
    """Index the tree of `rev`; return (its file, files indexed, distinct words).

    Each distinct blob is read once; binary blobs (a NUL in the first 8000 bytes) are left
    out, as `git grep -I` leaves them out. Written to a temp file and renamed into place:
    an interrupted build never leaves a half index that looks finished.
    """
    tree = tree_of(repo_dir, rev)
    shas, paths = _blobs(repo_dir, tree)
    unique = list(dict.fromkeys(shas))
    number = {sha: i for i, sha in enumerate(unique)}
    postings: dict[bytes, array.array[int]] = {}
    for sha, data in _read_all(repo_dir, unique):
        if b"\0" in data[:_BINARY_PROBE]:
            continue
        i = number[sha]
        for word in set(_WORD.findall(data)):
            got = postings.get(word)
            if got is None:
                postings[word] = array.array("I", [i])
            else:
                got.append(i)
    target = index_file(repo_dir, tree)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        with db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE files (blob INTEGER, path TEXT)")
            db.execute("CREATE TABLE words (word BLOB PRIMARY KEY, blobs BLOB) WITHOUT ROWID")
            db.executemany("INSERT INTO meta VALUES (?, ?)", [("schema", _SCHEMA), ("tree", tree)])
            db.executemany(
                "INSERT INTO files VALUES (?, ?)",
                ((number[s], p) for s, p in zip(shas, paths, strict=True)),
            )
            db.execute("CREATE INDEX files_blob ON files (blob)")
            db.executemany(
                "INSERT INTO words VALUES (?, ?)", ((w, a.tobytes()) for w, a in postings.items())
            )
        db.close()
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target, len(paths), len(postings)


#: Object names per `git cat-file` process (bounds its output held in memory).
_CAT_FILE_BATCH = 4096


def _cat_file(repo_dir: str, mode: str, names: list[str]) -> Iterator[tuple[list[str], bytes]]:
    """(batch, output) of `git cat-file MODE` over `names` in batches, each through its
    own process (never a cat-file another thread is talking to)."""
    for i in range(0, len(names), _CAT_FILE_BATCH):
        batch = names[i : i + _CAT_FILE_BATCH]
        stdin = "".join(f"{s}\n" for s in batch).encode("utf-8", "surrogateescape")
        yield batch, _git(repo_dir, "cat-file", mode, stdin=stdin)


def _read_all(repo_dir: str, names: list[str]) -> Iterator[tuple[str, bytes]]:
    """Blob contents (by id, or `commit:path`)."""
    for batch, out in _cat_file(repo_dir, "--batch", names):
        pos = 0
        for name in batch:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) < 3 or header[-2] != b"blob":
                raise BadInput(repo_dir, f"git object {name} cannot be read as a file")
            size = int(header[-1])
            yield name, out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1


def read_files(repo_dir: str, commit: str, paths: list[str]) -> Iterator[tuple[str, str]]:
    """The text of each path at `commit` (utf-8, surrogateescape), as trees read files."""
    for path, data in read_blobs(repo_dir, commit, paths):
        yield path, data.decode("utf-8", "surrogateescape")


def check_blobs(repo_dir: str, commit: str, paths: list[str]) -> None:
    """Raise BadInput naming the object and path when the object of `paths` at `commit`
    (a blob, or a directory's tree), or a tree on the way to it, is missing or corrupt.
    Cheap: `cat-file --batch-check` inflates only each object's header. Callers that
    read a file's content from the worktree (where it equals the commit's) use it so
    that a broken object store is still an error, as reading the blob itself would make
    it."""
    names = [f"{commit}:{p}" for p in paths]
    for batch, out in _cat_file(repo_dir, "--batch-check=%(objectname) %(objecttype)", names):
        for name, line in zip(batch, out.splitlines(), strict=True):
            if line.endswith(b" missing"):
                path = name[len(commit) + 1 :]
                oid = _git(repo_dir, "rev-parse", "--verify", "-q", name).decode().strip()
                raise BadInput(repo_dir, f"git object {oid or name} ({path}) is missing or corrupt")


def check_objects(repo_dir: str, named: list[tuple[str, str]]) -> None:
    """Raise BadInput naming the object and path when an object of `named` ((object id,
    path) pairs) is missing or corrupt: `check_blobs` for ids already known (the index
    names them), without resolving every path through the commit's trees (7,000 paths:
    0.36 s of git CPU by path, 0.02 s by id)."""
    pos = 0
    oids = [oid for oid, _ in named]
    for batch, out in _cat_file(repo_dir, "--batch-check=%(objectname) %(objecttype)", oids):
        mine = named[pos : pos + len(batch)]
        for (oid, path), line in zip(mine, out.splitlines(), strict=True):
            if line.endswith(b" missing"):
                raise BadInput(repo_dir, f"git object {oid} ({path}) is missing or corrupt")
        pos += len(batch)


def read_blobs(repo_dir: str, commit: str, paths: list[str]) -> Iterator[tuple[str, bytes]]:
    """The bytes of each path at `commit`."""
    for name, data in _read_all(repo_dir, [f"{commit}:{p}" for p in paths]):
        yield name[len(commit) + 1 :], data


@dataclass
class WordIndex:
    """An open index of one tree."""

    path: Path
    tree: str

    @classmethod
    def for_commit(cls, repo_dir: str, commit: str) -> WordIndex | None:
        """The index of the commit's tree, if built (no git call when the repository has
        no index at all: the common case costs one stat)."""
        if not index_file(repo_dir, "x").parent.is_dir():
            return None
        return cls.open(repo_dir, tree_of(repo_dir, commit))

    @classmethod
    def open(cls, repo_dir: str, tree: str) -> WordIndex | None:
        """The index of `tree` when one was built (and is readable), else None."""
        path = index_file(repo_dir, tree)
        if not path.is_file():
            return None
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error:
            return None
        if meta.get("schema") != _SCHEMA or meta.get("tree") != tree:
            return None
        return cls(path, tree)

    def paths(self, symbols: Sequence[str]) -> list[str]:
        """Every path of the tree whose file holds one of `symbols` as a whole word."""
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            blobs: set[int] = set()
            for sym in symbols:
                row = db.execute(
                    "SELECT blobs FROM words WHERE word = ?",
                    (sym.encode("utf-8", "surrogateescape"),),
                ).fetchone()
                if row is not None:
                    blobs.update(array.array("I", row[0]))
            if not blobs:
                return []
            ids = sorted(blobs)
            out: list[str] = []
            for i in range(0, len(ids), 900):  # within SQLite's limit on parameters
                part = ids[i : i + 900]
                marks = ",".join("?" * len(part))
                rows = db.execute(f"SELECT path FROM files WHERE blob IN ({marks})", part)
                out.extend(p for (p,) in rows)
            return sorted(out)

"""Tree sources: where the series is replayed (a git commit, a plain directory, or nothing).

Every tree is read-only. A `GitTree` never touches the worktree, the index, refs or the
stash: it only runs read-only git commands (``cat-file``, ``grep``, ``diff-index``,
``rev-parse``) with ``GIT_OPTIONAL_LOCKS=0`` so git does not even refresh the index.

Binary files: ``git grep -I`` skips files git considers binary (a NUL byte in the first
8000 bytes, or a ``binary``/``-diff`` attribute). On linux-source-6.12 that hides exactly
three files (a GIF and two PE test executables); without ``-I`` git prints "Binary file
X matches" with no line, and object files in a build directory (DirTree) would turn every
symbol into a false "remaining reference". So grep uses ``-I`` and the Python rescans skip
NUL-containing text the same way.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import git

from series_tool.errors import BadInput
from series_tool.model import alternation, word_pattern

from .blobs import BlobReader
from .paths import invalid_path
from .wordindex import WordIndex, check_blobs, check_objects, read_files

TreeKind = Literal["git", "dir", "series-only"]
#: What a tree holds at a path: git's entry types, as git apply tells them apart.
EntryKind = Literal["file", "link", "dir", "submodule", "other"]

_GIT_MODES: dict[bytes, EntryKind] = {b"120000": "link", b"040000": "dir", b"160000": "submodule"}

#: Above this many files differing from HEAD, grepping the HEAD tree in git is cheaper
#: than re-scanning each differing file in Python.
_RESCAN_LIMIT = 2000

#: Past this many files holding the symbols, git grep beats reading them from the index.
_INDEX_MAX_FILES = 400

#: Up to this many symbols, PCRE alternations; more go to git grep as fixed strings.
_PCRE_MAX = 8

#: Up to this many distinct first characters among the symbols, one PCRE alternation per
#: first character; more go to git grep as fixed strings, unless grouping by first
#: character saves at least `_PCRE_SAVED` passes (see `_grep_args`).
_PCRE_GROUPS = 3
_PCRE_SAVED = 3

#: An `ls-files -v -z` record of a file git does not look at in the worktree: tag S
#: (skip-worktree) or a lowercase tag (assume-unchanged), after the NUL ending the record
#: before it.
_HIDDEN_TAG = re.compile(rb"\0[Sa-z] ")

#: git's binary heuristic: a NUL byte within the first 8000 bytes.
_BINARY_PROBE = 8000


@dataclass(frozen=True)
class GrepHit:
    """One line that contains one of the searched symbols as a whole word."""

    path: str
    line: int  # 1-based
    text: str  # the line without its newline


class Tree(Protocol):
    """A read-only snapshot of source files."""

    kind: TreeKind
    path: str | None
    base: str | None
    #: True only for series-only mode: nothing of the tree can be read or searched.
    series_only: bool
    #: True when `materialize` registers a worktree in the user's repository.
    registers_worktrees: bool

    def read(self, path: str) -> str | None:
        """The file's text (utf-8, surrogateescape), or None when absent."""
        ...

    def lacks_commit(self, wanted: str) -> bool:
        """Whether the snapshot is known not to be at commit `wanted` (a full or short id)."""
        ...

    def size_bytes(self) -> int | None:
        """Disk a private copy of the snapshot takes (None when it cannot be told)."""
        ...

    def materialize(self, target: Path, no_checkout: bool = False) -> None:
        """Write a private copy of the snapshot at `target` (for builds, never the user's
        worktree). When `registers_worktrees`, the copy is a git worktree of the user's
        repository, registered even if this fails half-way: remove it by its path.

        Raises BadInput("--build", ...) when the copy cannot be made."""
        ...

    def exists(self, path: str) -> bool:
        """Whether the file exists in the snapshot."""
        ...

    def read_many(self, paths: Iterable[str]) -> dict[str, str | None]:
        """Several files at once (None for each absent one)."""
        ...

    def grep_words(self, symbols: Sequence[str]) -> list[GrepHit]:
        """Every line containing any symbol as a whole word, sorted by (path, line)."""
        ...

    def grep_fixed(self, strings: Sequence[str]) -> dict[str, set[str]]:
        """path -> which of `strings` (plain text, not words) the file contains."""
        ...

    def entries(self, paths: Iterable[str]) -> dict[str, EntryKind]:
        """What the snapshot holds at each of `paths` (absent paths are left out)."""
        ...

    def uncommitted(self) -> list[str]:
        """Files a checkout changed without committing (the analysis ignores them)."""
        ...


# --------------------------------------------------------------------------- helpers


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _git_env() -> dict[str, str]:
    # No optional index refresh/writes, no pager, no user colour config leaking in.
    env = dict(os.environ)
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_PAGER"] = "cat"
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env.pop("GIT_INDEX_FILE", None)
    return env


def _run_git(
    cwd: str, args: Sequence[str], ok: tuple[int, ...] = (0,), stdin: bytes = b""
) -> bytes:
    proc = subprocess.run(
        ["git", "-c", "core.quotePath=false", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=_git_env(),
        check=False,
    )
    if proc.returncode not in ok:
        err = _last_line(proc.stderr) or f"exit status {proc.returncode}"
        raise BadInput(cwd, f"git {' '.join(args[:2])} failed: {err}")
    return proc.stdout


def _last_line(stderr: bytes) -> str:
    """git's last message line (its "fatal: ..."): errors are reported on one line."""
    lines = [ln.strip() for ln in _decode(stderr).splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def outside_tree(path: str) -> bool:
    """An absolute path, or one that climbs out with '..': never a file of any tree (a
    hostile or careless diff, or a plain `diff -u /abs/a /abs/b`)."""
    parts = path.replace("\\", "/").split("/")
    return path.startswith("/") or ".." in parts


def _grep_args(symbols: Sequence[str], perl: bool = True) -> list[str]:
    # -w: whole words ([A-Za-z0-9_] boundaries, like C identifiers); -z: NUL after path and
    # line number so no path quoting and no ':' ambiguity.
    args = ["grep", "-n", "-w", "-I", "-z", "--no-color", "--no-column"]
    groups = _by_first_char(symbols)
    few = len(groups) <= _PCRE_GROUPS or len(groups) <= len(symbols) - _PCRE_SAVED
    if perl and 1 < len(symbols) <= _PCRE_MAX and few:
        # A PCRE alternation whose words all start with one character is scanned for with
        # memchr: it costs what a single-symbol grep costs. Words starting with different
        # characters make PCRE try every byte (6 pte-nolock names on the kernel: 0.96 s of
        # CPU as one alternation, 0.40 s as one alternation per first character, 0.54 s
        # as fixed strings, 0.19 s for one name); each pattern is one more pass over the
        # text, and each fixed string costs about one such pass too: past a few first
        # characters fixed strings win, unless grouping saves several passes (v4's 6
        # names and kzalloc, 4 first characters: 0.35-0.50 s of user CPU as 4 PCRE
        # alternations, 0.53-0.75 s as 7 fixed strings; 5 names in 4 groups: the same).
        return [*args, "-P", *(a for g in groups for a in ("-e", f"(?:{alternation(g)})"))]
    args.append("-F")
    for s in symbols:
        args += ["-e", s]
    return args


def _by_first_char(symbols: Sequence[str]) -> list[list[str]]:
    """The symbols grouped by their first character (in order of first appearance)."""
    groups: dict[str, list[str]] = {}
    for s in symbols:
        groups.setdefault(s[:1], []).append(s)
    return list(groups.values())


def _fixed_args(strings: Sequence[str]) -> list[str]:
    """git grep options printing each occurrence of plain strings as `path NUL match`."""
    return ["-o", "-z", "-I", "-F", *(a for s in strings for a in ("-e", s))]


def _parse_fixed(out: bytes, strip_prefix: str) -> dict[str, set[str]]:
    """`git grep -o -z` output -> path -> the strings found in it."""
    found: dict[str, set[str]] = {}
    for rec in out.split(b"\n"):
        path, sep, match = rec.partition(b"\0")
        if not sep:
            continue
        name = _decode(path)
        if strip_prefix and name.startswith(strip_prefix):
            name = name[len(strip_prefix) :]
        found.setdefault(name, set()).add(_decode(match))
    return found


def _grep(
    cwd: str, symbols: Sequence[str], options: Sequence[str] = (), revs: Sequence[str] = ()
) -> bytes:
    """Run one git grep for all symbols; PCRE when git has it, else fixed strings.

    `options` go right after `grep` (e.g. --no-index), `revs` at the end (a tree-ish and --).
    """
    args = _grep_args(symbols)
    if "-P" in args:
        proc = subprocess.run(
            ["git", "grep", *options, *args[1:], *revs],
            cwd=cwd,
            capture_output=True,
            env=_git_env(),
            check=False,
        )
        if proc.returncode in (0, 1):
            return proc.stdout
        # git built without PCRE: fall through to the portable form.
    args = _grep_args(symbols, perl=False)
    out = _run_git(cwd, ["grep", *options, *args[1:], *revs], ok=(0, 1))
    if len(symbols) < 2:
        return out
    # Many fixed strings: keep exactly the lines where one of them is a whole word, as
    # the Python matchers define it (one definition of a word for every path).
    pattern = word_pattern(symbols)
    kept = [
        rec
        for rec in out.split(b"\n")
        if rec and pattern.search(_decode(rec.split(b"\0", 2)[-1])) is not None
    ]
    return b"".join(rec + b"\n" for rec in kept)


def _parse_grep(out: bytes, strip_prefix: str = "") -> list[GrepHit]:
    hits: list[GrepHit] = []
    for record in out.split(b"\n"):
        if not record:
            continue
        parts = record.split(b"\0", 2)
        if len(parts) != 3:
            continue  # not a match line (git prints nothing else with these flags)
        path = _decode(parts[0])
        if strip_prefix and path.startswith(strip_prefix):
            path = path[len(strip_prefix) :]
        hits.append(GrepHit(path, int(parts[1]), _decode(parts[2])))
    return hits


def scan_text(path: str, text: str, pattern: re.Pattern[str]) -> list[GrepHit]:
    """Whole-word hits in one file's text, as git grep -n -w -I would report them."""
    if "\0" in text[:_BINARY_PROBE]:
        return []
    if pattern.search(text) is None:  # fast path: most files have no hit at all
        return []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [GrepHit(path, i, ln) for i, ln in enumerate(lines, 1) if pattern.search(ln)]


def _sorted(hits: Iterable[GrepHit]) -> list[GrepHit]:
    return sorted(hits, key=lambda h: (h.path, h.line))


# --------------------------------------------------------------------------- trees


class GitTree:
    """A commit of a git repository, read through git (no checkout)."""

    kind: TreeKind = "git"
    series_only = False
    registers_worktrees = True

    def __init__(self, repo_dir: str, rev: str = "HEAD") -> None:
        """Open `repo_dir` (a work tree top level or a bare repo) at `rev`.

        Raises BadInput("--base", ...) when `rev` does not name a commit.
        """
        self.path: str | None = str(Path(repo_dir).resolve())
        self._dir = self.path
        self.repo = git.Repo(self._dir)
        self.base: str | None = resolve_commit(self.repo, rev)
        if self.base is None:
            raise BadInput("--base", f"unknown revision '{rev}' in {self._dir}")
        self._sha: str = self.base
        #: diff-index's answer, kept from grep_words (None: not asked yet).
        self._changed: set[str] | None = None
        # One persistent `cat-file --batch` serves every read; the grep thread (rescans of
        # changed files) and the replay read at the same time, and interleaved requests
        # on its pipes deadlock: one reader at a time.
        self._cat_file = threading.Lock()
        self._uncommitted: list[str] | None = None
        #: `ls-files -s -v -z` of the index, kept from _not_in_worktree (None: not run).
        self._staged: bytes | None = None

    def lacks_commit(self, wanted: str) -> bool:
        """Whether this commit is not `wanted` (a full id or a prefix of one)."""
        return self._sha != wanted and not self._sha.startswith(wanted)

    def size_bytes(self) -> int | None:
        """The blob sizes of the commit (`git ls-tree -r -l`)."""
        res = subprocess.run(
            ["git", "-C", self._dir, "ls-tree", "-r", "-l", "--full-tree", self._sha],
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if res.returncode != 0:
            return None
        total = 0
        for line in res.stdout.splitlines():
            fields = line.split(None, 4)
            if len(fields) == 5 and fields[3].isdigit():
                total += int(fields[3])
        return total

    def materialize(self, target: Path, no_checkout: bool = False) -> None:
        """A detached `git worktree add` of the commit at `target`."""
        argv = ["git", "-C", self._dir, "worktree", "add", "--detach", "-q"]
        if no_checkout:
            argv.append("--no-checkout")
        res = subprocess.run(
            [*argv, str(target), self._sha],
            check=False,
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
        )
        if res.returncode != 0:
            raise BadInput("--build", f"git worktree add failed: {res.stderr.strip()}")

    # reading ---------------------------------------------------------------

    def read_many(self, paths: Iterable[str]) -> dict[str, str | None]:
        """Read blobs of the base commit through GitPython's persistent `cat-file --batch`.

        `Git.get_object_data("<sha>:<path>")` lets git resolve the path itself, so no tree
        is walked in Python and one git process serves every read of this tree.
        """
        result: dict[str, str | None] = {}
        missing: list[str] = []
        for p in dict.fromkeys(paths):
            try:
                with self._cat_file:
                    _, kind, _, data = self.repo.git.get_object_data(f"{self._sha}:{p}")
            except ValueError:  # "<sha>:<path> missing"
                result[p] = None
                missing.append(p)
                continue
            # A directory or submodule at that path is not a file. (GitPython's stubs say
            # str, at run time the type name is bytes: accept both.)
            type_name: object = kind
            result[p] = _decode(data) if type_name in (b"blob", "blob") else None
        if missing:
            self._check_absent(missing)
        return result

    def _check_absent(self, paths: list[str]) -> None:
        """Raise BadInput when a path cat-file could not read is in the tree after all.

        cat-file says "missing" both for a path the commit does not have and for a blob
        that is missing or corrupt in the object store; the tree tells them apart. A
        blob that cannot be read is never taken for an absent file: that would turn a
        caller into "file absent" and a verdict into a wrong OK.
        """
        for path, (kind, oid) in self._ls_tree(paths).items():
            if kind in ("file", "link") and path in paths:
                raise BadInput(
                    f"{self._dir}: {path}",
                    f"git object {oid} ({self._sha[:12]}:{path}) cannot be read: it is "
                    "missing or corrupt (see git fsck)",
                )

    def read(self, path: str) -> str | None:
        """The blob at `path` in the base commit, or None."""
        return self.read_many([path])[path]

    def exists(self, path: str) -> bool:
        """Whether `path` is a file in the base commit."""
        return self.read(path) is not None

    def entries(self, paths: Iterable[str]) -> dict[str, EntryKind]:
        """Entry types at `paths` in the base commit, from `git ls-tree` (modes included:
        a symlink is a blob to cat-file, only the tree says it is a link)."""
        return {p: kind for p, (kind, _) in self._ls_tree(paths).items()}

    def _ls_tree(self, paths: Iterable[str]) -> dict[str, tuple[EntryKind, str]]:
        """(kind, object id) of each of `paths` the base commit has.

        Only the paths no other one lies below are named to `ls-tree -t`, which shows
        the trees it goes through to them: naming a directory too would list all its
        entries (15,000 for the 1,400 files of a long series and their directories).
        A leading directory that is not shown is not a tree (a file, a link, a
        submodule) or absent: those few are asked about by name.
        """
        wanted = [p for p in dict.fromkeys(paths) if p]
        above = _leading_dirs(wanted)
        found = self._ls_tree_entries([p for p in wanted if p not in above])
        found.update(self._ls_tree_entries([p for p in wanted if p in above and p not in found]))
        return {p: found[p] for p in wanted if p in found}

    def _ls_tree_entries(self, paths: list[str]) -> dict[str, tuple[EntryKind, str]]:
        """Every entry `git ls-tree -t` shows for `paths` (and the trees leading there)."""
        found: dict[str, tuple[EntryKind, str]] = {}
        env = {**_git_env(), "GIT_LITERAL_PATHSPECS": "1"}
        for i in range(0, len(paths), 2000):  # keep each command line short
            chunk = paths[i : i + 2000]
            proc = subprocess.run(
                ["git", "ls-tree", "-z", "-t", "--full-tree", self._sha, "--", *chunk],
                cwd=self._dir,
                capture_output=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                raise BadInput(self._dir, f"git ls-tree failed: {_last_line(proc.stderr)}")
            for record in proc.stdout.split(b"\0"):
                meta, _, name = record.partition(b"\t")
                fields = meta.split(b" ")
                if name and len(fields) == 3:
                    kind = _GIT_MODES.get(fields[0], "file")
                    found[_decode(name)] = (kind, _decode(fields[2]))
        return found

    # history and identity (for the mails rewrite writes) -------------------

    def subjects(self, path: str, limit: int = 30) -> list[str]:
        """Subjects of the last `limit` non-merge commits that touched `path` at the base."""
        try:
            out = self.repo.git.log(
                "-n", str(limit), "--no-merges", "--format=%s", self._sha, "--", path
            )
        except git.GitCommandError:
            return []
        return str(out).splitlines()

    def identity(self) -> str | None:
        """`Name <email>` from the repository's git config (user.name, user.email), if set."""
        reader = self.repo.config_reader()
        name = str(reader.get_value("user", "name", default=""))
        email = str(reader.get_value("user", "email", default=""))
        return f"{name} <{email}>" if name and email else None

    # grep ------------------------------------------------------------------

    def _head_sha(self) -> str | None:
        if self.repo.bare:
            return None
        return resolve_commit(self.repo, "HEAD")

    def grep_words(self, symbols: Sequence[str]) -> list[GrepHit]:
        """Whole-word hits of all symbols in the base commit, with one git grep.

        When the base is HEAD of a non-bare repo, grep the worktree (as fast as the
        user's own git grep) and correct the files that differ from HEAD by scanning
        their HEAD blobs in Python; otherwise grep the commit's tree.
        """
        if not symbols:
            return []
        indexed = self._grep_indexed(symbols)
        if indexed is not None:
            return indexed
        if self._sha != self._head_sha():
            return self._grep_rev(symbols)
        # The worktree grep and the diff-index that says which files to correct run at
        # the same time: the user waits for the slower of the two, not their sum.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self._changed_from_head)
            out = _grep(self._dir, symbols)
            changed = pending.result()
        self._changed = changed
        if changed is None or len(changed) > _RESCAN_LIMIT:
            return self._grep_rev(symbols)
        hits = [h for h in _parse_grep(out) if h.path not in changed]
        pattern = word_pattern(symbols)
        for path, text in self.read_many(sorted(changed)).items():
            if text is not None:
                hits.extend(scan_text(path, text, pattern))
        return _sorted(hits)

    def grep_fixed(self, strings: Sequence[str]) -> dict[str, set[str]]:
        """Files of the base commit that contain any of `strings`, with which ones.

        As for grep_words: at HEAD of a checkout, the worktree is grepped (grepping the
        commit inflates every blob: 3 s and 450 MB on the kernel instead of 0.5 s) and the
        files that differ from HEAD, or that git does not look at, are read from HEAD.
        """
        if not strings:
            return {}
        if self._sha == self._head_sha():
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(self._changed_from_head)
                out = _run_git(self._dir, ["grep", *_fixed_args(strings), "--"], ok=(0, 1))
                changed = pending.result()
            if changed is not None and len(changed) <= _RESCAN_LIMIT:
                found = {p: s for p, s in _parse_fixed(out, "").items() if p not in changed}
                for path, text in self.read_many(sorted(changed)).items():
                    if text is not None and (hit := {s for s in strings if s in text}):
                        found[path] = hit
                return found
        out = _run_git(self._dir, ["grep", *_fixed_args(strings), self._sha, "--"], ok=(0, 1))
        return _parse_fixed(out, f"{self._sha}:")

    def _grep_indexed(self, symbols: Sequence[str]) -> list[GrepHit] | None:
        """The hits from `series-tool index`'s word index of this commit's tree, when one
        was built (None: there is none, grep). Only the files holding a symbol are read,
        and their lines are found as `scan_text` finds them for git grep."""
        index = WordIndex.for_commit(self._dir, self._sha)
        if index is None:
            return None
        paths = index.paths(symbols)
        if len(paths) > _INDEX_MAX_FILES:
            return None  # a tree-wide symbol: git grep reads its thousands of files faster
        pattern = word_pattern(symbols)
        hits: list[GrepHit] = []
        # grep runs in a thread next to the replay: read through a cat-file of its own.
        for path, text in read_files(self._dir, self._sha, paths):
            hits.extend(scan_text(path, text, pattern))
        return _sorted(hits)

    def blob_reader(self) -> BlobReader:
        """What a worker process needs to read files of this commit itself: from the
        worktree where grep_words found it holds HEAD's content (the files git grep read
        there), from the commit otherwise."""
        changed = self._changed
        if changed is None or len(changed) > _RESCAN_LIMIT or self._sha != self._head_sha():
            return BlobReader(self._dir, self._sha)
        return BlobReader(self._dir, self._sha, self._dir, frozenset(changed))

    def _grep_rev(self, symbols: Sequence[str]) -> list[GrepHit]:
        out = _grep(self._dir, symbols, revs=[self._sha, "--"])
        return _sorted(_parse_grep(out, strip_prefix=f"{self._sha}:"))

    def uncommitted(self) -> list[str]:
        """Tracked files whose worktree or index content differs from HEAD (sorted).

        The analysis reads commits, never the worktree: a non-empty answer means the
        results are for the commit, not for these changes, and the reports say so.
        diff-index (already run for grep) lists stat-dirty files too, without refreshing
        the index; `git status` on just those, with GIT_OPTIONAL_LOCKS=0 (index not
        written), compares their content.
        """
        if self._uncommitted is not None:
            return self._uncommitted
        if self.repo.bare or self._head_sha() is None:
            self._uncommitted = []
            return self._uncommitted
        candidates = self._changed if self._changed is not None else self._changed_from_head()
        found: list[str] = []
        if candidates:
            spec = sorted(candidates) if len(candidates) <= _RESCAN_LIMIT else []
            out = _run_git(
                self._dir,
                [
                    "status",
                    "--porcelain=v1",
                    "-z",
                    "--untracked-files=no",
                    "--no-renames",
                    "--",
                    *spec,
                ],
            )
            found = sorted({_decode(r[3:]) for r in out.split(b"\0") if len(r) > 3})
        self._uncommitted = found
        return found

    def _changed_from_head(self) -> set[str] | None:
        """Paths whose worktree/index state may differ from HEAD (stat-dirty included)."""
        # diff-index compares HEAD with the worktree through the index's stat data
        # without refreshing it: stat-dirty files are listed too, which only costs a
        # rescan. Files missing from the worktree or the index appear as deletions.
        out = _run_git(self._dir, ["diff-index", "--name-only", "-z", "--no-renames", "HEAD", "--"])
        changed = {_decode(p) for p in out.split(b"\0") if p}
        return changed | self._not_in_worktree()

    def _not_in_worktree(self) -> set[str]:
        """Index entries whose worktree file git does not look at: skip-worktree (sparse
        checkout: the file is absent, and git grep and diff-index skip it) and
        assume-unchanged (the file may differ and diff-index would not say so)."""
        # -s: each entry's object id too, kept for check_worktree_reads (same call).
        out = _run_git(self._dir, ["ls-files", "-s", "-v", "-z"])
        self._staged = out
        hidden: set[str] = set()
        if _HIDDEN_TAG.search(b"\0" + out) is None:
            return hidden  # the usual case: one C-speed scan, no loop over 86k entries
        for record in out.split(b"\0"):
            if len(record) > 2 and (record[:1] == b"S" or record[:1].islower()):
                hidden.add(_decode(record.partition(b"\t")[2]))
        return hidden

    def check_worktree_reads(self, paths: list[str]) -> None:
        """Raise BadInput when the object store lacks (or cannot read) the blob of one of
        `paths` that `blob_reader` reads from the worktree, or a tree on the way to it:
        the file there holds HEAD's content, but a broken object store is still an error,
        as reading the blob from the commit would make it (issue 10, item 5). The blobs
        are checked by object id (the index holds HEAD's id for every file diff-index did
        not list), the trees by resolving the deepest directories through the commit
        (which reads every tree above them): two `cat-file --batch-check` in all."""
        changed, staged = self._changed, self._staged
        if changed is None or staged is None or self.blob_reader().worktree is None:
            return  # the workers read the commit's blobs: reading them is the check
        read = [p for p in paths if p not in changed]
        oids = _index_ids(staged, read)
        check_objects(self._dir, [(oids[p], p) for p in read if p in oids])
        # The trees: each directory holding a file read, unless another one lies below it
        # (resolving `commit:a/b` reads the tree of a on the way); files the index does
        # not name (none expected) by path.
        dirs = {posixpath.dirname(p) for p in read} - {""}
        deepest = sorted(dirs - _leading_dirs(dirs))
        check_blobs(self._dir, self._sha, [p for p in read if p not in oids] + deepest)


class DirTree:
    """A plain directory (not a git top level): files are read from disk."""

    kind: TreeKind = "dir"
    base: str | None = None
    series_only = False
    registers_worktrees = False

    def lacks_commit(self, wanted: str) -> bool:
        """Never known: a plain directory has no commit to compare."""
        return False

    def size_bytes(self) -> int | None:
        """The sizes of the regular files below the directory."""
        total = 0
        for p in Path(self._root).rglob("*"):
            try:
                if p.is_file() and not p.is_symlink():
                    total += p.stat().st_size
            except OSError:
                continue
        return total

    def materialize(self, target: Path, no_checkout: bool = False) -> None:
        """A copy of the directory (symlinks kept as links)."""
        try:
            shutil.copytree(self._root, target, symlinks=True)
        except (OSError, shutil.Error) as exc:
            raise BadInput("--build", f"cannot copy {self._root}: {exc}") from None

    def __init__(self, directory: str) -> None:
        """Use `directory` as the snapshot."""
        self.path: str | None = str(Path(directory).resolve())
        self._root = self.path
        self._real_root = os.path.realpath(self.path)

    def _file(self, path: str) -> str | None:
        """The path on disk of the regular file `path`, or None; never through a symlink
        that leads out of the directory, never into .git."""
        if outside_tree(path) or invalid_path(path) is not None:
            return None
        full = os.path.join(self._root, os.path.normpath(path))
        real = os.path.realpath(full)
        if not real.startswith(self._real_root + os.sep):
            return None
        return full if os.path.isfile(real) else None

    def uncommitted(self) -> list[str]:
        """Nothing: a plain directory is read as it is, it has no commit."""
        return []

    def entries(self, paths: Iterable[str]) -> dict[str, EntryKind]:
        """Entry types at `paths` by lstat (a symlink is a link, never followed)."""
        found: dict[str, EntryKind] = {}
        for p in dict.fromkeys(paths):
            if not p or outside_tree(p) or invalid_path(p) is not None:
                continue
            try:
                mode = os.lstat(os.path.join(self._root, os.path.normpath(p))).st_mode
            except OSError:
                continue  # absent, or below something that is not a directory
            if stat.S_ISLNK(mode):
                found[p] = "link"
            elif stat.S_ISDIR(mode):
                found[p] = "dir"
            else:
                found[p] = "file" if stat.S_ISREG(mode) else "other"
        return found

    def read(self, path: str) -> str | None:
        """The file's text, or None when it is not a regular file inside the directory."""
        full = self._file(path)
        if full is None:
            return None
        with open(full, "rb") as fh:
            return _decode(fh.read())

    def exists(self, path: str) -> bool:
        """Whether `path` is a regular file inside the directory."""
        return self._file(path) is not None

    def read_many(self, paths: Iterable[str]) -> dict[str, str | None]:
        """Read each file from disk."""
        return {p: self.read(p) for p in dict.fromkeys(paths)}

    def grep_words(self, symbols: Sequence[str]) -> list[GrepHit]:
        """Whole-word hits under the directory via `git grep --no-index` (.git skipped)."""
        if not symbols:
            return []
        out = _grep(self._root, symbols, options=["--no-index"])
        return _sorted(_parse_grep(out))

    def grep_fixed(self, strings: Sequence[str]) -> dict[str, set[str]]:
        """Files under the directory that contain any of `strings`, with which ones."""
        if not strings:
            return {}
        out = _run_git(self._root, ["grep", "--no-index", *_fixed_args(strings)], ok=(0, 1))
        return _parse_fixed(out, "")


def blob_reader(tree: Tree) -> BlobReader | None:
    """A reader for worker processes when `tree` is a git commit (None: read through the
    tree, in this process)."""
    return tree.blob_reader() if isinstance(tree, GitTree) else None


def check_worktree_reads(tree: Tree, paths: list[str]) -> None:
    """For a git commit's `blob_reader`: raise BadInput unless the object store holds
    every one of `paths` that the reader takes from the worktree (nothing to check for
    other trees)."""
    if isinstance(tree, GitTree):
        tree.check_worktree_reads(paths)


def _leading_dirs(paths: Iterable[str]) -> set[str]:
    """Every directory some of `paths` lies below (`a` and `a/b` for `a/b/c`)."""
    return {p[:i] for p in paths for i, c in enumerate(p) if c == "/"}


def _index_ids(staged: bytes, paths: list[str]) -> dict[str, str]:
    """path -> object id (stage 0) of each of `paths` listed in `staged`, the output of
    `git ls-files -s -v -z` (records `TAG MODE ID STAGE<TAB>PATH<NUL>` in path order).

    Found with one forward pass of C-speed searches: the paths are looked for in the
    index's own (byte) order, each from where the last one was found; a path not found
    ahead (an order the sort did not predict) is looked for from the start.
    """
    out: dict[str, str] = {}
    pos = 0
    for path in sorted(paths, key=lambda p: p.encode("utf-8", "surrogateescape")):
        key = b"\t" + path.encode("utf-8", "surrogateescape") + b"\0"
        at = _record_at(staged, key, pos)
        if at is None:
            at = _record_at(staged, key, 0)
        if at is None:
            continue
        start = staged.rfind(b"\0", 0, at) + 1
        fields = staged[start:at].split(b" ")
        if len(fields) == 4 and fields[3] == b"0":
            out[path] = fields[2].decode("ascii")
            pos = at
    return out


def _record_at(staged: bytes, key: bytes, pos: int) -> int | None:
    """Offset of the tab that starts the path part of the record whose path `key`
    (TAB PATH NUL) names: a match inside another record's path (paths may hold tabs) is
    skipped, told by a tab between that record's start and the match."""
    at = staged.find(key, pos)
    while at >= 0:
        start = staged.rfind(b"\0", 0, at) + 1
        if b"\t" not in staged[start:at]:
            return at
        at = staged.find(key, at + 1)
    return None


class NoTree:
    """Series-only mode: nothing is known about the tree."""

    kind: TreeKind = "series-only"
    path: str | None = None
    base: str | None = None
    series_only = True
    registers_worktrees = False

    def lacks_commit(self, wanted: str) -> bool:
        """Never known: there is no tree."""
        return False

    def size_bytes(self) -> int | None:
        """Unknown: there is no tree."""
        return None

    def materialize(self, target: Path, no_checkout: bool = False) -> None:
        """Impossible: there is no tree to copy."""
        raise BadInput("--build", "needs a tree: run inside a git checkout or pass --repo")

    def read(self, path: str) -> str | None:
        """Always None: there is no tree."""
        return None

    def exists(self, path: str) -> bool:
        """Always False."""
        return False

    def read_many(self, paths: Iterable[str]) -> dict[str, str | None]:
        """None for every path."""
        return dict.fromkeys(paths)

    def entries(self, paths: Iterable[str]) -> dict[str, EntryKind]:
        """Nothing is known."""
        return {}

    def uncommitted(self) -> list[str]:
        """Nothing: there is no checkout."""
        return []

    def grep_words(self, symbols: Sequence[str]) -> list[GrepHit]:
        """Always empty."""
        return []

    def grep_fixed(self, strings: Sequence[str]) -> dict[str, set[str]]:
        """Always empty."""
        return {}


# --------------------------------------------------------------------------- opening


def resolve_commit(repo: git.Repo, rev: str) -> str | None:
    """The full sha of the commit `rev` names in `repo`, or None."""
    if not rev or rev.startswith("-"):
        return None
    try:
        out = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except git.GitCommandError:
        return None
    sha = str(out).strip()
    return sha or None


def _git_top_level(directory: Path) -> bool:
    """Whether `directory` is the top of a work tree or a bare repository itself."""
    try:
        repo = git.Repo(directory)  # no parent search: a subdirectory raises
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False
    if repo.bare:
        return Path(repo.git_dir).resolve() == directory.resolve()
    wt = repo.working_tree_dir
    return wt is not None and Path(wt).resolve() == directory.resolve()


def _git_tree(top: str, base: str | None, series_base: str | None) -> GitTree:
    if base is not None:
        return GitTree(top, base)
    if series_base:
        repo = git.Repo(top)
        if resolve_commit(repo, series_base) is not None:
            return GitTree(top, series_base)
    try:
        return GitTree(top, "HEAD")
    except BadInput:
        raise BadInput("--repo", f"{top} has no commits") from None


def open_tree(repo: str | None, base: str | None, series_base: str | None, cwd: str) -> Tree:
    """Choose the tree the series is replayed on.

    `--repo DIR`: a git top level (or bare repo) gives a GitTree at `base`, else at the
    series' base-commit when the repo has it, else HEAD; any other directory is a DirTree.
    No `--repo`: a GitTree on the checkout containing `cwd` (like git am), else NoTree.
    """
    if repo is not None:
        d = Path(cwd, repo)
        if d.exists() and not d.is_dir():
            raise BadInput("--repo", f"{d} is a file, not a directory")
        if not d.is_dir():
            raise BadInput("--repo", f"no such directory: {d}")
        if _git_top_level(d):
            return _git_tree(str(d.resolve()), base, series_base)
        if base is not None:
            raise BadInput("--base", f"{d} is not a git repository, so it has no revisions")
        return DirTree(str(d))
    try:
        found = git.Repo(cwd, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        found = None
    if found is None or found.bare or found.working_tree_dir is None:
        if base is not None:
            raise BadInput("--base", f"no git repository at {cwd} (use --repo DIR)")
        return NoTree()
    return _git_tree(str(found.working_tree_dir), base, series_base)

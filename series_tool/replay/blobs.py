"""Reading many files of a git tree from worker processes, without the tree object.

A tree-wide API has thousands of caller files (kzalloc: 7,000 files, 250 MB). Reading
them in the main process through GitTree's persistent cat-file and shipping the texts to
the workers that classify them costs a git inflation of every blob, a pipe round trip per
file and two copies of every text between processes. A `BlobReader` is what a worker needs
to read them itself (plain data: it pickles): the repository, the commit and, when the
commit is the checkout's HEAD, which files of the worktree hold exactly HEAD's content.

Those are the files git grep already read in the worktree (GitTree.grep_words): every file
except the ones diff-index lists (content or stat differs from HEAD, deleted) and the ones
git does not look at (skip-worktree, assume-unchanged). They are read from disk, as git
grep read them; the others come from the commit through one `git cat-file --batch` per
batch. That the object store still holds what is read from disk is checked once, by the
main process (`check_worktree_reads`), not by each worker.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from .wordindex import read_blobs


@dataclass(frozen=True)
class BlobReader:
    """Reads files of `commit` in `repo_dir`; from `worktree` for paths not in `dirty`."""

    repo_dir: str
    commit: str
    #: The checkout's top level when `commit` is its HEAD and `dirty` is known, else None.
    worktree: str | None = None
    #: Paths whose worktree file may differ from the commit (read from the commit).
    dirty: frozenset[str] = frozenset()

    def read(self, paths: list[str]) -> Iterator[tuple[str, bytes]]:
        """(path, content) of each path the commit holds as a file, in any order."""
        from_commit: list[str] = []
        for path in paths:
            data = self._from_worktree(path)
            if data is None:
                from_commit.append(path)
            else:
                yield path, data
        if from_commit:
            yield from read_blobs(self.repo_dir, self.commit, from_commit)

    def _from_worktree(self, path: str) -> bytes | None:
        """The worktree file's bytes when it holds the commit's content (None: ask git)."""
        if self.worktree is None or path in self.dirty:
            return None
        full = os.path.join(self.worktree, path)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None  # a symlink (its blob is the link's target), or absent: git knows
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            with os.fdopen(fd, "rb", closefd=False) as f:
                return f.read()
        finally:
            os.close(fd)

"""Workers read the callers' files themselves (replay/blobs.py): from the worktree only
where it holds the commit's content, from the commit everywhere else."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from conftest import git

from series_tool.replay import GitTree, blob_reader

MakeRepo = Callable[[Path, dict[str, str]], Path]

FILES = {
    "clean.c": "int clean = foo(1);\n",
    "edited.c": "int edited = foo(2);\n",
    "staged.c": "int staged = foo(3);\n",
    "deleted.c": "int deleted = foo(4);\n",
    "hidden.c": "int hidden = foo(5);\n",
    "sp ace/é.c": "int spaced = foo(6);\n",
}


def _committed(repo: Path, paths: list[str]) -> dict[str, bytes]:
    return {p: git(repo, "show", f"HEAD:{p}").encode("utf-8", "surrogateescape") for p in paths}


def test_reads_equal_the_commit_whatever_the_worktree_holds(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    repo = make_repo(tmp_path, FILES)
    os.symlink("clean.c", repo / "link.c")
    git(repo, "add", "link.c")
    git(repo, "commit", "-q", "-m", "link")
    # Every way the worktree can differ from HEAD without the commit changing.
    (repo / "edited.c").write_text("int edited = bar(2);\n")
    (repo / "staged.c").write_text("int staged = bar(3);\n")
    git(repo, "add", "staged.c")
    (repo / "deleted.c").unlink()
    git(repo, "update-index", "--assume-unchanged", "hidden.c")
    (repo / "hidden.c").write_text("int hidden = bar(5);\n")
    paths = [*FILES, "link.c"]

    tree = GitTree(str(repo))
    tree.grep_words(["foo"])  # the worktree grep learns which files differ from HEAD
    reader = blob_reader(tree)
    assert reader is not None and reader.worktree is not None
    assert {"edited.c", "staged.c", "deleted.c", "hidden.c"} <= reader.dirty
    assert dict(reader.read(paths)) == _committed(repo, paths)


def test_without_a_worktree_grep_everything_comes_from_the_commit(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    repo = make_repo(tmp_path, FILES)
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "clean.c").write_text("int clean = bar(1);\n")
    git(repo, "commit", "-q", "-am", "later")
    tree = GitTree(str(repo), first)  # not HEAD: the worktree is another commit
    tree.grep_words(["foo"])
    reader = blob_reader(tree)
    assert reader is not None and reader.worktree is None
    assert dict(reader.read(list(FILES)))["clean.c"] == FILES["clean.c"].encode()

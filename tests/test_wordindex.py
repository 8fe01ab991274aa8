"""`series-tool index`: a word index of a tree gives git grep's results without a grep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, make_git_repo

from series_tool.cli import main
from series_tool.replay import GitTree, WordIndex, build_index

FILES = {
    "a.c": "int foo(void);\nint foo_bar = foo(1);\n/* foo */ xfoo\n",
    "b.h": "#define BAR foo\nstatic int bar;\n",
    "same.c": "int foo(void);\nint foo_bar = foo(1);\n/* foo */ xfoo\n",  # same blob as a.c
    "doc.txt": "foo and bar_baz\n",
    "bin.dat": "foo\0binary\n",
    "sub/deep.c": "void baz(void) { bar(); foo(); }\n",
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_index_gives_grep_results(tmp_path: Path, cache: Path) -> None:
    repo = make_git_repo(tmp_path, FILES)
    queries = [["foo"], ["bar", "baz"], ["foo_bar"], ["nothing"], ["xfoo", "BAR", "foo"]]
    grepped = [GitTree(str(repo)).grep_words(q) for q in queries]
    assert WordIndex.for_commit(str(repo), "HEAD") is None
    path, files, _ = build_index(str(repo))
    assert path.is_file() and cache in path.parents and files == len(FILES)
    assert not list(repo.rglob("*.sqlite"))  # nothing written into the repository
    assert WordIndex.for_commit(str(repo), "HEAD") is not None
    indexed = [GitTree(str(repo)).grep_words(q) for q in queries]
    assert indexed == grepped
    assert any(h.path == "same.c" for h in indexed[0]) and not any(
        h.path == "bin.dat" for h in indexed[0]
    )


def test_other_tree_falls_back_to_grep(tmp_path: Path, cache: Path) -> None:
    repo = make_git_repo(tmp_path, FILES)
    build_index(str(repo))
    (repo / "new.c").write_text("int foo;\n")
    git(repo, "add", "new.c")
    git(repo, "commit", "-qm", "more")
    assert WordIndex.for_commit(str(repo), "HEAD") is None  # a new tree: not indexed
    hits = GitTree(str(repo)).grep_words(["foo"])
    assert any(h.path == "new.c" for h in hits)
    assert WordIndex.for_commit(str(repo), "HEAD~1") is not None


def test_verify_same_with_and_without_index(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples_repo import EXAMPLES, ring_repo

    repo = ring_repo(tmp_path)
    mbox = str(EXAMPLES / "ring-slot.mbox")
    code = main(["verify", mbox, "--repo", str(repo), "--format", "json"])
    before = json.loads(capsys.readouterr().out)
    assert main(["index", "--repo", str(repo)]) == 0
    assert "indexed" in capsys.readouterr().out
    assert main(["verify", mbox, "--repo", str(repo), "--format", "json"]) == code
    after = json.loads(capsys.readouterr().out)
    assert after == before


def test_index_outside_a_repository(tmp_path: Path, cache: Path) -> None:
    assert main(["index", "--repo", str(tmp_path)]) == 2

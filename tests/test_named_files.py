"""Which tracked symbols an untouched file holds is read from its grep lines (no scan of
its bytes in the workers): every whole-word symbol of every line of the file, scoped out
or not, and nothing that is only part of a longer word."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from pathlib import Path

from conftest import make_git_repo

from series_tool.checks.analysis import Named, _classify_untouched, _named_files
from series_tool.model import word_pattern
from series_tool.replay import GitTree, GrepHit

FILES = {
    "a.c": "int x = foo(1);\nint y = foo_bar(2) + bar(3);\n",
    "b.c": "/* foobar foo_ */\nint z = baz;\n",
    "c.h": "#define Q bar\n",
}
SYMBOLS = ["bar", "baz", "foo"]


def test_names_come_from_every_grep_line_of_the_file(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path, FILES)
    hits = GitTree(str(repo)).grep_words(SYMBOLS)
    named = dict(_named_files(["a.c", "b.c", "c.h"], hits, SYMBOLS))
    # What a scan of each file's text for whole words finds, no more (foo_bar, foobar).
    for path, text in FILES.items():
        assert named[path] == sorted(set(word_pattern(SYMBOLS).findall(text)))
    assert named == {"a.c": ["bar", "foo"], "b.c": ["baz"], "c.h": ["bar"]}


def test_a_file_without_grep_lines_names_nothing() -> None:
    hits = [GrepHit("a.c", 1, "foo(1);")]
    assert _named_files(["a.c", "d.c"], hits, SYMBOLS) == [("a.c", ["foo"]), ("d.c", [])]


def _classify_in_daemon(repo: str, named: Named, send: Connection) -> None:
    os.cpu_count = lambda: 4  # as on a machine with cores for workers, whatever runs this
    tree = GitTree(repo)
    tree.grep_words(["foo"])
    send.send(_classify_untouched(tree, named))
    send.close()


def test_a_daemonic_process_classifies_many_callers_itself(tmp_path: Path) -> None:
    """`scan` checks each series in a daemonic child, which may not start processes: a
    tree-wide API's callers are classified in it, as the workers would."""
    files = {f"d/f{i}.c": f"int f{i}(void)\n{{\n\treturn foo({i});\n}}\n" for i in range(200)}
    repo = make_git_repo(tmp_path, files)
    tree = GitTree(str(repo))
    hits = tree.grep_words(["foo"])
    named = _named_files(sorted(files), hits, ["foo"])
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_classify_in_daemon, args=(str(repo), named, send), daemon=True)
    child.start()
    send.close()
    got = receive.recv()
    child.join()
    assert child.exitcode == 0
    assert got == _classify_untouched(tree, named)  # the workers' answer
    assert len(got) == 200 and {r.kind for r in got} == {"call"}

"""A long series' own files followed from item parses give what whole-file parses give.

From 128 touched files on, each version of each file is parsed only in the items around
its hits and the lines its hunks change (checks/chains.py, model/itemparse.py). A series
over 140 caller files is made with real commits in a temp repository: every step's
references must equal `find_references` of every file at that step (whole-file parse),
the conversions must be the ones the patches make, with their functions. Among the
files: one whose item cannot be parsed alone (a '}' in column 0 that closes an inner
block, so the window ends mid-function: that file is parsed whole), a comment opened
and closed again, and an item that changes in one patch and not in the next.

Also a property: on kernel-style items, the item parse around some lines answers
`find_references` and `map_hunk` exactly as the whole-file parse does.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from conftest import git, make_git_repo, series_mbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scale_steps import HEADER, assert_steps_recomputed
from test_windows import ITEMS as WINDOW_ITEMS

from series_tool.checks import analyse
from series_tool.ingest import ingest, parse_diff
from series_tool.model import (
    CSource,
    find_references,
    item_spans,
    line_starts,
    map_hunk,
    parse_items,
    word_pattern_bytes,
)
from series_tool.replay import open_tree

FILES = 140


def _caller(i: int) -> str:
    return (
        f'#include "buf.h"\n\n/* file {i}: buf_get callers */\n'
        f"static int helper{i}(int x)\n{{\n\tx += buf_get(1);\n\tx += buf_get(2);\n"
        f"\treturn x;\n}}\n\n"
        f"static int other{i}(void)\n{{\n\treturn 7;\n}}\n\n"
        f"int user{i}(void)\n{{\n\treturn helper{i}(buf_get(0));\n}}\n"
    )


#: A '}' in column 0 that closes an inner block: the window around the first call ends
#: there, in the middle of the function, so the items of this file do not parse alone.
ODD = (
    '#include "buf.h"\n\nint odd(int x)\n{\n\tif (x) {\n\t\tx = buf_get(x);\n}\n'
    "\treturn buf_get(x);\n}\n"
)


def _series(tmp_path: Path) -> tuple[Path, Path, str]:
    files = {"buf.h": HEADER, "buf.c": "int buf_get(int n)\n{\n\treturn n;\n}\n", "odd.c": ODD}
    files |= {f"c{i:03}.c": _caller(i) for i in range(FILES)}
    repo = make_git_repo(tmp_path, files)
    base = git(repo, "rev-parse", "HEAD").strip()

    def commit(msg: str) -> None:
        git(repo, "commit", "-qam", msg)

    def convert(path: str, count: int = 1) -> None:
        text = (repo / path).read_text()
        (repo / path).write_text(text.replace("buf_get(", "buf_fetch(", count))

    (repo / "buf.h").write_text(HEADER.replace("#endif", "#define buf_fetch buf_get\n#endif"))
    commit("introduce buf_fetch")
    paths = [f"c{i:03}.c" for i in range(FILES)]
    for k in range(0, FILES, 20):
        for path in paths[k : k + 20]:
            convert(path)  # the first call of helper: its item changes, user's does not
        commit(f"convert files {k} to {k + 19}, first call")
    (repo / "c005.c").write_text("/* open\n" + (repo / "c005.c").read_text())
    commit("open a comment in c005.c")
    (repo / "c005.c").write_text((repo / "c005.c").read_text().removeprefix("/* open\n"))
    commit("close it again")
    for path in ["odd.c", *paths]:
        convert(path, 3)
    commit("convert the rest")
    mbox = series_mbox(repo, base, tmp_path / "series.mbox")
    git(repo, "checkout", "-q", base)
    return repo, mbox, base


def test_item_parsed_steps_equal_whole_file_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import series_tool.checks.chains as chains

    repo, mbox, _ = _series(tmp_path)
    ing = ingest(str(mbox))
    tree = open_tree(str(repo), None, None, "/")
    # Followed in this process, so that the item parses can be counted.
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    parsed: list[bool] = []
    real = chains.parse_items

    def counted(*args: object) -> object:
        src = real(*args)  # type: ignore[arg-type]
        parsed.append(src is not None)
        return src

    monkeypatch.setattr(chains, "parse_items", counted)
    an = analyse(ing, tree, old=["buf_get"], new=["buf_fetch"])
    # Every file's versions went through item parses; odd.c's did not parse alone.
    assert sum(parsed) >= FILES and not all(parsed)
    touched = sorted({fd.path for p in ing.series.patches for fd in p.files})
    assert len(touched) > FILES
    fixed = find_references("buf.c", tree.read("buf.c") or "", an.tracked, roles=an.roles)
    assert_steps_recomputed(an, touched, fixed)
    calls = [c for c in an.conversions if c.old == "buf_get" and c.new == "buf_fetch"]
    assert len(calls) == 3 * FILES + 2
    by_place = {(c.file, c.line): c.function for c in calls}
    assert by_place[("c000.c", 6)] == "helper0"
    assert by_place[("c000.c", 7)] == "helper0"
    assert by_place[("c000.c", 18)] == "user0"
    assert by_place[("odd.c", 6)] == by_place[("odd.c", 8)] == "odd"
    assert an.steps[-1].count("buf_get", ["call"]) == 0


# The first items of test_windows' list (kernel-style items, some tree-sitter parses
# with errors); its later ones exercise the statement spans of untouched callers.
ITEMS = WINDOW_ITEMS[:13]
SYMBOLS = ["kmemdup", "kmemdup_new", "helper"]


def test_an_item_parse_parses_only_the_items_around_the_hits() -> None:
    other = "".join(f"static int f{i}(void)\n{{\n\treturn {i};\n}}\n\n" for i in range(20))
    text = other + ITEMS[0] + "\n\n" + other.replace("static int f", "static int g")
    src = _items_source(text, set())
    assert src is not None and 0 < src.parsed_size < len(text.encode()) // 2


def _hunk_maps(old: str, new: str, pre: CSource, post: CSource) -> list[object]:
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            "a/lib/dup.c",
            "b/lib/dup.c",
        )
    )
    out: list[object] = []
    for fd in parse_diff(diff, "test"):
        for i, h in enumerate(fd.hunks):
            out.append(
                map_hunk(
                    1,
                    fd.path,
                    i,
                    h,
                    SYMBOLS,
                    pre=pre.view(h.source_start, h.source_start + max(h.source_length, 1) - 1),
                    post=post.view(h.target_start, h.target_start + max(h.target_length, 1) - 1),
                )
            )
    return out


def _items_source(text: str, lines: set[int], before: CSource | None = None) -> CSource | None:
    data = text.encode()
    hits = [data.rfind(b"\n", 0, m.start()) + 1 for m in word_pattern_bytes(SYMBOLS).finditer(data)]
    return parse_items(data, item_spans(data, [*hits, *line_starts(data, lines, hits)]), before)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(ITEMS), min_size=1, max_size=8),
    st.sampled_from(["\n", "\n\n"]),
    st.integers(0, 40),
)
def test_item_parse_answers_like_the_whole_file(items: list[str], sep: str, at: int) -> None:
    """References of every hit, and the map of a hunk converting one line (from the item
    parses of the old and the new text around the hits and the changed line), equal the
    whole-file parse's wherever the items parse alone."""
    old = sep.join(items) + "\n"
    lines = old.split("\n")
    hit_lines = [n for n, ln in enumerate(lines, 1) if "kmemdup" in ln]
    changed = hit_lines[at % len(hit_lines)] if hit_lines else None
    new_lines = list(lines)
    if changed is not None:
        new_lines[changed - 1] = new_lines[changed - 1].replace("kmemdup", "kmemdup_new", 1)
    new = "\n".join(new_lines)
    asked = {changed} if changed is not None else set()
    pre, post = _items_source(old, asked), _items_source(new, asked)
    for text, src in ((old, pre), (new, post)):
        if src is None:
            continue  # a window that does not parse alone: the caller parses the file whole
        assert find_references("lib/dup.c", text, SYMBOLS, source=src) == find_references(
            "lib/dup.c", text, SYMBOLS
        )
    if pre is not None and post is not None:
        # Reparsed from the old text's item parse: the same tree as a fresh item parse.
        again = _items_source(new, asked, pre)
        assert again is not None and str(again.root) == str(post.root)
    if pre is not None and post is not None and changed is not None:
        assert _hunk_maps(old, new, pre, post) == _hunk_maps(
            old, new, CSource.from_text(old), CSource.from_text(new)
        )

"""A long series' chains followed in forked worker processes give what one process gives.

`checks.chains._forked` hands each part of the chains to a forked child (the chains are
inherited, not pickled) and unpickles the results with the garbage collector paused.
The results must equal `_follow_all` of the same parts in this process, in the same
order; an exception in a child is raised here with its own type, and the collector's
state is what it was before. Also: the hunk maps the chains make take each changed
line's calls from one query of the hunk's window, the calls a one-line view gives.
"""

from __future__ import annotations

import difflib
import gc
import multiprocessing
from multiprocessing.connection import Connection

import pytest

from series_tool.checks.chains import (
    _PARALLEL_CHAINS,
    _Chain,
    _FileJob,
    _follow_all,
    _follow_chains,
    _forked,
)
from series_tool.ingest import parse_diff
from series_tool.model import CSource, map_hunk, numbered_lines

SYMBOLS = ["buf_get", "buf_fetch"]
ROLES = {"buf_get": frozenset({"function"}), "buf_fetch": frozenset({"function"})}


def _text(i: int, new: bool) -> str:
    name = "buf_fetch" if new else "buf_get"
    return (
        f'#include "buf.h"\n\nstatic int helper{i}(int x)\n{{\n\tx += {name}(1);\n'
        f"\treturn x + buf_get(2);\n}}\n\nint user{i}(void)\n{{\n\treturn helper{i}(0);\n}}\n"
    )


def _chain(i: int) -> _Chain:
    path = f"drivers/c{i}.c"
    old, new = _text(i, False), _text(i, True)
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )
    (fd,) = parse_diff(diff, "test")
    job = _FileJob((i, 0), i + 1, path, [(h, h) for h in fd.hunks], None, True, False)
    return _Chain(path, old, [(i + 1, new)], {i + 1: [job]})


def test_forked_results_equal_one_process() -> None:
    parts = [[_chain(i) for i in range(k, k + 3)] for k in (0, 3)]
    done = _forked(parts, SYMBOLS, ROLES)
    assert done == [_follow_all(part, SYMBOLS, ROLES) for part in parts]
    refs = [r for res in done[1] for _, step in res.refs for r in step]
    assert {(r.file, r.line, r.symbol, r.kind) for r in refs} >= {
        ("drivers/c3.c", 5, "buf_fetch", "call"),
        ("drivers/c3.c", 6, "buf_get", "call"),
    }
    assert gc.isenabled()


def test_an_error_in_a_child_is_raised_with_its_type() -> None:
    broken = _Chain("drivers/broken.c", 42, [])  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        _follow_all([broken], SYMBOLS, ROLES)
    with pytest.raises(AttributeError):
        _forked([[_chain(0)], [broken]], SYMBOLS, ROLES)
    assert gc.isenabled()


def test_an_error_that_does_not_rebuild_and_a_dead_child_are_errors_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception whose constructor takes other arguments than it keeps (BadInput)
    comes back as its text, not as a TypeError of the pipe; a child that dies without an
    answer is an error, and the other children are stopped and reaped, not waited for."""
    import os

    import series_tool.checks.chains as chains
    from series_tool.errors import BadInput

    real = chains._follow_all

    def bad_input(part: list[_Chain], *args: object) -> object:
        if part[0].path.endswith("c1.c"):
            raise BadInput("drivers/c1.c", "too big")
        return real(part, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(chains, "_follow_all", bad_input)
    with pytest.raises(RuntimeError, match=r"BadInput: drivers/c1\.c: too big"):
        _forked([[_chain(0)], [_chain(1)]], SYMBOLS, ROLES)

    def dies(part: list[_Chain], *args: object) -> object:
        if part[0].path.endswith("c1.c"):
            os._exit(3)
        return real(part * 400, *args)  # type: ignore[arg-type]  # a big answer to send

    monkeypatch.setattr(chains, "_follow_all", dies)
    with pytest.raises(RuntimeError, match="died without an answer"):
        _forked([[_chain(1)], [_chain(0)]], SYMBOLS, ROLES)
    assert gc.isenabled()
    assert not multiprocessing.active_children()


def test_call_sites_are_each_lines_own_calls() -> None:
    """`map_hunk` takes each changed line's calls from one query of its window: the same
    calls, in the same order, as a one-line view of that line gives (a call spread over
    lines, two calls on a line, a call of a call, a prototype's attribute)."""
    old = (
        "int f(int x)\n{\n\tint a = buf_get(x);\n\treturn a;\n}\n"
        "void g(void) __acquires(buf_get);\n"
    )
    new = (
        "int f(int x)\n{\n\tint a = buf_fetch(\n\t\tbuf_fetch(x) + buf_get(1));\n"
        "\ta += buf_fetch(a), buf_get(buf_fetch(2));\n\treturn a;\n}\n"
        "void g(void) __acquires(buf_fetch);\n"
    )
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), "a/x.c", "b/x.c"
        )
    )
    (fd,) = parse_diff(diff, "test")
    pre, post = CSource.from_text(old), CSource.from_text(new)
    calls = []
    for i, h in enumerate(fd.hunks):
        view = post.view(h.target_start, h.target_start + h.target_length - 1)
        hm = map_hunk(1, "x.c", i, h, SYMBOLS, pre=pre, post=view)
        expected = [
            (name, t)
            for ln, _, t in numbered_lines(h)
            if ln.kind == "+" and t is not None
            for name, _ in post.view(t, t).calls(t.__eq__)
            if name in SYMBOLS
        ]
        assert [(c.symbol, c.line) for c in hm.added_calls] == expected
        calls.extend(expected)
    assert calls == [
        ("buf_fetch", 3),
        ("buf_fetch", 4),
        ("buf_get", 4),
        ("buf_fetch", 5),
        ("buf_get", 5),
        ("buf_fetch", 5),
    ]


def _follow_in_daemon(chains: list[_Chain], send: Connection) -> None:
    send.send(_follow_chains(chains, SYMBOLS, ROLES))
    send.close()


def test_a_daemonic_process_follows_the_chains_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """`scan` checks each series in a daemonic child, which may not start processes: a
    long series' chains are followed in it, with the answers of the parallel path."""
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 4)  # cores for workers, on any runner
    chains = [_chain(i) for i in range(2 * _PARALLEL_CHAINS)]
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_follow_in_daemon, args=(chains, send), daemon=True)
    child.start()
    send.close()
    got = receive.recv()
    child.join()
    assert child.exitcode == 0
    # In the order of the chains here, of the workers' parts there: the same results.
    parallel = _follow_chains(chains, SYMBOLS, ROLES)
    assert [r.path for r in got] == [c.path for c in chains]
    assert got == sorted(parallel, key=lambda r: [c.path for c in chains].index(r.path))

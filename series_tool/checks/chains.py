"""The series' own files, followed version by version: their references at every step
and the maps of the hunks that target them.

Two ways, with the same answers where both apply: a small series' files are parsed whole
(each version incrementally from the one before) and the parses are kept for the checks;
a long series' files (a thousand big files, every version of each) are parsed only in the
items around what is asked of each version (`model.item_spans`): its references to the
tracked symbols and the lines its hunks change, and an item whose bytes did not change
since the version before is not classified again. A version whose items do not parse on
their own is parsed whole, and so is every later version of that file.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from series_tool.model import (
    CSource,
    Span,
    empty_tree,
    find_references,
    is_c_path,
    item_spans,
    line_starts,
    map_hunk,
    numbered_lines,
    parse_items,
    parse_limit,
    refs_after_edit,
    word_pattern_bytes,
)
from series_tool.models import Hunk, HunkMap, Reference

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

Roles = dict[str, frozenset[str]]

#: Below this many files, following them in this process beats starting workers.
_PARALLEL_CHAINS = 64
#: From this many files on, a series' files are followed from item parses.
_ITEM_CHAINS = 2 * _PARALLEL_CHAINS


def _window(src: CSource | None, start: int, length: int) -> CSource | None:
    """A view of the lines a hunk covers (whole-file questions cost too much on big files)."""
    if src is None:
        return None
    return src.view(start, start + max(length, 1) - 1)


@dataclass
class _FileJob:
    """One file diff of one patch to map onto the file it targets (a C file)."""

    order: tuple[int, int]  # (patch position, file position): the hunk maps' order
    patch: int | None
    path: str
    hunks: list[tuple[Hunk, Hunk | None]]  # each hunk, and where it landed (None: it did not)
    pre: str | None  # the file before the patch when it is not this chain's own previous text
    own_pre: bool  # the pre-image is this path's previous version (no rename, not new)
    post_missing: bool  # the patch deletes the file


@dataclass
class _Chain:
    """Every version of one touched path over the series, and the diffs that target it."""

    path: str
    base: str | None
    versions: list[tuple[int, str | None]]  # (step index, text after that step), in order
    jobs: dict[int, list[_FileJob]] = field(default_factory=dict)  # by step index


@dataclass
class _ChainResult:
    path: str
    refs: list[tuple[int, list[Reference]]]  # (step index, references from then on)
    maps: list[tuple[tuple[int, int, int], HunkMap]]
    unparsed: dict[str, str] = field(default_factory=dict)  # path -> why (parse limits)
    #: (text, its parse) of each version, when asked to keep them (see `_follow_chains`)
    parsed: list[tuple[str, CSource]] = field(default_factory=list)


def _needed_lines(chain: _Chain) -> dict[int, set[int]]:
    """Per version of the chain (0: the base, then one more at each step whose text is
    not the same object as the one before, as `_follow` walks them), the 1-based lines
    a hunk asks about: the '-' lines of the hunks that read it as their pre-image, the
    '+' lines of those that made it."""
    changes = dict(chain.versions)
    seq: list[tuple[int, str | None]] = [(0, chain.base)]
    need: dict[int, set[int]] = {}
    for step in sorted({*changes, *chain.jobs}):
        jobs = chain.jobs.get(step, [])
        for job in jobs:
            if job.own_pre:
                need.setdefault(len(seq) - 1, set()).update(_changed_rows(job, "-"))
        new_text = changes.get(step, seq[-1][1])
        if new_text is not seq[-1][1]:
            seq.append((step, new_text))
        for job in jobs:
            if not job.post_missing:
                need.setdefault(len(seq) - 1, set()).update(_changed_rows(job, "+"))
    return need


def _changed_rows(job: _FileJob, kind: str) -> set[int]:
    """The 1-based lines of a job's landed hunks marked `kind`: '-' lines in the file
    before, '+' lines in the file after."""
    out: set[int] = set()
    for _, landed in job.hunks:
        if landed is not None:
            for ln, old, new in numbered_lines(landed):
                at = old if kind == "-" else new
                if ln.kind == kind and at is not None:
                    out.add(at)
    return out


#: An item's references, by its bytes (and the bytes after them, which the test for a
#: function-like macro's '(' looks at): (the item's first line, 0-based, where they were
#: taken; the references). An item found again at the same line gives back the same
#: objects: the steps share them, and so does their pickle from a worker (once each).
_ItemRefs = dict[bytes, tuple[int, list[Reference]]]

#: Bytes after an item that its classification may read (`_followed_by_paren`).
_LOOKAHEAD = 256


def _item_version(
    path: str,
    text: str,
    lines: set[int],
    symbols: list[str],
    roles: Roles | None,
    known: _ItemRefs,
    before: CSource | None,
    data: bytes,
) -> tuple[CSource, list[Reference], _ItemRefs] | None:
    """(a parse of the items around `lines` and around the hits whose items are not in
    `known`, the version's references, its items' references by their bytes), or None
    when those items do not parse on their own. `before`: the item parse of the version
    before, reparsed from (None: the first); `data`: `text` encoded."""
    pattern = word_pattern_bytes(symbols)
    hits = [data.rfind(b"\n", 0, m.start()) + 1 for m in pattern.finditer(data)]
    asked = line_starts(data, lines, hits) if lines else []
    fresh: list[Span] = []
    plan: list[tuple[Span, bytes, bool]] = []  # each item: (span, key, parsed here)
    k = 0
    for span in item_spans(data, [*hits, *asked]):
        _, start, end = span
        while k < len(asked) and asked[k] < start:
            k += 1
        key = data[start : end + _LOOKAHEAD]
        again = key not in known or (k < len(asked) and asked[k] < end)
        if again:
            fresh.append(span)
        plan.append((span, key, again))
    src = parse_items(data, fresh, before) if fresh else CSource(data, empty_tree())
    if src is None:
        return None
    refs: list[Reference] = []
    items: _ItemRefs = {}
    for (first, start, end), key, again in plan:
        if again:
            found = find_references(
                path, text, symbols, source=src, roles=roles, span=(start, end), span_line=first + 1
            )
        else:
            was, found = known[key]
            if was != first:  # moved: the same references, shifted
                found = [replace(r, line=r.line + first - was) for r in found]
        items[key] = (first, found)
        refs.extend(found)
    return src, refs, items


@dataclass
class _Versions:
    """Parses and references of one C file's versions, in order (see `_follow`)."""

    path: str
    symbols: list[str]
    roles: Roles | None
    out: _ChainResult
    known: _ItemRefs = field(default_factory=dict)
    #: set from the first version whose items do not parse alone: parsed whole since
    #: (from the start when the parses are kept)
    whole: bool = False
    #: keep every version's whole parse in `out.parsed` (the checks ask about them)
    keep: bool = False
    #: the last version's item parse (to reparse from)
    items: CSource | None = None
    #: the last version parsed whole, and its references (to reparse from)
    last: tuple[CSource, list[Reference]] | None = None

    def version(self, text: str | None, lines: set[int]) -> tuple[CSource | None, list[Reference]]:
        """The parse and the references of the next version (None: the file is gone)."""
        if text is None:
            self.last = self.items = None
            return None, []
        data = None if self.whole else text.encode("utf-8", "surrogateescape")
        if data is not None and parse_limit(data) is None:
            done = _item_version(
                self.path, text, lines, self.symbols, self.roles, self.known, self.items, data
            )
            if done is not None:
                src, refs, self.known = done
                if src.root.end_byte > 0:  # something was parsed: reparse from it next
                    self.items = src
                return src, refs
        self.whole = True
        if self.last is not None:
            before, before_refs = self.last
            src = before.reparsed(text)
            refs = refs_after_edit(self.path, before_refs, src, self.symbols, self.roles, before)
        else:
            src = CSource.from_text(text)
            refs = (
                find_references(self.path, text, self.symbols, source=src, roles=self.roles)
                if text
                else []
            )
        if src.unparsed is not None:
            self.out.unparsed.setdefault(self.path, src.unparsed)
        if self.keep:
            self.out.parsed.append((text, src))
        self.last = (src, refs)
        return src, refs


def _other_pre(job: _FileJob) -> CSource | None:
    """The pre-image of a diff whose source is another path (a rename, a copy), whole."""
    return CSource.from_text(job.pre) if job.pre is not None else None


def _map_jobs(
    out: _ChainResult,
    jobs: list[_FileJob],
    src: CSource | None,
    new_src: CSource | None,
    symbols: list[str],
    roles: Roles | None,
) -> None:
    """Map the hunks of `jobs` (one step's diffs of the file) between the version before
    them (`src`) and after them (`new_src`)."""
    for job in jobs:
        pre = src if job.own_pre else _other_pre(job)
        post = None if job.post_missing else new_src
        for i, (h, landed) in enumerate(job.hunks):
            key = (*job.order, i)
            if landed is None:
                # It did not land: the file says nothing about it; read the hunk alone.
                mapped = map_hunk(job.patch, job.path, i, h, symbols, roles=roles)
                out.maps.append((key, mapped))
                continue
            mapped = map_hunk(
                job.patch,
                job.path,
                i,
                landed,
                symbols,
                pre=_window(pre, landed.source_start, landed.source_length),
                post=_window(post, landed.target_start, landed.target_length),
                roles=roles,
            )
            out.maps.append((key, mapped))


def _follow(
    chain: _Chain, symbols: list[str], roles: Roles | None = None, keep: bool = False
) -> _ChainResult:
    """One file's versions in order, the hunks that target it mapped and its references
    taken. A C file's versions are parsed by `_Versions`: with `keep`, whole, each
    incrementally from the one before, and every parse returned (the checks ask about the
    same versions); else only in the items around their hits and the lines their hunks
    change (see the module's docstring), no tree kept once done."""
    path = chain.path
    out = _ChainResult(path, [], [])
    c_file = is_c_path(path)
    need = _needed_lines(chain) if c_file and not keep else {}
    versions = _Versions(path, symbols, roles, out, whole=keep, keep=keep)

    def version(text: str | None, at: int) -> tuple[CSource | None, list[Reference]]:
        if c_file:
            return versions.version(text, need.get(at, set()))
        return None, find_references(path, text, symbols, roles=roles) if text else []

    text = chain.base
    src, refs = version(text, 0)
    out.refs.append((0, refs))
    at = 0
    changes = dict(chain.versions)
    for step in sorted({*changes, *chain.jobs}):
        new_text = changes.get(step, text)
        if new_text is text:
            new_src, new_refs = src, refs
        else:
            at += 1
            new_src, new_refs = version(new_text, at)
        _map_jobs(out, chain.jobs.get(step, []), src, new_src, symbols, roles)
        if new_refs is not refs:
            out.refs.append((step, new_refs))
        text, src, refs = new_text, new_src, new_refs
    return out


def _follow_all(
    chains: list[_Chain], symbols: list[str], roles: Roles | None = None, keep: bool = False
) -> list[_ChainResult]:
    return [_follow(c, symbols, roles, keep) for c in chains]


#: Up to this much C (the touched files' base texts together), their parses are kept for
#: the checks: a parse costs about 20 times its text in memory (8 MB: about 160 MB).
_KEEP_PARSED_BYTES = 8 * 1024 * 1024


def _chain_size(chain: _Chain) -> int:
    return len(chain.base or "") + sum(len(t or "") for _, t in chain.versions)


def _follow_chains(
    chains: list[_Chain], symbols: list[str], roles: Roles | None = None
) -> list[_ChainResult]:
    """Every chain followed: a small series' files parsed whole, their parses kept for
    the checks (they ask about the same versions, and a version parsed incrementally
    shares most of its tree with the one before); a long series' files (`_ITEM_CHAINS`
    files or more, or more than `_KEEP_PARSED_BYTES` of C) from item parses
    (`_follow`), in worker processes when there are cores for them.
    """
    small = sum(len(c.base or "") for c in chains) <= _KEEP_PARSED_BYTES
    if small and len(chains) < _ITEM_CHAINS:
        return _follow_all(chains, symbols, roles, keep=True)
    workers = min(os.cpu_count() or 1, len(chains) // _PARALLEL_CHAINS)
    # A daemonic process (a series checked by `scan`) may not start processes of its own.
    if workers < 2 or multiprocessing.current_process().daemon:
        return _follow_all(chains, symbols, roles)
    # Balance by size (biggest first, each to the lightest worker so far).
    parts: list[list[_Chain]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for c in sorted(chains, key=_chain_size, reverse=True):
        w = loads.index(min(loads))
        parts[w].append(c)
        loads[w] += _chain_size(c)
    if "fork" not in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_follow_all, parts, [symbols] * workers, [roles] * workers))
        return [r for part in done for r in part]
    return [r for part in _forked(parts, symbols, roles) for r in part]


def _forked(
    parts: list[list[_Chain]], symbols: list[str], roles: Roles | None
) -> list[list[_ChainResult]]:
    """`_follow_all` of each part in a forked child process of its own.

    The children inherit their chains through fork: a 1,000-patch series' chains hold
    every version of every file (80 MB of text), which a process pool would pickle to
    them. Their results come back through a pipe, unpickled with the garbage collector
    paused: the results are tens of thousands of small objects, and every collection
    they trigger would walk this process' whole heap once they reach the oldest generation
    (the replay's texts and lines).
    """
    ctx = multiprocessing.get_context("fork")
    procs: list[tuple[BaseProcess, Connection]] = []
    answers: list[tuple[bool, object]] = []
    try:
        for part in parts:
            receive, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_child, args=(part, symbols, roles, send), daemon=True)
            child.start()
            send.close()  # the child's end: EOF here if it dies without an answer
            procs.append((child, receive))
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for _, receive in procs:
                try:
                    answers.append(receive.recv())
                except EOFError:
                    answers.append((False, "a chain worker process died without an answer"))
                    break
                except Exception as exc:  # an answer that does not unpickle
                    answers.append((False, f"a chain worker's answer is unreadable: {exc}"))
                    break
        finally:
            if was_enabled:
                gc.enable()
    finally:
        if len(answers) < len(procs) or not all(ok for ok, _ in answers):
            for proc, _ in procs:  # nobody reads the other answers now: stop their senders
                if proc.is_alive():
                    proc.terminate()
        for proc, receive in procs:
            receive.close()
            proc.join()
    done: list[list[_ChainResult]] = []
    for ok, answer in answers:
        if not ok:
            raise answer if isinstance(answer, BaseException) else RuntimeError(str(answer))
        done.append(answer)  # type: ignore[arg-type]
    return done


def _child(part: list[_Chain], symbols: list[str], roles: Roles | None, send: Connection) -> None:
    """In a forked child: follow `part`, send back (True, results) or (False, the error)."""
    # What the parent holds is never garbage here: collections skip it (and do not write
    # to its pages, which fork shares with the parent until written).
    gc.freeze()
    answer: tuple[bool, object]
    try:
        answer = (True, _follow_all(part, symbols, roles))
    except Exception as exc:  # handed to the parent, which raises it
        answer = (False, exc if _travels(exc) else f"{type(exc).__name__}: {exc}")
    send.send(answer)
    send.close()


def _travels(exc: BaseException) -> bool:
    """Whether `exc` comes out of a pipe as itself: it pickles and unpickles (an exception
    whose constructor takes other arguments than it keeps does not rebuild)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True

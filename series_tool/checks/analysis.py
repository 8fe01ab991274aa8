"""The shared core of verify, bisect-report and rewrite: the series over the tree, step by step.

Cost model (the kernel is 86k files): one `git grep -w` for every symbol whose existence
the series changes, run in a thread while the series is replayed in memory and its
touched files are parsed; after that only the files the grep names are read and parsed,
and each distinct file content is parsed once.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from series_tool.model import (
    CSource,
    collect_defined,
    find_references,
    function_name_from_hint,
    has_word,
    infer_migration,
    is_c_path,
    map_hunk,
    map_patch_without_tree,
)
from series_tool.models import (
    ApplyResult,
    CallSite,
    Hunk,
    HunkMap,
    Ingested,
    Migration,
    Patch,
    Reference,
    Series,
)
from series_tool.replay import (
    GrepHit,
    Replay,
    SparseFile,
    Tree,
    apply_sparse,
    learn_base,
    replay,
    touched_paths,
)

PROVIDER_KINDS = frozenset({"definition", "declaration", "macro"})
USE_KINDS = frozenset({"call", "other"})


@dataclass
class Conversion:
    """A call of an old symbol that a patch replaces by a call of a new one."""

    patch: int | None
    file: str
    line: int
    function: str | None
    old: str
    new: str

    def to_dict(self) -> dict[str, object]:
        return {
            "patch": self.patch,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "old": self.old,
            "new": self.new,
        }


@dataclass
class Step:
    """The whole tree's references to the tracked symbols after patch `index` (0 = base)."""

    index: int
    patch: Patch | None
    apply: ApplyResult | None
    refs: list[Reference]

    def refs_of(self, symbol: str) -> list[Reference]:
        return [r for r in self.refs if r.symbol == symbol]


@dataclass
class Analysis:
    """Everything the checks need, computed once."""

    ingested: Ingested
    tree: Tree
    migration: Migration
    hunkmaps: list[HunkMap]
    conversions: list[Conversion]
    steps: list[Step]  # steps[0] is the base, steps[k] follows the k-th patch in order
    tracked: list[str]
    grep_hits: dict[str, list[GrepHit]] = field(default_factory=dict)  # per old symbol, at base
    replayed: Replay | None = None

    @property
    def series(self) -> Series:
        return self.ingested.series

    @property
    def series_only(self) -> bool:
        return self.tree.series_only

    def base_note(self) -> str | None:
        """Say so when the series names a base commit that the tree is not at."""
        wanted = self.series.base_commit
        have = self.tree.base
        if not wanted or not have or not self.tree.lacks_commit(wanted):
            return None
        return (
            f"the series says base-commit: {wanted}, which this repository does not have; "
            f"it was replayed on {have[:12]} instead (use --base to choose)"
        )

    def tree_dict(self) -> dict[str, str | None]:
        """The tree the reports speak of (their JSON "tree")."""
        return {"kind": self.tree.kind, "path": self.tree.path, "base": self.tree.base}

    def step_of(self, patch_number: int | None) -> Step | None:
        """The step that follows the patch numbered `patch_number`."""
        for st in self.steps[1:]:
            if st.patch is not None and st.patch.number == patch_number:
                return st
        return None

    def before_first_removal(self) -> tuple[int, list[Reference]]:
        """The step just before the first removal of an old symbol, and the references to
        old symbols there that are still there once the removal has landed.

        Taken before the removal, where the code still compiles and their line numbers
        match `read_at` of that step; limited to files that still reference the old symbol
        after the removal (what rewrite must convert).
        """
        removal_steps = [
            st.index
            for sym in self.migration.old
            if (st := self.step_of(self.migration.removed_in.get(sym))) is not None
        ]
        at = min(removal_steps) if removal_steps else len(self.steps)
        before = self.steps[at - 1]
        old = set(self.migration.old)
        after = self.steps[at] if at < len(self.steps) else before
        still = {(r.file, r.symbol) for r in after.refs if r.symbol in old}
        refs = [r for r in before.refs if r.symbol in old and (r.file, r.symbol) in still]
        return at - 1, refs

    def read_at(self, index: int) -> Callable[[str], str | None]:
        """A reader for file contents at step `index` (tree modes only)."""
        if self.replayed is None or index == 0:
            return self.tree.read
        step = self.replayed.steps[index - 1]
        return step.read


class _RefCache:
    """find_references per (path, content): a file's unchanged text is parsed only once,
    and C files share their parse with the hunk mapping (`parse`)."""

    def __init__(
        self, symbols: list[str], parse: Callable[[str, str | None], CSource | None] | None = None
    ) -> None:
        self.symbols = symbols
        self._parse = parse
        self._cache: dict[tuple[str, int, int], list[Reference]] = {}

    def refs(self, path: str, text: str | None) -> list[Reference]:
        if not text:
            return []
        key = (path, id(text), hash(text))
        hit = self._cache.get(key)
        if hit is None:
            present = _present(self.symbols, text)
            if not present:
                self._cache[key] = []
                return []
            source = self._parse(path, text) if self._parse and is_c_path(path) else None
            hit = find_references(path, text, present, source=source)
            self._cache[key] = hit
        return hit


def _present(symbols: list[str], text: str) -> list[str]:
    """The symbols that occur in `text` at all (a substring test is far cheaper than the
    whole-word regex, and most files name only a few of the tracked symbols)."""
    return [s for s in symbols if s in text]


#: Below this many files, classifying in this process beats starting workers.
_PARALLEL_FILES = 64


def _refs_of_files(files: list[tuple[str, str]], symbols: list[str]) -> list[Reference]:
    """References in files the series does not touch (each parsed once, then dropped)."""
    out: list[Reference] = []
    for path, text in files:
        if present := _present(symbols, text):
            out.extend(find_references(path, text, present))
    return out


def _classify_untouched(files: list[tuple[str, str]], symbols: list[str]) -> list[Reference]:
    """References in the untouched files that grep named, in parallel when there are many.

    A tree-wide API has thousands of callers: parsing each file is the cost (about 6 ms
    for a kernel file), and it parallelises cleanly across processes, one per core.
    """
    workers = min(os.cpu_count() or 1, len(files) // _PARALLEL_FILES)
    if workers < 2:
        return _refs_of_files(files, symbols)
    chunks = [files[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_refs_of_files, chunks, [symbols] * workers))
    return sorted((r for part in parts for r in part), key=lambda r: (r.file, r.line))


def _tracked_symbols(
    patches: list[Patch], old: list[str] | None, new: list[str] | None
) -> list[str]:
    """Symbols whose existence the series changes: those a patch removes without adding back
    in the same patch, or adds without removing (a changed signature, defined on both
    sides, stays defined: it is not tracked, and each extra symbol costs grep time)."""
    names: set[str] = set(old or []) | set(new or [])
    for p in patches:
        removed, added = collect_defined(p)
        names |= removed ^ added
    return sorted(names)


def _pairing(
    old_call: CallSite, new_call: CallSite, pool: list[CallSite]
) -> tuple[bool, float, int]:
    """How well an old call pairs with a new one: same function, alike names, then order."""
    return (
        old_call.function == new_call.function,
        SequenceMatcher(None, old_call.symbol, new_call.symbol).ratio(),
        -pool.index(old_call),
    )


def _conversions(hunkmaps: list[HunkMap], migration: Migration) -> list[Conversion]:
    """Pair, inside each hunk and function, removed old calls with added new calls."""
    old, new = set(migration.old), set(migration.new)
    out: list[Conversion] = []
    for hm in hunkmaps:
        removed = [c for c in hm.removed_calls if c.symbol in old]
        for added in (c for c in hm.added_calls if c.symbol in new):
            if not removed:
                break
            # Same function first (the hint may name it on one side only), then the old
            # name most like the new one (foo_lock -> bar_lock, not bar_unlock), then order.
            match = max(removed, key=lambda c: _pairing(c, added, removed))
            removed.remove(match)
            out.append(
                Conversion(
                    patch=hm.patch,
                    file=hm.file,
                    line=added.line,
                    function=added.function or match.function,
                    old=match.symbol,
                    new=added.symbol,
                )
            )
    return out


def _shifted(h: Hunk, offset: int) -> Hunk:
    """The hunk as it landed: `offset` lines away from where its header says."""
    if not offset:
        return h
    return replace(
        h,
        source_start=h.source_start + offset,
        target_start=h.target_start + offset,
        lines=[
            replace(
                ln,
                source_line=None if ln.source_line is None else ln.source_line + offset,
                target_line=None if ln.target_line is None else ln.target_line + offset,
            )
            for ln in h.lines
        ],
    )


def _window(src: CSource | None, start: int, length: int) -> CSource | None:
    """A view of the lines a hunk covers (whole-file questions cost too much on big files)."""
    if src is None:
        return None
    return src.view(start, start + max(length, 1) - 1)


def _map_with_tree(
    patches: list[Patch],
    rep: Replay,
    symbols: list[str],
    parse: Callable[[str, str | None], CSource | None],
) -> list[HunkMap]:
    """Map hunks on the real files before and after each patch, where the hunks landed."""
    maps: list[HunkMap] = []
    for k, p in enumerate(patches):
        before = rep.steps[k - 1].read if k else rep.base.get
        step = rep.steps[k]
        landed = {(h.file, h.hunk_index): h for h in step.apply.hunks}
        for fd in p.files:
            if not is_c_path(fd.path):
                continue
            src_path = fd.source_path or fd.path
            pre = None if fd.is_new else parse(src_path, before(src_path))
            post = None if fd.is_deleted else parse(fd.path, step.read(fd.path))
            for i, h in enumerate(fd.hunks):
                res = landed.get((fd.path, i))
                if res is None or res.status in ("failed", "unknown"):
                    # It did not land: the file says nothing about it; read the hunk alone.
                    maps.append(map_hunk(p.number, fd.path, i, h, symbols))
                    continue
                landed_hunk = _shifted(h, res.offset)
                maps.append(
                    map_hunk(
                        p.number,
                        fd.path,
                        i,
                        landed_hunk,
                        symbols,
                        pre=_window(pre, landed_hunk.source_start, landed_hunk.source_length),
                        post=_window(post, landed_hunk.target_start, landed_hunk.target_length),
                    )
                )
    return maps


def _sparse_steps(
    patches: list[Patch], hunkmaps: list[HunkMap], cache: _RefCache
) -> list[list[Reference]]:
    """Series-only references per step, from the lines the hunks show."""
    funcs: dict[tuple[int | None, str, int], str | None] = {}
    for hm in hunkmaps:
        funcs[(hm.patch, hm.file, hm.hunk_index)] = hm.functions[0] if hm.functions else None

    # The function of every hunk, once (a hint costs a tree-sitter parse).
    hunk_functions: dict[int, list[str | None]] = {
        id(fd): [
            funcs.get((p.number, fd.path, i)) or function_name_from_hint(h.section)
            for i, h in enumerate(fd.hunks)
        ]
        for p in patches
        for fd in p.files
    }

    # First learn every base line the series shows, then replay the hunks over them.
    images: dict[str, SparseFile | None] = {}
    for p in patches:
        for fd in p.files:
            src = fd.source_path or fd.path
            if src not in images and not fd.is_new:
                images[src] = learn_base(None, fd, hunk_functions[id(fd)])
    out: list[list[Reference]] = [_sparse_refs(images, cache)]
    for p in patches:
        for fd in p.files:
            hf = hunk_functions[id(fd)]
            src = fd.source_path or fd.path
            before = images.get(src)
            if before is not None:
                before = learn_base(before, fd, hf)
            result = apply_sparse(before, fd, hf)
            if fd.is_rename and src != fd.path:
                images[src] = None
            images[fd.path] = result
        out.append(_sparse_refs(images, cache))
    return out


def _sparse_refs(images: dict[str, SparseFile | None], cache: _RefCache) -> list[Reference]:
    refs: list[Reference] = []
    for path, image in images.items():
        if image is None:
            continue
        for first, texts in image.runs():
            fragment = "\n".join(texts) + "\n"
            for r in cache.refs(path, fragment):
                line = first + r.line - 1
                refs.append(
                    Reference(
                        file=path,
                        line=line,
                        symbol=r.symbol,
                        kind=r.kind,
                        function=r.function or image.functions.get(line),
                        text=r.text,
                    )
                )
    return refs


def analyse(
    ingested: Ingested,
    tree: Tree,
    old: list[str] | None = None,
    new: list[str] | None = None,
) -> Analysis:
    """Replay the series over the tree and collect references to its symbols at every step."""
    series = ingested.series
    patches = series.patches
    tracked = _tracked_symbols(patches, old, new)
    parsed: dict[tuple[str, int, int], CSource] = {}
    latest: dict[str, CSource] = {}

    def parse(path: str, text: str | None) -> CSource | None:
        if text is None:
            return None
        key = (path, id(text), hash(text))
        src = parsed.get(key)
        if src is None:
            # Versions of one file differ by a few hunks: reparse from the last one.
            prev = latest.get(path)
            src = prev.reparsed(text) if prev is not None else CSource.from_text(text)
            parsed[key] = latest[path] = src
        return src

    cache = _RefCache(tracked, parse)

    if tree.series_only:
        hunkmaps = [m for p in patches for m in map_patch_without_tree(p, tracked)]
        migration = infer_migration(patches, hunkmaps, old, new)
        per_step = _sparse_steps(patches, hunkmaps, cache)
        steps = [Step(0, None, None, per_step[0])]
        for k, p in enumerate(patches, start=1):
            steps.append(Step(k, p, ApplyResult(p.number, "unknown"), per_step[k]))
        return Analysis(
            ingested, tree, migration, hunkmaps, _conversions(hunkmaps, migration), steps, tracked
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        # The whole-tree grep is the one expensive call: start it first, work meanwhile.
        grep_future = pool.submit(tree.grep_words, tracked) if tracked else None
        rep = replay(patches, tree)
        hunkmaps = _map_with_tree(patches, rep, tracked, parse)
        migration = infer_migration(patches, hunkmaps, old, new)
        touched = set(touched_paths(patches))
        # The series' own files need no grep: classify them while it runs.
        for path in touched:
            cache.refs(path, rep.base.get(path))
            for st in rep.steps:
                cache.refs(path, st.read(path))
        hits = grep_future.result() if grep_future else []

    by_file: dict[str, list[GrepHit]] = defaultdict(list)
    for h in hits:
        by_file[h.path].append(h)
    untouched = [path for path in by_file if path not in touched]
    contents = tree.read_many(untouched) if untouched else {}
    fixed = _classify_untouched(
        [(path, text) for path in untouched if (text := contents.get(path))], tracked
    )

    def refs_at(read: Callable[[str], str | None]) -> list[Reference]:
        out = list(fixed)
        for path in sorted(touched):
            out.extend(cache.refs(path, read(path)))
        return out

    steps = [Step(0, None, None, refs_at(rep.base.get))]
    for k, (p, st) in enumerate(zip(patches, rep.steps, strict=True), start=1):
        steps.append(Step(k, p, st.apply, refs_at(st.read)))
    old_set = set(migration.old)
    grep_hits = {s: [h for h in hits if has_word(s, h.text)] for s in old_set}
    return Analysis(
        ingested,
        tree,
        migration,
        hunkmaps,
        _conversions(hunkmaps, migration),
        steps,
        tracked,
        grep_hits,
        rep,
    )


def providers(refs: Iterable[Reference], symbol: str) -> list[Reference]:
    """Definitions, declarations and macros of `symbol` among `refs`."""
    return [r for r in refs if r.symbol == symbol and r.kind in PROVIDER_KINDS]


def code_uses(refs: Iterable[Reference], symbol: str) -> list[Reference]:
    """Code uses (calls and other code references) of `symbol` among `refs`."""
    return [r for r in refs if r.symbol == symbol and r.kind in USE_KINDS]

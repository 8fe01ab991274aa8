"""The shared core of verify, bisect-report and rewrite: the series over the tree, step by step.

Cost model (the kernel is 86k files): one `git grep -w` for every symbol whose existence
the series changes, run in a thread while the series is replayed in memory and its
touched files are parsed; after that only the files the grep names are read and parsed,
and each distinct file content is parsed once.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
import posixpath
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from series_tool.model import (
    CSource,
    DefinitionSite,
    PrototypeChange,
    Scope,
    SideCache,
    build_scope,
    collect_defined,
    definition_sites,
    find_references,
    function_name_from_hint,
    has_word,
    header_symbol,
    infer_migration,
    is_c_path,
    is_global_header,
    is_header,
    map_patch_without_tree,
    parse_limit,
    prototype_changes,
    shared_variables,
    windowed_references,
    windowed_roles,
    word_pattern,
)
from series_tool.models import (
    ApplyResult,
    CallSite,
    Finding,
    Hunk,
    HunkMap,
    Ingested,
    Migration,
    Patch,
    Reference,
    Series,
)
from series_tool.replay import (
    BlobReader,
    GrepHit,
    Replay,
    SparseFile,
    Tree,
    apply_sparse,
    blob_reader,
    check_worktree_reads,
    learn_base,
    replay,
    touched_paths,
)

from .chains import _Chain, _ChainResult, _FileJob, _follow_chains
from .removal import DefinitionMemo, left_defined

PROVIDER_KINDS = frozenset({"definition", "declaration", "macro"})
#: Code that needs the symbol to exist (every code kind but its own providers).
USE_KINDS = frozenset(
    {"call", "address", "macro-use", "constant", "member", "type", "include", "export", "other"}
)
#: Uses a conversion replaces (a dropped EXPORT_SYMBOL goes with the definition).
CONVERTIBLE_KINDS = frozenset(
    {"call", "address", "macro-use", "constant", "member", "type", "include", "other"}
)
#: Priority of what a conversion switches to, among the names its '+' lines add (an
#: #include is replaced by an #include only).
_NEW_PRIORITY = {
    "call": 1,
    "member": 2,
    "macro-use": 3,
    "constant": 3,
    "other": 3,
    "address": 4,
    "type": 5,
}

Roles = dict[str, frozenset[str]]


@dataclass
class Conversion:
    """A use of an old symbol that a patch replaces: by `new` (a symbol the same hunk
    adds in the same function or initializer), or when no name can be told, by the line
    `replacement` (`new` is then None)."""

    patch: int | None
    file: str
    line: int
    function: str | None  # or, outside functions, the enclosing declaration
    old: str
    new: str | None
    replacement: str | None = None
    kind: str = "call"  # the kind of the old use it replaces
    #: where the old use was dropped, when the replacement lands elsewhere (a call dropped
    #: in a probe function, a member set in the config initializer instead)
    replaces_in: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "patch": self.patch,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "old": self.old,
            "new": self.new,
            "replacement": self.replacement,
            "kind": self.kind,
            "replaces_in": self.replaces_in,
        }


class _SharedRefs:
    """What every step's references are made of, indexed once for all the steps: the
    untouched files' references by symbol, and each touched file's versions with, per
    symbol, the touched paths whose versions ever name it (or provide it). A question
    about one symbol at one step then visits only the files that can answer it, not
    every file the series touches (a 5,000-patch series touches thousands)."""

    def __init__(
        self,
        fixed: list[Reference],
        touched: dict[str, tuple[list[int], list[list[Reference]]]],
    ) -> None:
        self.fixed_all = fixed
        self.fixed: dict[str, list[Reference]] = defaultdict(list)
        self.fixed_providers: dict[str, list[Reference]] = defaultdict(list)
        for r in fixed:
            self.fixed[r.symbol].append(r)
            if r.kind in PROVIDER_KINDS:
                self.fixed_providers[r.symbol].append(r)
        self.touched = touched
        self.paths = sorted(touched)
        naming: dict[str, set[str]] = defaultdict(set)
        providing: dict[str, set[str]] = defaultdict(set)
        for path, (_, versions) in touched.items():
            for refs in versions:
                for r in refs:
                    naming[r.symbol].add(path)
                    if r.kind in PROVIDER_KINDS:
                        providing[r.symbol].add(path)
        self.naming = {s: sorted(ps) for s, ps in naming.items()}
        self.providing = {s: sorted(ps) for s, ps in providing.items()}

    def version(self, path: str, index: int) -> list[Reference] | None:
        """The references of the touched `path` as of step `index` (None: not yet)."""
        steps, versions = self.touched[path]
        i = bisect.bisect_right(steps, index) - 1
        return versions[i] if i >= 0 else None


class StepRefs:
    """The references of one step, answered from shared per-file histories.

    A long series changes a few files per patch: each step keeps only its per-symbol
    kind counts (the questions asked of every step: is a symbol used, is it provided)
    and materialises its references on demand from the untouched files' references and
    the touched files' versions as of that step.
    """

    def __init__(self, shared: _SharedRefs, index: int, counts: dict[tuple[str, str], int]) -> None:
        self._shared = shared
        self._index = index
        self.counts = counts

    def _versions(self, paths: Iterable[str]) -> Iterator[list[Reference]]:
        for path in paths:
            refs = self._shared.version(path, self._index)
            if refs is not None:
                yield refs

    def all(self) -> list[Reference]:
        out = list(self._shared.fixed_all)
        for refs in self._versions(self._shared.paths):
            out.extend(refs)
        return out

    def of(self, symbol: str) -> list[Reference]:
        if not any(n for (sym, _), n in self.counts.items() if sym == symbol):
            return []
        out = list(self._shared.fixed.get(symbol, []))
        for refs in self._versions(self._shared.naming.get(symbol, [])):
            out.extend(r for r in refs if r.symbol == symbol)
        return out

    def providers(self, symbol: str) -> list[Reference]:
        """The definitions, declarations and macros of `symbol` at this step."""
        out = list(self._shared.fixed_providers.get(symbol, []))
        for refs in self._versions(self._shared.providing.get(symbol, [])):
            out.extend(r for r in refs if r.symbol == symbol and r.kind in PROVIDER_KINDS)
        return out

    def touched(self) -> list[Reference]:
        """The references in the files the series touches, as of this step; those in
        the other files are the same at every step (the base step's `all` has them)."""
        out: list[Reference] = []
        for refs in self._versions(self._shared.paths):
            out.extend(refs)
        return out


def _counts(refs: Iterable[Reference]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for r in refs:
        out[(r.symbol, r.kind)] += 1
    return out


class ListRefs(StepRefs):
    """A step whose references were computed as one list (series-only mode)."""

    def __init__(self, refs: list[Reference]) -> None:
        super().__init__(_SharedRefs([], {}), 0, dict(_counts(refs)))
        self._refs = refs

    def all(self) -> list[Reference]:
        return list(self._refs)

    def of(self, symbol: str) -> list[Reference]:
        return [r for r in self._refs if r.symbol == symbol]

    def providers(self, symbol: str) -> list[Reference]:
        return providers(self._refs, symbol)

    def touched(self) -> list[Reference]:
        return list(self._refs)  # one list per step: any of them may differ between steps


@dataclass
class Step:
    """The whole tree's references to the tracked symbols after patch `index` (0 = base)."""

    index: int
    patch: Patch | None
    apply: ApplyResult | None
    view: StepRefs = field(repr=False)

    @property
    def refs(self) -> list[Reference]:
        """Every reference at this step (built on demand: prefer `refs_of` and the counts)."""
        return self.view.all()

    def refs_of(self, symbol: str) -> list[Reference]:
        """The references to `symbol` at this step."""
        return self.view.of(symbol)

    def touched_refs(self) -> list[Reference]:
        """The references that may differ from the base step's: those in the files the
        series touches (every reference when the step's references are one list)."""
        return self.view.touched()

    def count(self, symbol: str, kinds: Collection[str]) -> int:
        """How many references to `symbol` of these kinds there are at this step."""
        return sum(self.view.counts.get((symbol, k), 0) for k in kinds)

    def providers_of(self, symbol: str) -> list[Reference]:
        """The definitions, declarations and macros of `symbol` at this step (the files
        that can hold one only: prefer this to filtering `refs_of`)."""
        return self.view.providers(symbol)

    def uses(self, symbol: str) -> list[Reference]:
        """Code uses of `symbol` at this step (empty at once when there are none)."""
        return code_uses(self.refs_of(symbol), symbol) if self.count(symbol, USE_KINDS) else []

    def provided(self, symbol: str) -> bool:
        """Whether something defines, declares or #defines `symbol` at this step."""
        return self.count(symbol, PROVIDER_KINDS) > 0


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
    #: what each tracked symbol is where the series defines it (model.cparse.ROLES)
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    #: the signature check's findings, once computed (checks.signatures)
    signature_findings: list[Finding] | None = None
    #: the parse cache of the analysis: (path, content) -> CSource, each content once;
    #: its `held` gives a parse it holds without parsing
    parse: _ParseCache | None = field(default=None, repr=False)
    #: every base `git grep -w` line of the tracked symbols, before scoping (None in
    #: series-only mode): a later question about tracked names needs no other grep
    tree_hits: list[GrepHit] | None = field(default=None, repr=False)
    #: where each name the series defines can be used (model.scope): references out of
    #: it are another entity of the same spelling and never count
    scope: Scope = field(default_factory=Scope)
    #: per checked symbol, how many base `git grep -w` lines were out of its scope
    out_of_scope_lines: dict[str, int] = field(default_factory=dict)
    #: Files over the parse limits (path -> why): their references were found by text only.
    unparsed: dict[str, str] = field(default_factory=dict)
    #: functions whose prototype a patch changes in place (same name, other type)
    prototype_changes: list[PrototypeChange] = field(default_factory=list)
    #: the calls a patch fits to a prototype it changes in place (old = new = the changed
    #: function): kept apart from `conversions`, which are the migration's
    fitted: list[Conversion] = field(default_factory=list)
    #: per step index, members the series uses that the struct lacks (checks.members)
    missing_members: dict[int, list[tuple[str, Reference]]] | None = None
    #: patch number -> its step, built on the first `step_of` (asked once per conversion)
    _by_number: dict[int | None, Step] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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

    def dirty_note(self) -> str | None:
        """Say so when the checkout has uncommitted changes: results are for the commit."""
        changed = self.tree.uncommitted()
        if not changed or not self.tree.base:
            return None
        example = ", ".join(changed[:3]) + (", ..." if len(changed) > 3 else "")
        return (
            f"the worktree has uncommitted changes to {len(changed)} tracked "
            f"file{'s' if len(changed) != 1 else ''} ({example}); results are for commit "
            f"{self.tree.base[:12]}, not for those changes (commit them, or use --base)"
        )

    def tree_dict(self) -> dict[str, str | bool | None]:
        """The tree the reports speak of (their JSON "tree"); `dirty`: the checkout has
        uncommitted changes, which the results do not include."""
        return {
            "kind": self.tree.kind,
            "path": self.tree.path,
            "base": self.tree.base,
            "dirty": bool(self.tree.uncommitted()),
        }

    def touched(self) -> list[str]:
        """The paths the series' patches touch, in order (the replay's, when there is
        one: computed once)."""
        rep = self.replayed
        return list(rep.touched) if rep is not None else touched_paths(self.series.patches)

    def step_of(self, patch_number: int | None) -> Step | None:
        """The step that follows the patch numbered `patch_number`."""
        if not self._by_number:
            for st in self.steps[1:]:
                if st.patch is not None:
                    self._by_number.setdefault(st.patch.number, st)
        return self._by_number.get(patch_number)

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
        self,
        symbols: list[str],
        parse: Callable[[str, str | None], CSource | None] | None = None,
        roles: Roles | None = None,
    ) -> None:
        self.symbols = symbols
        self._parse = parse
        self.roles = roles or {}
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
            hit = find_references(path, text, present, source=source, roles=self.roles)
            self._cache[key] = hit
        return hit


#: Parsed file versions kept for the checks' questions after the analysis: a tree costs
#: about 31 bytes per byte of C, so a 1,000-file series must not keep all of its files'.
_PARSE_CACHE = 48


class _ParseCache:
    """(path, content) -> CSource for the checks (signatures, members), each content
    parsed once while it is among the most recently asked; a new version of a file is
    reparsed incrementally from the last parsed version of it still held. The checks ask
    in patch order, so a small cache serves a long series with bounded memory."""

    def __init__(self, unparsed: dict[str, str], size: int = _PARSE_CACHE) -> None:
        self._unparsed = unparsed
        self._size = size
        self._parsed: OrderedDict[tuple[str, int, int], CSource] = OrderedDict()
        self._latest: OrderedDict[str, CSource] = OrderedDict()

    def __call__(self, path: str, text: str | None) -> CSource | None:
        if text is None:
            return None
        key = (path, id(text), hash(text))
        src = self._parsed.get(key)
        if src is not None:
            self._parsed.move_to_end(key)
            return src
        # Versions of one file differ by a few hunks: reparse from the last one.
        prev = self._latest.get(path)
        src = prev.reparsed(text) if prev is not None else CSource.from_text(text)
        self.put(path, text, src)
        return src

    def held(self, path: str, text: str) -> CSource | None:
        """The parse of `text` if one is held (nothing is parsed)."""
        return self._parsed.get((path, id(text), hash(text)))

    def put(self, path: str, text: str, src: CSource) -> None:
        """Hold `src` as the parse of `text` (parsed elsewhere, e.g. while the file's
        versions were followed)."""
        key = (path, id(text), hash(text))
        self._parsed[key] = self._latest[path] = src
        self._parsed.move_to_end(key)
        self._latest.move_to_end(path)
        for held in (self._parsed, self._latest):
            while len(held) > self._size:
                held.popitem(last=False)
        if src.unparsed is not None:
            self._unparsed.setdefault(path, src.unparsed)


def _present(symbols: list[str], text: str) -> list[str]:
    """The symbols that occur in `text` at all (a substring test is far cheaper than the
    whole-word regex, and most files name only a few of the tracked symbols)."""
    return [s for s in symbols if s in text]


#: Below this many files, classifying in this process beats starting workers.
_PARALLEL_FILES = 64


#: Untouched files to classify: (path, the tracked symbols grep found in it as words).
Named = list[tuple[str, list[str]]]


def _refs_of_files(
    files: Iterable[tuple[str, str]], present: Mapping[str, list[str]], roles: Roles | None = None
) -> list[Reference]:
    """References in files the series does not touch: only the items around the hits are
    parsed (a caller of a tree-wide API is one function of a big file), then dropped."""
    out: list[Reference] = []
    for path, text in files:
        out.extend(windowed_references(path, text, present[path], roles=roles))
    return out


def _refs_of_blobs(reader: BlobReader, named: Named, roles: Roles | None = None) -> list[Reference]:
    """The same for files a worker reads itself (no texts shipped between processes),
    from their bytes as read (never decoded: the windows are cut from the bytes)."""
    present = dict(named)
    out: list[Reference] = []
    for path, data in reader.read(list(present)):
        out.extend(windowed_references(path, data, present[path], roles=roles))
    return out


#: Files read and classified per batch: memory holds a few batches, not every caller.
_BATCH_FILES = 256


def _classify_untouched(tree: Tree, named: Named, roles: Roles | None = None) -> list[Reference]:
    """References in the untouched files that grep named, in parallel when there are many.

    `named` gives each file with the tracked symbols grep found in it as whole words
    (read from its grep lines: a worker never scans a file's bytes for which symbols it
    holds). A tree-wide API has thousands of callers (kzalloc: 7,000 files, 250 MB): they
    are read in batches and each batch is classified in a worker process (one per core),
    so neither the texts nor their trees are ever all in memory at once. A git tree's
    files are read by the workers themselves (`BlobReader`): the main process only hands
    out paths.
    """
    named = [(p, symbols) for p, symbols in named if symbols]  # no grep word: nothing to read
    batches = [named[i : i + _BATCH_FILES] for i in range(0, len(named), _BATCH_FILES)]
    present = dict(named)

    def files(batch: Named) -> list[tuple[str, str]]:
        return [(p, text) for p, text in tree.read_many([p for p, _ in batch]).items() if text]

    reader = blob_reader(tree)
    workers = min(os.cpu_count() or 1, len(named) // _PARALLEL_FILES)
    # A daemonic process (a series checked by `scan`) may not start processes of its own.
    if workers < 2 or multiprocessing.current_process().daemon:
        if reader is not None:
            check_worktree_reads(tree, list(present))
            return sorted(
                (r for batch in batches for r in _refs_of_blobs(reader, batch, roles)),
                key=lambda r: (r.file, r.line),
            )
        return [r for batch in batches for r in _refs_of_files(files(batch), present, roles)]
    parts: list[list[Reference]] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[list[Reference]]] = deque()
        for k, batch in enumerate(batches):
            if len(pending) >= 2 * workers:  # bounded: a few batches in flight
                parts.append(pending.popleft().result())
            if reader is not None:
                pending.append(pool.submit(_refs_of_blobs, reader, batch, roles))
            else:
                pending.append(pool.submit(_refs_of_files, files(batch), dict(batch), roles))
            if k == 0 and reader is not None:
                # While the workers start: one check, for every file they will read from
                # the worktree, that the object store holds it (a broken store is an error).
                check_worktree_reads(tree, list(present))
        parts.extend(f.result() for f in pending)
    return sorted((r for part in parts for r in part), key=lambda r: (r.file, r.line))


def _named_files(paths: list[str], hits: list[GrepHit], symbols: list[str]) -> Named:
    """Each of `paths` with the symbols its grep lines name as whole words (all of its
    lines, scoped out or not: what is out of scope is dropped after classification)."""
    wanted = set(paths)
    words = word_pattern(symbols)
    found: dict[str, set[str]] = {p: set() for p in paths}
    for h in hits:
        if h.path in wanted:
            found[h.path].update(words.findall(h.text))
    return [(p, sorted(found[p])) for p in paths]


def _tracked_symbols(
    patches: list[Patch], old: list[str] | None, new: list[str] | None, sides: SideCache
) -> tuple[list[str], Roles, list[PrototypeChange]]:
    """Symbols whose existence or type the series changes: those a patch removes without
    adding back in the same patch, adds without removing, or defines on both sides with
    another prototype (a function whose type changes in place: every use must fit the new
    type). A name merely edited on both sides with the same type is not tracked (each
    extra symbol costs grep time). With what each one is where the series defines it
    (cparse.ROLES), and the prototype changes."""
    names: set[str] = set(old or []) | set(new or [])
    roles: dict[str, set[str]] = {}
    changes: list[PrototypeChange] = []
    for p in patches:
        removed, added = collect_defined(p, roles, sides)
        names |= removed ^ added
        if removed & added:  # parse the prototypes only when a name is on both sides
            changes.extend(prototype_changes(p, sides))
    names |= {c.name for c in changes}
    return sorted(names), {n: frozenset(roles.get(n, ())) for n in names}, changes


def _header_paths(patches: list[Patch]) -> dict[str, list[tuple[int, bool]]]:
    """Include name of every header the series deletes or creates -> (patch position,
    exists afterwards) for each such event, in order."""
    out: dict[str, list[tuple[int, bool]]] = {}
    for i, p in enumerate(patches):
        for fd in p.files:
            if is_header(fd.path) and (fd.is_deleted or fd.is_new) and not fd.is_binary:
                out.setdefault(header_symbol(fd.path), []).append((i, fd.is_new))
    return out


def _header_files(patches: list[Patch]) -> dict[str, set[str]]:
    """Include name -> the paths of the headers the series deletes or creates under it."""
    out: dict[str, set[str]] = {}
    for p in patches:
        for fd in p.files:
            if is_header(fd.path) and (fd.is_deleted or fd.is_new):
                out.setdefault(header_symbol(fd.path), set()).add(fd.path)
    return out


def _include_target(text: str) -> tuple[str, bool] | None:
    """(path, quoted) of an `#include "x"` / `#include <x>` line."""
    body = text.strip()
    if not body.startswith("#"):
        return None
    rest = body[1:].lstrip()
    if not rest.startswith("include"):
        return None
    rest = rest[len("include") :].strip()
    for open_, close, quoted in (('"', '"', True), ("<", ">", False)):
        if rest.startswith(open_) and close in rest[1:]:
            return rest[1 : rest.index(close, 1)], quoted
    return None


def _is_this_header(ref: Reference, paths: set[str]) -> bool:
    """Whether an #include line names one of `paths`: a quoted name is looked up next to
    the including file first, as the preprocessor does; a name relative to an include/
    directory (`linux/foo.h`) names that header from anywhere."""
    target = _include_target(ref.text)
    if target is None:
        return True  # not an #include line that can be read: keep it, it is code
    name, quoted = target
    if quoted:
        here = posixpath.normpath(posixpath.join(posixpath.dirname(ref.file), name))
        if here in paths:
            return True
    return any(
        name == p or ("include" in p.split("/")[:-1] and name == header_symbol(p)) for p in paths
    )


def _header_refs(
    refs: list[Reference], files: dict[str, set[str]], exists: dict[str, bool]
) -> list[Reference]:
    """`refs` with #include lines of another header of the same name dropped, and a
    'definition' of each tracked header that exists at this step (its file, line 1)."""
    out = [
        r
        for r in refs
        if r.symbol not in files or r.kind != "include" or _is_this_header(r, files[r.symbol])
    ]
    for sym, there in exists.items():
        if there:
            for path in sorted(files.get(sym, ())):
                out.append(Reference(path, 1, sym, "definition", None, f"(the file {path})"))
    return out


def is_file_itself(r: Reference) -> bool:
    """The reference `_header_refs` adds for a tracked header that exists (its file)."""
    return r.kind == "definition" and r.line == 1 and r.text == f"(the file {r.file})"


def _header_states(
    events: dict[str, list[tuple[int, bool]]], n_patches: int
) -> list[dict[str, bool]]:
    """Whether each tracked header exists, at the base and after every patch."""
    states: list[dict[str, bool]] = []
    current = {sym: not ev[0][1] for sym, ev in events.items()}  # deleted first: it existed
    states.append(dict(current))
    for i in range(n_patches):
        for sym, ev in events.items():
            for pos, there in ev:
                if pos == i:
                    current[sym] = there
        states.append(dict(current))
    return states


def _pairing(
    old_call: CallSite,
    new_call: CallSite,
    pool: list[CallSite],
    alike: dict[tuple[str, str], float],
) -> tuple[bool, float, int]:
    """How well an old call pairs with a new one: same function, alike names, then order.
    `alike`: how alike two names are, each pair of names measured once."""
    names = (old_call.symbol, new_call.symbol)
    ratio = alike.get(names)
    if ratio is None:
        ratio = alike[names] = SequenceMatcher(None, *names).ratio()
    return (old_call.function == new_call.function, ratio, -pool.index(old_call))


def _conversions(hunkmaps: list[HunkMap], migration: Migration) -> list[Conversion]:
    """Every use of an old symbol a hunk drops, paired with what the hunk puts instead.

    First calls of old symbols with calls of new ones, inside each hunk and function (the
    names most alike pair); then every other dropped use of an old symbol with the
    name the same hunk adds in the same function or initializer (see `_replacement`).
    """
    old, new = set(migration.old), set(migration.new)
    out: list[Conversion] = []
    alike: dict[tuple[str, str], float] = {}
    by_file: dict[tuple[int | None, str], list[HunkMap]] = defaultdict(list)
    for hm in hunkmaps:
        by_file[(hm.patch, hm.file)].append(hm)
    for hm in hunkmaps:
        removed = [c for c in hm.removed_calls if c.symbol in old]
        paired: set[tuple[str, int]] = set()
        for added in (c for c in hm.added_calls if c.symbol in new):
            if not removed:
                break
            # Same function first (the hint may name it on one side only), then the old
            # name most like the new one (foo_lock -> bar_lock, not bar_unlock), then order.
            match = max(removed, key=lambda c: _pairing(c, added, removed, alike))
            removed.remove(match)
            paired.add((match.symbol, match.line))
            out.append(_paired(hm, match, added))
        # A helper deleted along with its last user is not the API being converted.
        siblings = by_file[(hm.patch, hm.file)]
        introduced = set(migration.introduced) | new
        out.extend(_other_conversions(hm, siblings, old, introduced, paired, migration.removed_in))
    return out


def _paired(hm: HunkMap, removed: CallSite, added: CallSite) -> Conversion:
    """The conversion of a dropped call `removed` into an added call `added` of one hunk:
    at the added line, in its function (else the dropped one's), the new line as written."""
    return Conversion(
        patch=hm.patch,
        file=hm.file,
        line=added.line,
        function=added.function or removed.function,
        old=removed.symbol,
        new=added.symbol,
        replacement=added.text.strip(),
    )


def _in_place_conversions(
    hunkmaps: list[HunkMap], changes: list[PrototypeChange], known: list[Conversion]
) -> list[Conversion]:
    """The calls a patch rewrites to fit a prototype the series changes in place (a
    function losing a parameter: its callers drop that argument): a dropped call of the
    changed function paired with an added call of it in the same hunk and function, the
    line changed. `old` and `new` are then the same name; `replacement` is the new line.
    A static function's change counts in its own file only (elsewhere the name is another
    function)."""
    files: dict[str, set[str | None]] = defaultdict(set)  # name -> its files (None: any)
    for ch in changes:
        files[ch.name].add(ch.file if ch.static else None)
    done = {(c.patch, c.file, c.line) for c in known}
    out: list[Conversion] = []
    for hm in hunkmaps:
        wanted = {n for n, fs in files.items() if None in fs or hm.file in fs}
        removed = [c for c in hm.removed_calls if c.symbol in wanted]
        for added in (c for c in hm.added_calls if c.symbol in wanted):
            same = [
                c
                for c in removed
                if c.symbol == added.symbol
                and (c.function == added.function or None in (c.function, added.function))
            ]
            if not same:
                continue
            match = same[0]
            removed.remove(match)
            if match.text.split() == added.text.split() or (hm.patch, hm.file, added.line) in done:
                continue  # the call's own line did not change: nothing converted
            out.append(_paired(hm, match, added))
    return out


def _other_conversions(
    hm: HunkMap,
    siblings: list[HunkMap],
    gone: set[str],
    introduced: set[str],
    paired: set[tuple[str, int]],
    removed_by: dict[str, int | None],
) -> list[Conversion]:
    """Dropped uses of removed symbols that no call pairing explained."""
    out: list[Conversion] = []
    seen: set[tuple[str, int]] = set(paired)
    # Uses inside a function this hunk deletes go with it: the removal, not a conversion.
    deleted = set(hm.defined_removed)
    for r in hm.removed_names:
        key = (r.symbol, r.line)
        if r.symbol not in gone or r.kind not in CONVERTIBLE_KINDS or key in seen:
            continue
        if r.function in deleted:
            continue
        seen.add(key)
        new, line, text, where = _replacement(hm, siblings, r, introduced)
        if new is None and text is None and hm.patch == removed_by.get(r.symbol):
            continue  # dropped with nothing instead, by the removal itself: not a conversion
        out.append(
            Conversion(
                patch=hm.patch,
                file=hm.file,
                line=line,
                function=where,
                old=r.symbol,
                new=new,
                replacement=text,
                kind=r.kind,
                replaces_in=r.function if where != r.function else None,
            )
        )
    return out


def _replacement(
    hm: HunkMap, siblings: list[HunkMap], dropped: Reference, introduced: set[str]
) -> tuple[str | None, int, str | None, str | None]:
    """(new symbol or None, line, replacing line's text) for one dropped use.

    The candidates are the names on the hunk's '+' lines in the same function or
    initializer that its '-' lines there do not have (else in the whole hunk, else in
    the patch's other hunks of the file: a call dropped in a probe function and a member
    set in the driver's config initializer are one conversion): a symbol
    the series introduces first, then a called function, a member, a macro or other
    name. Without any, the first added line there is the replacement (None: only dropped).
    Returns (new, line, the replacing line's text, its function or declaration).
    """
    same = [a for a in hm.added_names if a.function == dropped.function]
    had_same = {r.symbol for r in hm.removed_names if r.function == dropped.function}
    had_all = {r.symbol for r in hm.removed_names}
    file_added = [a for h in siblings for a in h.added_names]
    file_had = {r.symbol for h in siblings for r in h.removed_names}
    # Elsewhere in the hunk or file, only where nothing was dropped: a function that lost
    # uses of its own is converting those, not this one (a drop in an exit function is
    # not replaced by the new call the next function got).
    losing = {r.function for h in siblings for r in h.removed_names} - {dropped.function}
    elsewhere = [a for a in hm.added_names if a.function not in losing]
    file_added = [a for a in file_added if a.function not in losing]
    for added, had in ((same, had_same), (elsewhere, had_all), (file_added, file_had)):
        if not added:
            continue
        if dropped.kind == "include":
            fresh = [a for a in added if a.symbol not in had and a.kind == "include"]
        else:
            fresh = [a for a in added if a.symbol not in had and a.kind in _NEW_PRIORITY]
        if fresh:
            best = min(
                fresh,
                key=lambda a: (
                    a.symbol not in introduced,
                    _NEW_PRIORITY.get(a.kind, 0),
                    abs(a.line - dropped.line),
                ),
            )
            return best.symbol, best.line, best.text.strip(), best.function
    # No name replaces it: the use is dropped. It is named where it was (its own line
    # and function: a hunk spanning two functions must not put both functions' drops on
    # the first added line), with the line its function has instead, if any.
    instead = next((a.text.strip() for a in same), None)
    return None, dropped.line, instead, dropped.function


def _shifted(h: Hunk, offset: int, target_offset: int | None = None) -> Hunk:
    """The hunk as it landed: `offset` lines away from where its header says in the old
    file, `target_offset` (default the same) in the new one."""
    out_off = offset if target_offset is None else target_offset
    if not offset and not out_off:
        return h
    return replace(
        h,
        source_start=h.source_start + offset,
        target_start=h.target_start + out_off,
        lines=[
            replace(
                ln,
                source_line=None if ln.source_line is None else ln.source_line + offset,
                target_line=None if ln.target_line is None else ln.target_line + out_off,
            )
            for ln in h.lines
        ],
    )


def _landed_target_offset(h: Hunk, offset: int, delta: int) -> int:
    """How far the hunk's new-file lines are from where its header says, once it landed
    `offset` lines away in the old file after earlier hunks of the file changed its
    length by `delta`. Not the old-file offset: a header written after a hunk that is
    not in the patch (dropped, or another version's) counts that hunk's lines too."""
    # A hunk with no old (new) lines is numbered from the line before it (git, GNU diff).
    start = h.source_start + offset + delta
    start += (1 if h.source_length == 0 else 0) - (1 if h.target_length == 0 else 0)
    return start - h.target_start


def _mentions(chain: _Chain, names: Collection[str]) -> bool:
    """Whether any of `names` occurs (as a substring) in any text of the chain: its
    versions, the pre-images of its diffs, their hunks and hunk headers. A chain that
    never names them reads the same whatever they are."""
    texts: list[str] = [t for _, t in chain.versions if t]
    if chain.base:
        texts.append(chain.base)
    for jobs in chain.jobs.values():
        for job in jobs:
            if job.pre:
                texts.append(job.pre)
            for hunk, landed in job.hunks:
                for h in (hunk, landed):
                    if h is not None:
                        texts.append(h.section)
                        texts.extend(ln.text for ln in h.lines)
    return any(name in text for name in names for text in texts)


def _chains(patches: list[Patch], rep: Replay) -> list[_Chain]:
    """The versions of every touched path, and the C file diffs mapped onto each."""
    chains: dict[str, _Chain] = {p: _Chain(p, rep.base.get(p), []) for p in rep.touched}
    for k, p in enumerate(patches):
        step = rep.steps[k]
        before = rep.steps[k - 1].read if k else rep.base.get
        for path in dict.fromkeys(
            n for fd in p.files for n in (fd.source_path, fd.target_path, fd.path) if n
        ):
            if path in chains:
                chains[path].versions.append((k + 1, step.read(path)))
        landed = {(h.file, h.hunk_index): h for h in step.apply.hunks}
        for j, fd in enumerate(p.files):
            if not is_c_path(fd.path):
                continue
            src_path = fd.source_path or fd.path
            hunks: list[tuple[Hunk, Hunk | None]] = []
            delta = 0  # lines the file's earlier landed hunks added (minus removed)
            for i, h in enumerate(fd.hunks):
                res = landed.get((fd.path, i))
                ok = res is not None and res.status not in ("failed", "unknown")
                if not ok or res is None:
                    hunks.append((h, None))
                    continue
                out_off = _landed_target_offset(h, res.offset, delta)
                hunks.append((h, _shifted(h, res.offset, out_off)))
                delta += sum(1 for ln in h.lines if ln.kind == "+")
                delta -= sum(1 for ln in h.lines if ln.kind == "-")
            own = src_path == fd.path and not fd.is_new
            job = _FileJob(
                (k, j),
                p.number,
                fd.path,
                hunks,
                None if own or fd.is_new else before(src_path),
                own,
                fd.is_deleted,
            )
            chain = chains.get(fd.path)
            if chain is None:  # a name outside the tree: replay failed it, read hunks alone
                chain = chains.setdefault(fd.path, _Chain(fd.path, None, []))
            chain.jobs.setdefault(k + 1, []).append(job)
    return list(chains.values())


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


def _numbered(ingested: Ingested) -> Ingested:
    """The series with every patch numbered: an unnumbered patch gets its position.

    Every per-patch answer of the analysis (which patch removes a symbol, which step is
    unsafe) is keyed by patch number, where None means "no patch": a lone `[PATCH]` that
    removes an API must not read as "removed by no patch" (a false OK). b4 reads a lone
    `[PATCH]` as 1/1 too. A series mixing numbered and unnumbered patches is numbered by
    position throughout, so the numbers stay unique.
    """
    series = ingested.series
    if all(p.number is not None for p in series.patches):
        return ingested
    patches = [replace(p, number=k) for k, p in enumerate(series.patches, start=1)]
    return replace(ingested, series=replace(series, patches=patches))


def _attribute_macros(
    tree: Tree,
    patches: list[Patch],
    tracked: list[str],
    roles: dict[str, frozenset[str]],
    explicit: list[str] | None,
) -> set[str]:
    """The names of `tracked` read as variables that are macros the tree #defines in a
    global header the series leaves alone: an attribute after a variable's name (`bool x
    __ro_after_init;`) that tree-sitter takes for the declared name. Tracking it made
    every `__ro_after_init` of the tree a remaining use of the old API (17k lines)."""
    keep = set(explicit or [])  # what --old names is tracked, whatever it looks like
    candidates = [n for n in tracked if roles.get(n) == frozenset({"variable"}) and n not in keep]
    if not candidates:
        return set()
    touched = {path for p in patches for fd in p.files for path in (fd.path, fd.source_path)}
    macros: set[str] = set()
    for path, found in sorted(tree.grep_fixed([f"define {n}" for n in candidates]).items()):
        names = {s.removeprefix("define ") for s in found} - macros
        # Only a global header's macro: a driver's own `#define debug` says nothing
        # about another file's variable `debug` (dropping it would be a false OK).
        if path in touched or not is_global_header(path) or not is_c_path(path) or not names:
            continue
        text = tree.read(path)
        defs = CSource.from_text(text).definitions() if text is not None else {}
        macros |= {n for n in names if "macro" in defs.get(n, ())}
    return macros


def _not_api(migration: Migration, names: set[str]) -> Migration:
    """`migration` without `names` among the symbols the series removes."""
    if not names:
        return migration
    return replace(
        migration,
        old=[n for n in migration.old if n not in names],
        removed_in={k: v for k, v in migration.removed_in.items() if k not in names},
        removed={k: v for k, v in migration.removed.items() if k not in names},
    )


def _left_defined(
    migration: Migration,
    hunkmaps: list[HunkMap],
    rep: Replay,
    old: list[str] | None,
    parse: _ParseCache,
) -> set[str]:
    """The removed names (not given by --old) that every file a patch removes them from
    still defines after that patch, each kind of definition it had before
    (``removal.left_defined``), asked of the analysis' parses of those versions."""
    asked = set(old or ())
    files: dict[str, set[str]] = defaultdict(set)
    for hm in hunkmaps:
        for name in hm.defined_removed:
            if name in migration.removed and name not in asked:
                files[name].add(hm.file)
    memo: DefinitionMemo = {}
    out: set[str] = set()
    for name, paths in files.items():
        number = migration.removed[name]
        st = rep.step(number) if number is not None else None
        if st is None:
            continue
        before = rep.before(rep.steps.index(st))
        if left_defined(name, paths, before.get, st.read, memo, parse):
            out.add(name)
    return out


def analyse(
    ingested: Ingested,
    tree: Tree,
    old: list[str] | None = None,
    new: list[str] | None = None,
) -> Analysis:
    """Replay the series over the tree and collect references to its symbols at every step."""
    ingested = _numbered(ingested)
    series = ingested.series
    patches = series.patches
    sides: SideCache = {}  # each hunk side parsed once for every question asked before grep
    tracked, roles, changes = _tracked_symbols(patches, old, new, sides)
    # Attribute macros misread as variables are no API (an empty set in series-only mode).
    not_api = set() if tree.series_only else _attribute_macros(tree, patches, tracked, roles, old)
    tracked = [n for n in tracked if n not in not_api]
    roles = {n: r for n, r in roles.items() if n not in not_api}
    unparsed: dict[str, str] = {}
    parse = _ParseCache(unparsed)

    cache = _RefCache(tracked, parse, roles)
    header_files = _header_files(patches)
    header_states = _header_states(_header_paths(patches), len(patches))

    def with_headers(index: int, refs: list[Reference]) -> list[Reference]:
        if not header_files:
            return refs
        return _header_refs(refs, header_files, header_states[index])

    if tree.series_only:
        sites = definition_sites(patches, sides)
        shared = shared_variables(sites, roles)
        scope = _touched_scope(build_scope(sites, tree.grep_fixed, tracked), sites, patches)
        hunkmaps = [
            _scoped_map(m, scope)
            for p in patches
            for m in map_patch_without_tree(p, tracked, roles)
        ]
        migration = _not_api(infer_migration(patches, hunkmaps, old, new, shared), not_api)
        per_step = [scoped(scope, refs) for refs in _sparse_steps(patches, hunkmaps, cache)]
        steps = [Step(0, None, None, ListRefs(with_headers(0, per_step[0])))]
        for k, p in enumerate(patches, start=1):
            refs = ListRefs(with_headers(k, per_step[k]))
            steps.append(Step(k, p, ApplyResult(p.number, "unknown"), refs))
        conversions = _conversions_and_targets(hunkmaps, migration, new)
        fitted = _in_place_conversions(hunkmaps, changes, conversions)
        return Analysis(
            ingested,
            tree,
            migration,
            hunkmaps,
            conversions,
            steps,
            tracked,
            roles=roles,
            parse=parse,
            scope=scope,
            unparsed=unparsed,
            prototype_changes=changes,
            fitted=fitted,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        # The whole-tree grep is the one expensive call: start it first, work meanwhile.
        grep_future = pool.submit(tree.grep_words, tracked) if tracked else None
        sites = definition_sites(patches, sides)
        shared = shared_variables(sites, roles)
        # Where the names defined in private headers and .c files can be used at all.
        scope_future = pool.submit(build_scope, sites, tree.grep_fixed, tracked)
        rep = replay(patches, tree)
        touched = set(rep.touched)
        chains = _chains(patches, rep)
        # The series' own files need no grep: follow them while it runs.
        followed = _follow_chains(chains, tracked, roles)
        hits = grep_future.result() if grep_future else []
        scope = scope_future.result()
    # Names given by --old/--new that the series does not define: what they are (a
    # function whose address is taken, a macro in an expression...) is what the tree
    # defines them as; the series' own files that name them are read again knowing it.
    asked = [s for s in dict.fromkeys([*(old or []), *(new or [])]) if not roles.get(s)]
    if learned := _tree_roles(tree, hits, chains, asked):
        roles.update(learned)
        again = [c for c in chains if _mentions(c, learned)]
        redone = {r.path: r for r in _follow_chains(again, tracked, roles)} if again else {}
        followed = [redone.get(r.path, r) for r in followed]
    hunkmaps = [m for _, m in sorted((x for r in followed for x in r.maps), key=lambda x: x[0])]
    migration = _not_api(infer_migration(patches, hunkmaps, old, new, shared), not_api)
    for res in followed:
        for path, why in res.unparsed.items():
            unparsed.setdefault(path, why)
        for text, src in res.parsed:  # the checks ask about these versions again
            parse.put(res.path, text, src)

    # The hunks read from the fragments alone (before the tree grep) can miss a removed
    # name (a member whose struct header is outside the hunk): grep those too, rarely.
    missed = sorted(
        {*migration.removed, *migration.introduced, *migration.old, *migration.new} - set(tracked)
    )
    if missed:
        for hm in hunkmaps:
            for name in missed:
                if name in hm.roles:
                    roles[name] = frozenset(roles.get(name, frozenset()) | hm.roles[name])
        tracked = sorted({*tracked, *missed})
        hits = sorted([*hits, *tree.grep_words(missed)], key=lambda h: (h.path, h.line))
        followed = _follow_chains(chains, tracked, roles)  # their references, for all
        scope = scope.merged(build_scope(sites, tree.grep_fixed, missed))
    scope = _touched_scope(scope, sites, patches, chains)
    hunkmaps = [_scoped_map(m, scope) for m in hunkmaps]
    if scope:
        # Names out of their scope are other entities: the migration is read without them.
        migration = _not_api(infer_migration(patches, hunkmaps, old, new, shared), not_api)

    # Grep lines out of scope are dropped before anything is read or parsed: a file
    # whose every hit is another entity of a common name (`info`) costs nothing.
    kept, dropped = _scoped_hits(hits, scope, tracked)
    by_file: dict[str, list[GrepHit]] = defaultdict(list)
    for h in kept:
        by_file[h.path].append(h)
    untouched = [path for path in by_file if path not in touched]
    named = _named_files(untouched, hits, tracked)
    fixed = scoped(scope, _classify_untouched(tree, named, roles))
    own = [_scoped_chain(r, scope) for r in followed if r.path in touched]
    steps = _indexed_steps(patches, rep, fixed, own)
    if header_files:
        # Headers the series creates or deletes: each step's list is adjusted (rare).
        steps = [
            Step(st.index, st.patch, st.apply, ListRefs(with_headers(st.index, st.refs)))
            for st in steps
        ]
    # A name still defined, as before, by the files it is removed from (a macro's other
    # #ifdef branch) is not gone: nothing using it is left behind.
    migration = _not_api(migration, _left_defined(migration, hunkmaps, rep, old, parse))
    checked = set(migration.old) | set(migration.removed)
    grep_hits = {s: [h for h in kept if has_word(s, h.text)] for s in checked}
    out_of_scope = {s: dropped.get(s, 0) for s in checked}
    conversions = _conversions_and_targets(hunkmaps, migration, new)
    fitted = _in_place_conversions(hunkmaps, changes, conversions)
    _note_unparsed(chains, unparsed)
    return Analysis(
        ingested,
        tree,
        migration,
        hunkmaps,
        conversions,
        steps,
        tracked,
        grep_hits,
        rep,
        roles,
        parse=parse,
        tree_hits=hits,
        scope=scope,
        out_of_scope_lines={s: n for s, n in out_of_scope.items() if n},
        unparsed=unparsed,
        prototype_changes=changes,
        fitted=fitted,
    )


def _tree_roles(tree: Tree, hits: list[GrepHit], chains: list[_Chain], names: list[str]) -> Roles:
    """What each of `names` is (cparse.ROLES) where the base tree defines, declares or
    #defines it: from the items around its grep hits, in the headers that name it (an API
    is what its headers declare: kzalloc's 7,000 callers are never read for this), else,
    for a name no header defines, in the `.c` files that name it."""
    if not names:
        return {}
    pattern = word_pattern(names)
    naming: dict[str, set[str]] = defaultdict(set)  # path -> the names its hit lines hold
    for h in hits:
        if is_c_path(h.path):
            naming[h.path].update(pattern.findall(h.text))
    bases = {c.path: c.base for c in chains}
    found: dict[str, set[str]] = {}
    for headers in (True, False):
        wanted = {n for n in names if n not in found}
        paths = sorted(p for p, has in naming.items() if is_header(p) == headers and has & wanted)
        texts = tree.read_many([p for p in paths if p not in bases]) if paths else {}
        for path in paths:
            text = bases[path] if path in bases else texts.get(path)
            for name, what in windowed_roles(path, text or "", sorted(wanted)).items():
                found.setdefault(name, set()).update(what)
    return {name: frozenset(what) for name, what in found.items()}


def scoped(scope: Scope, refs: list[Reference]) -> list[Reference]:
    """`refs` without those out of their symbol's scope (model.scope)."""
    if not scope:
        return refs
    return [r for r in refs if scope.allows(r.symbol, r.file)]


def _scoped_hits(
    hits: list[GrepHit], scope: Scope, symbols: list[str]
) -> tuple[list[GrepHit], dict[str, int]]:
    """(kept, dropped lines per symbol): a grep line is dropped when every tracked symbol
    it names as a whole word is out of scope in its file.

    Hundreds of thousands of lines for common names: the scoped names are matched with
    one compiled pattern, and what a file may see is asked once per file.
    """
    if not scope:
        return hits, {}
    names = scope.scoped()
    scoped_words = word_pattern(names)
    scoped_names = set(names)
    others = [s for s in symbols if s not in scoped_names]
    other_words = word_pattern(others) if others else None
    kept: list[GrepHit] = []
    dropped: dict[str, int] = defaultdict(int)
    allowed: dict[tuple[str, str], bool] = {}  # (symbol, path): asked once per file
    for h in hits:
        here = set(scoped_words.findall(h.text))
        if not here:
            kept.append(h)
            continue
        seen = False
        for s in here:
            ok = allowed.get((s, h.path))
            if ok is None:
                ok = allowed[(s, h.path)] = scope.allows(s, h.path)
            seen = seen or ok
        if seen or (other_words and other_words.search(h.text)):
            kept.append(h)
        else:
            for s in here:
                dropped[s] += 1
    return kept, dict(dropped)


def _scoped_map(hm: HunkMap, scope: Scope) -> HunkMap:
    """A hunk map without the names that are out of scope in its file."""
    if not scope:
        return hm
    ok = scope.allows
    return replace(
        hm,
        removed_calls=[c for c in hm.removed_calls if ok(c.symbol, hm.file)],
        added_calls=[c for c in hm.added_calls if ok(c.symbol, hm.file)],
        removed_names=[r for r in hm.removed_names if ok(r.symbol, hm.file)],
        added_names=[r for r in hm.added_names if ok(r.symbol, hm.file)],
    )


def _scoped_chain(res: _ChainResult, scope: Scope) -> _ChainResult:
    """A followed file's references without those out of scope there."""
    if not scope:
        return res
    return replace(res, refs=[(k, scoped(scope, refs)) for k, refs in res.refs])


def _touched_scope(
    scope: Scope,
    sites: dict[str, list[DefinitionSite]],
    patches: list[Patch],
    chains: list[_Chain] | None = None,
) -> Scope:
    """The scope with the series' own files that mention a scoped name's defining file
    (a file the series creates is not in the base tree the scope was searched in)."""
    if not scope:
        return scope
    texts: dict[str, list[str]] = defaultdict(list)
    for c in chains or []:
        texts[c.path].extend(t for t in (c.base, *(t for _, t in c.versions)) if t)
    for p in patches:
        for fd in p.files:
            texts[fd.path].extend(ln.text for h in fd.hunks for ln in h.lines)
    extra: dict[str, set[str]] = {}
    for sym in scope.scoped():
        bases = {posixpath.basename(s.path) for s in sites.get(sym, [])}
        extra[sym] = {path for path, ts in texts.items() if any(b in t for t in ts for b in bases)}
    return scope.widened(extra)


def _note_unparsed(chains: list[_Chain], unparsed: dict[str, str]) -> None:
    """Add the series' C files that are over the parse limits at some step (path -> why):
    their references were found by text only, and the reports say so. Each distinct
    version of each file is looked at once (not every file at every step)."""
    for chain in chains:
        path = chain.path
        if path in unparsed or not is_c_path(path):
            continue
        seen: set[int] = set()
        for text in (chain.base, *(t for _, t in chain.versions)):
            if text is None or id(text) in seen:
                continue
            seen.add(id(text))
            if (why := parse_limit(text.encode("utf-8", "surrogateescape"))) is not None:
                unparsed[path] = why
                break


def _indexed_steps(
    patches: list[Patch], rep: Replay, fixed: list[Reference], followed: list[_ChainResult]
) -> list[Step]:
    """One Step per patch (and the base) over shared references: each step's kind counts
    follow from the previous step's by the files its patch changed, nothing else."""
    touched: dict[str, tuple[list[int], list[list[Reference]]]] = {}
    changes: dict[int, list[tuple[list[Reference], list[Reference]]]] = defaultdict(list)
    counts = _counts(fixed)
    for res in followed:
        steps_of = [k for k, _ in res.refs]
        versions = [refs for _, refs in res.refs]
        touched[res.path] = (steps_of, versions)
        for r in versions[0]:
            counts[(r.symbol, r.kind)] += 1
        for i in range(1, len(versions)):
            changes[steps_of[i]].append((versions[i - 1], versions[i]))
    shared = _SharedRefs(fixed, touched)
    steps = [Step(0, None, None, StepRefs(shared, 0, dict(counts)))]
    for k, (p, st) in enumerate(zip(patches, rep.steps, strict=True), start=1):
        for before, after in changes.get(k, []):
            for r in before:
                counts[(r.symbol, r.kind)] -= 1
            for r in after:
                counts[(r.symbol, r.kind)] += 1
        view = StepRefs(shared, k, {x: n for x, n in counts.items() if n})
        steps.append(Step(k, p, st.apply, view))
    return steps


def _conversions_and_targets(
    hunkmaps: list[HunkMap], migration: Migration, new: list[str] | None
) -> list[Conversion]:
    """`_conversions`; the new API is also what they switch to (an existing function, a
    member, another macro), unless --new said what it is: added to ``migration.new``."""
    conversions = _conversions(hunkmaps, migration)
    if new is not None:
        return conversions
    for c in conversions:
        if c.new is not None and c.new not in migration.new:
            migration.new.append(c.new)
            if c.new not in migration.introduced_in:
                # The patch that defines it, else a struct tag's (scanned only when asked).
                at = migration.introduced.get(c.new)
                migration.introduced_in[c.new] = (
                    at if c.new in migration.introduced else _tag_defined_in(hunkmaps, c.new)
                )
            migration.removed_in.setdefault(c.new, None)
    return conversions


def _tag_defined_in(hunkmaps: list[HunkMap], name: str) -> int | None:
    """The first patch that defines `name` (a struct tag, which the migration does not
    track) on a '+' line without defining it on a '-' line of the same patch."""
    added: dict[int | None, bool] = {}
    for hm in hunkmaps:
        if any(r.symbol == name and r.kind == "definition" for r in hm.removed_names):
            added[hm.patch] = False
        elif any(r.symbol == name and r.kind == "definition" for r in hm.added_names):
            added.setdefault(hm.patch, True)
    return next((p for p, yes in added.items() if yes), None)


def providers(refs: Iterable[Reference], symbol: str) -> list[Reference]:
    """Definitions, declarations and macros of `symbol` among `refs`."""
    return [r for r in refs if r.symbol == symbol and r.kind in PROVIDER_KINDS]


def code_uses(refs: Iterable[Reference], symbol: str) -> list[Reference]:
    """Code uses (calls and other code references) of `symbol` among `refs`."""
    return [r for r in refs if r.symbol == symbol and r.kind in USE_KINDS]

"""Does a series remove an API the tree has? (what `scan` selects series by)

An API removal: some patch deletes, for good (no later patch adds it back: the rule of
the model stage's ``infer_migration``), something the tree offers to other files:

- a function, prototype, macro, struct/union member, enumerator, typedef or variable:
  the file the patch removes it from has it at the base and does not keep it to itself
  (``model.offered_names``: everything a header declares; a ``.c`` file's non-static
  functions and variables);
- a whole header: the tree has the file and some other file of the tree includes it
  (what the deleted header itself declares goes with it: it is not listed again).

Without a tree every such removal counts: there is nothing to check it against, and the
verdict then says it was checked in series-only mode.

A name the files it is removed from still define once the series has applied (one of
several definitions removed: a macro defined per #ifdef branch) is not removed: the API
is still there (``still_removed``, asked when the series applies).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from series_tool.model import (
    CSource,
    defined_on_changed_lines,
    file_includes,
    header_symbol,
    is_c_path,
    is_header,
    offered_names,
)
from series_tool.models import Patch, Series
from series_tool.replay import Tree

#: how many files naming a deleted header are parsed at most to find one including it
#: (the first usually does; a header named in hundreds of comments must not cost more)
_INCLUDER_PROBES = 50


@dataclass(frozen=True)
class ApiRemoval:
    """One API symbol a series removes."""

    symbol: str
    files: tuple[str, ...]  # the files a patch removes its definition from
    patch: int | None  # the patch that removes it for good

    def to_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "files": list(self.files), "patch": self.patch}


def _deleted_headers(patches: Iterable[Patch]) -> dict[str, list[str]]:
    """Include name -> paths of the headers the series deletes under that name."""
    out: dict[str, list[str]] = {}
    for p in patches:
        for fd in p.files:
            if is_header(fd.path) and fd.is_deleted and not fd.is_binary:
                out.setdefault(header_symbol(fd.path), []).append(fd.path)
    return out


def _includes_header(includer: str, text: str, header: str) -> bool:
    """Whether ``includer`` (contents ``text``) has an ``#include`` of the file ``header``.

    Only the directive lines are parsed. ``<name>`` and ``"name"`` match by the include
    name (``header_symbol``); a quoted name also matches relative to the includer's folder.
    """
    lines = [t for t in text.splitlines() if t.lstrip().startswith("#")]
    name = header_symbol(header)
    for inc, quoted in file_includes(CSource.from_text("\n".join(lines) + "\n")):
        if inc == name:
            return True
        if quoted and posixpath.normpath(posixpath.join(posixpath.dirname(includer), inc)) == (
            header
        ):
            return True
    return False


def _header_offered(tree: Tree, paths: list[str], deleted: set[str]) -> bool:
    """Whether the tree has one of the header ``paths`` and another file includes it."""
    held = tree.entries(paths)
    present = [p for p in paths if p in held]
    if not present:
        return False
    # One grep for every name (a header deleted in each arch/ folder shares its name),
    # and each file naming one read once.
    names = sorted({posixpath.basename(h) for h in present})
    hits = tree.grep_fixed(names)  # path -> the names it holds
    texts: dict[str, str | None] = {}
    for header in present:
        name = posixpath.basename(header)
        candidates = sorted(p for p, found in hits.items() if name in found and p not in deleted)
        probes = 0
        for i, path in enumerate(candidates):
            if probes >= _INCLUDER_PROBES:
                break
            if path not in texts:
                texts.update(tree.read_many([p for p in candidates[i : i + 10] if p not in texts]))
            text = texts.get(path)
            if text is None or name not in text:
                continue
            probes += 1
            if _includes_header(path, text, header):
                return True
    return False


@dataclass
class _Removed:
    """A name some patch removes for good: where, and at which patch positions."""

    files: set[str]
    first: int  # position of the first patch removing it
    last: int  # position of the patch removing it for good


def _removed_for_good(patches: list[Patch]) -> dict[str, _Removed]:
    """The names some patch removes (a definition, declaration, macro, member, enumerator,
    typedef, variable, or a deleted header under its include name) and no patch at or
    after it adds back, from the definitions on the changed lines (the same rule as
    ``infer_migration``'s old symbols, without classifying every name of every line)."""
    removed_at: dict[str, list[int]] = {}
    added_at: dict[str, list[int]] = {}
    files: dict[str, set[str]] = {}
    for i, p in enumerate(patches):
        for fd in p.files:
            if fd.is_binary or not is_c_path(fd.path):
                continue
            if is_header(fd.path) and (fd.is_deleted or fd.is_new):
                name = header_symbol(fd.path)
                (removed_at if fd.is_deleted else added_at).setdefault(name, []).append(i)
                if fd.is_deleted:
                    files.setdefault(name, set()).add(fd.path)
            for hunk in fd.hunks:
                gone, new = defined_on_changed_lines(hunk)
                for name in gone:
                    removed_at.setdefault(name, []).append(i)
                    files.setdefault(name, set()).add(fd.path)
                for name in new:
                    added_at.setdefault(name, []).append(i)
    out: dict[str, _Removed] = {}
    for name, where in removed_at.items():
        last = max(where)
        if not any(j >= last for j in added_at.get(name, [])):
            out[name] = _Removed(files[name], min(where), last)
    return out


def api_removals(series: Series, tree: Tree) -> list[ApiRemoval]:
    """The API symbols ``series`` removes that ``tree`` has (see the module docstring),
    in the order the series first removes them."""
    patches = series.patches
    candidates = _removed_for_good(patches)
    if not candidates:
        return []
    headers = _deleted_headers(patches)
    all_deleted = {p for paths in headers.values() for p in paths}
    series_only = tree.series_only
    # Each file is read and parsed once, however many of its names the series removes.
    offered_by_file: dict[str, set[str]] = {}

    def offered(name: str, files: tuple[str, ...]) -> bool:
        if series_only:
            return True  # nothing to check it against: the diff's word stands
        if name in headers:
            return _header_offered(tree, list(files), all_deleted)
        todo = [f for f in files if f not in offered_by_file]
        for f, text in tree.read_many(todo).items():
            offered_by_file[f] = offered_names(f, text) if text is not None else set()
        return any(name in offered_by_file.get(f, ()) for f in files)

    found: list[tuple[int, str, ApiRemoval]] = []
    for name, removed in candidates.items():
        if name in headers:
            files = tuple(sorted(headers[name]))
        elif removed.files <= all_deleted:
            # Only ever in headers the series deletes whole: what goes with a header is
            # judged as the header (is it in the tree, does anyone include it).
            continue
        else:
            files = tuple(sorted(removed.files))
        if offered(name, files):
            number = patches[removed.last].number
            found.append((removed.first, name, ApiRemoval(name, files, number)))
    return [r for _, _, r in sorted(found, key=lambda x: (x[0], x[1]))]


#: what belongs to a struct, union or enum body: the same name left in the file may be
#: another body's (another struct's member), so it never counts as left defined
_CONTAINED_ROLES = frozenset({"member", "enumerator"})

#: a text -> (name -> kinds of its definitions, name -> roles)
DefinitionMemo = dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]]


def left_defined(
    name: str,
    paths: Iterable[str],
    before: Callable[[str], str | None],
    after: Callable[[str], str | None],
    memo: DefinitionMemo | None = None,
    source: Callable[[str, str], CSource | None] | None = None,
) -> bool:
    """Whether each of ``paths`` still has, in its text ``after``, every kind of
    definition of ``name`` (definition, declaration, macro) and every role (function,
    macro, variable...) it had ``before``: then the name is not gone from it (one
    ``#ifdef`` branch of a macro removed, another left; definitions under ``#if 0`` do
    not count). A function whose definition goes
    while its prototype stays is gone; so is a member or enumerator (another struct's of
    the same name may be what is left). ``memo`` keeps each text's answers; ``source``
    (path, text) gives a parse the caller already holds (the analysis' parse cache)."""
    cache: DefinitionMemo = memo if memo is not None else {}

    def of(path: str, text: str) -> tuple[set[str], set[str]]:
        if text not in cache:
            src = (source(path, text) if source else None) or CSource.from_text(text)
            live = src.compiled_lines()  # a definition under `#if 0` was never there
            cache[text] = (src.definitions(live), src.roles(live))
        kinds, roles = cache[text]
        return kinds.get(name, set()), roles.get(name, set())

    for path in paths:
        was, now = before(path), after(path)
        if was is None or now is None:
            return False
        (was_kinds, was_roles), (now_kinds, now_roles) = of(path, was), of(path, now)
        if not now_kinds or not was_kinds <= now_kinds or not was_roles <= now_roles:
            return False
        if (was_roles | now_roles) & _CONTAINED_ROLES:
            return False
    return True


def still_removed(
    removals: list[ApiRemoval],
    before: Callable[[str], str | None],
    after: Callable[[str], str | None],
) -> list[ApiRemoval]:
    """The ``removals`` that the tree after the series (``after``: a file's text then,
    None when it is gone; ``before``: at the base) really lacks: one is dropped when
    every file it was removed from still defines the name as it did (see
    :func:`left_defined`). A deleted header is always removed."""
    memo: DefinitionMemo = {}
    return [r for r in removals if not left_defined(r.symbol, r.files, before, after, memo)]

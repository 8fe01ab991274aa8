"""Where a name the series defines can be used at all: its scope in the tree.

A macro `info` deleted from a driver's private header is not the `info` of a local
variable in a file that never includes that header: counting every whole-word hit of a
common name in the tree as a use of it buries the real users under hundreds of
thousands of false ones. The C rules, as far as a diff and `git grep -l` can tell them:

* a name defined in a ``.c`` file that only that file sees (a ``static`` function or
  variable, a macro, a type, an enumerator, a member of a struct defined there) is
  visible in that file only (and in files that `#include` the ``.c`` file, rare);
* a name defined in a header outside the global include directories (``include/``,
  ``arch/*/include/``, any path with an ``include`` or ``uapi`` directory) is visible
  to files that can include that header: files that spell its file name as an
  `#include` must (the name, then `"` or `>`), closed over the headers that do, a few
  levels. Not every
  file of its directory: a directory of drivers (drivers/pci/hotplug) holds several
  private headers, each defining its own `dbg`, and their users are not this one's;
* anything else (a non-static function or variable, a global header's name) is global.

A name with several definition sites is visible wherever any of them is; one global
site makes it global. Over-inclusion only keeps references (safe); leaving a real user
out would be a false OK, so every rule errs on the side of "visible".
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from series_tool.models import Patch

from .hunkmap import SideCache, changed_sides
from .migration import is_header
from .references import is_c_path
from .visibility import file_local_names

#: Roles (cparse.ROLES) a `.c` file keeps to itself whatever their storage class.
_C_LOCAL_ROLES = frozenset({"macro", "function-macro", "member", "enumerator", "typedef"})

#: How many rounds of "headers that include a header that includes it" are followed.
_HEADER_DEPTH = 3


def is_global_header(path: str) -> bool:
    """A header in a global include directory (any `include` or `uapi` path component)."""
    parts = path.split("/")[:-1]
    return "include" in parts or "uapi" in parts


@dataclass(frozen=True)
class DefinitionSite:
    """One file where the series defines, declares or #defines a name (on a changed line)."""

    path: str
    local: bool  # visible in that file only (a .c file's static or macro), or its includers


def definition_sites(
    patches: Iterable[Patch], cache: SideCache | None = None
) -> dict[str, list[DefinitionSite]]:
    """name -> every file where a patch's '-' or '+' lines define it, and whether the
    definition there is local to that file (see the module docstring)."""
    out: dict[str, list[DefinitionSite]] = {}
    for p in patches:
        for fd in p.files:
            if fd.is_binary or not is_c_path(fd.path):
                continue
            for hunk in fd.hunks:
                for _, src, changed in changed_sides(hunk, cache):
                    roles = src.roles_on(changed)
                    if not roles:
                        continue  # most hunks define nothing: no names of the side asked
                    static = file_local_names(src) if not is_header(fd.path) else set()
                    for name, what in roles.items():
                        if is_header(fd.path):
                            local = not is_global_header(fd.path)
                        else:
                            local = what <= _C_LOCAL_ROLES or name in static
                        site = DefinitionSite(fd.path, local)
                        sites = out.setdefault(name, [])
                        if site not in sites:
                            sites.append(site)
    return out


class _Search:
    """The tree search of a scope, run at most once and only when first asked."""

    def __init__(self, run: Callable[[], dict[str, frozenset[str]]]) -> None:
        self._run: Callable[[], dict[str, frozenset[str]]] | None = run
        self._result: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def result(self) -> dict[str, frozenset[str]]:
        with self._lock:  # two threads asking at once still search once
            if self._run is not None:
                self._result, self._run = self._run(), None
            return self._result


class Scope:
    """Which files each scoped name is visible in; names not listed are global.

    A name defined in a `.c` file is visible in its own file (and the series' files that
    name it) and, rarely, in files that `#include` the `.c` file: that part needs a
    whole-tree search, which runs only when a reference outside the known files is
    asked about (`allows`); most series never ask.
    """

    def __init__(
        self,
        known: Mapping[str, frozenset[str]] | None = None,
        search: _Search | None = None,
    ) -> None:
        #: name -> files known to see it (the rest, if any, is the search's answer)
        self._known: dict[str, frozenset[str]] = dict(known or {})
        self._search = search

    def __bool__(self) -> bool:
        """Whether any name is scoped at all."""
        return bool(self._known)

    def allows(self, symbol: str, path: str) -> bool:
        """Whether a reference to `symbol` in the file `path` can be to the series' own
        `symbol` (False: another entity of the same spelling, out of its scope)."""
        where = self._known.get(symbol)
        if where is None or path in where:
            return True
        return self._search is not None and path in self._search.result().get(symbol, ())

    def scoped(self) -> list[str]:
        """The names that are not global."""
        return sorted(self._known)

    @property
    def visible(self) -> dict[str, frozenset[str]]:
        """name -> every file it is visible in (runs the tree search if it is pending)."""
        found = self._search.result() if self._search is not None else {}
        return {s: where | found.get(s, frozenset()) for s, where in self._known.items()}

    def widened(self, extra: Mapping[str, Iterable[str]]) -> Scope:
        """This scope with more files that see some of its names (the same search)."""
        known = dict(self._known)
        for sym, paths in extra.items():
            if sym in known:
                known[sym] = known[sym] | frozenset(paths)
        return Scope(known, self._search)

    def merged(self, other: Scope) -> Scope:
        """The names of both scopes (`other`'s entry wins for a name in both)."""
        if not other:
            return self
        if not self:
            return other
        searches = [s for s in (self._search, other._search) if s is not None]
        mine = {s: w for s, w in self._known.items() if s not in other._known}

        def both() -> dict[str, frozenset[str]]:
            out: dict[str, frozenset[str]] = {}
            for search in searches:
                for sym, where in search.result().items():
                    if search is other._search or sym in mine:
                        out[sym] = where
            return out

        return Scope({**mine, **other._known}, _Search(both) if searches else None)


def build_scope(
    sites: Mapping[str, list[DefinitionSite]],
    mentioning: Callable[[list[str]], Mapping[str, set[str]]],
    symbols: Iterable[str],
) -> Scope:
    """The scope of each of `symbols` from its definition sites.

    `mentioning(basenames)` maps each file of the tree whose text contains any of the
    file names to the names it contains (one `git grep -F` for all of them); it is called
    once per round of the header closure, and not at all when every name is global.
    When every scoped name is defined in `.c` files, the search is left for `Scope.allows`
    to run if a reference outside those files is ever asked about (a `.c` file is rarely
    included: usually no reference is, and the whole-tree search is never run).
    """
    local: dict[str, list[str]] = {}
    for sym in symbols:
        defs = sites.get(sym)
        if defs and all(s.local for s in defs):
            local[sym] = sorted({s.path for s in defs})
    if not local:
        return Scope()
    known = {sym: frozenset(paths) for sym, paths in local.items()}
    search = _Search(lambda: _search_includers(local, mentioning))
    if any(is_header(p) for paths in local.values() for p in paths):
        # A private header's users are in other files by design: search now (in the
        # caller's thread, beside its other work) rather than at the first question.
        search.result()
    return Scope(known, search)


def _search_includers(
    local: Mapping[str, list[str]],
    mentioning: Callable[[list[str]], Mapping[str, set[str]]],
) -> dict[str, frozenset[str]]:
    """name -> its defining files and the files that can include one of them (see the
    module docstring): files naming a defining file, closed over the headers among them."""
    roots = sorted({p for paths in local.values() for p in paths})
    seen: dict[str, set[str]] = {r: set() for r in roots}  # root -> files that can see it
    frontier: dict[str, set[str]] = {}  # file name to look for -> the roots it leads to
    for r in roots:
        frontier.setdefault(posixpath.basename(r), set()).add(r)
    searched: set[str] = set()
    for _ in range(_HEADER_DEPTH):
        names = sorted(n for n in frontier if n not in searched)
        if not names:
            break
        searched.update(names)
        following: dict[str, set[str]] = {}
        for path, found in mentioning(_include_ends(names)).items():
            for name in {s[:-1] for s in found} & set(names):
                for root in frontier[name]:
                    if path in seen[root]:
                        continue
                    seen[root].add(path)
                    if is_header(path):  # who includes this header sees the root too
                        following.setdefault(posixpath.basename(path), set()).add(root)
        frontier = following
    visible: dict[str, frozenset[str]] = {}
    for sym, paths in local.items():
        where: set[str] = set()
        for p in paths:
            where.add(p)
            where.update(seen[p])
        visible[sym] = frozenset(where)
    return visible


def _include_ends(basenames: list[str]) -> list[str]:
    """The strings an `#include` of each file name must contain: the name and then the
    closing `"` or `>`. A file that only mentions the name (a comment "see smp.c", a
    path in prose) cannot include it, and following such mentions from a common name
    (time.c, smp.c) reached a thousand headers and the whole tree, for nothing."""
    return [name + end for name in basenames for end in ('"', ">")]


def shared_variables(
    sites: Mapping[str, list[DefinitionSite]], roles: Mapping[str, Iterable[str]]
) -> set[str]:
    """Global variables the series defines in a .c file without `static` (other files
    reach them through an `extern` declaration: removing one is an API change)."""
    return {
        name
        for name, defs in sites.items()
        if set(roles.get(name, ())) == {"variable"}
        and any(not s.local and s.path.endswith(".c") for s in defs)
    }

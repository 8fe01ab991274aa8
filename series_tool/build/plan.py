"""Which objects each step of `--build kernel` builds, for which architectures, and why.

A step builds the .c files it touches; the .c files that use (in the analysis'
references, or by name for what the analysis does not track) a symbol, member or macro
whose definition the step adds, removes or changes; and, through the #include graph, the
.c files compiling a header that uses one of those names, or whose code the step changes
outside any definition (a static inline's body, an #include line). Objects are ranked by
how directly the step reaches them, so the cap on objects per step drops the farthest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from series_tool.checks import Analysis, Step, arch_of
from series_tool.model import (
    changes_undefined_code,
    collect_defined,
    defined_on_changed_lines,
    has_word,
    is_header,
)
from series_tool.models import CODE_KINDS

from .includers import directives, find_includers, resolves_to
from .toolchains import Toolchain, host_arch, toolchain

#: Objects per step and architecture at most: a header used everywhere would otherwise
#: turn a targeted build into a full one (the rest is named in the report).
MAX_OBJECTS = 200

#: Reference kinds in a header that compile wherever the header is included (its own
#: declarations and #defines of the name do not need the includers rebuilt).
HEADER_USE_KINDS = CODE_KINDS - {"definition", "declaration", "macro", "export"}

#: How many includers of a header are looked for, per object a step may build.
INCLUDERS_PER_OBJECT = 10

# How directly a step reaches an object: the cap keeps the nearest. NAME_ONLY: the file
# has the name of something the step changes in a header, but does not include it.
TOUCHED, USES, INCLUDES, NAME_ONLY = 0, 1, 2, 3


@dataclass
class KernelOptions:
    """What `--build kernel` was asked for."""

    arches: list[str] = field(default_factory=list)  # besides the host's
    kconfig: str = "defconfig"
    jobs: int = 1
    step_timeout: float | None = None
    max_objects: int = MAX_OBJECTS
    sparse: bool = True  # check out only what kbuild and the objects need
    final_only: bool = False  # build the base and the last step only (verify)


@dataclass
class Plan:
    """Objects per step index and architecture, and what will not be built, with why."""

    objects: dict[int, dict[str, list[str]]]
    why: dict[str, list[str]]  # object -> the reasons it is built (touched, references X)
    not_built: list[dict[str, Any]]
    toolchains: dict[str, Toolchain]


def last_index(an: Analysis) -> int:
    """The index of the last step (the steps may be a subset: rewrite --check builds some)."""
    return an.steps[-1].index


def _label(st: Step) -> str:
    assert st.patch is not None
    return f"patch {st.patch.number}" if st.patch.number is not None else f"step {st.index}"


def _defined_in(st: Step) -> dict[str, set[str]]:
    """File -> the names the step's patch defines, declares or #defines there (either side)."""
    out: dict[str, set[str]] = {}
    if st.patch is not None:
        for fd in st.patch.files:
            for hunk in fd.hunks if fd.path.endswith((".c", ".h")) else ():
                gone, new = defined_on_changed_lines(hunk)
                out.setdefault(fd.path, set()).update(gone, new)
    return out


def _step_symbols(st: Step) -> set[str]:
    """Symbols whose definition, declaration or macro the step's patch adds, removes or
    changes (a changed signature is on both sides), and the headers it deletes or creates."""
    if st.patch is None:
        return set()
    removed, added = collect_defined(st.patch)
    return removed | added


def _edited_headers(st: Step) -> list[str]:
    """Headers whose code the step changes outside any definition."""
    if st.patch is None:
        return []
    return [
        fd.path
        for fd in st.patch.files
        if is_header(fd.path)
        and not fd.is_binary
        and not fd.is_deleted
        and any(changes_undefined_code(h) for h in fd.hunks)
    ]


@dataclass
class _Users:
    """Per step: .c file -> names it uses; header -> names it uses (its includers build)."""

    files: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    headers: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    #: untracked name -> the headers the step's patch defines it in (users must include one)
    homes: dict[int, dict[str, set[str]]] = field(default_factory=dict)


def _users(an: Analysis, symbols: dict[int, set[str]]) -> _Users:
    """Who uses each step's symbols: the analysis' references to tracked symbols, and one
    word grep of the base tree (plus the touched files at the step) for the others (a
    changed signature, member or macro). By name alone, a header defining the name is
    not counted as using it (its includers would all be built for a declaration)."""
    tracked = set(an.tracked)
    every = set().union(*symbols.values()) if symbols else set()
    untracked = sorted(every - tracked)
    base_files: dict[str, set[str]] = {}
    if untracked:
        for hit in an.tree.grep_words(untracked):
            if hit.path.endswith((".c", ".h")):
                for s in untracked:
                    if has_word(s, hit.text):
                        base_files.setdefault(s, set()).add(hit.path)
    touched = set(an.touched())
    out = _Users()
    for st in an.steps[1:]:
        files = out.files.setdefault(st.index, {})
        headers = out.headers.setdefault(st.index, {})
        defined = _defined_in(st)
        wanted = symbols.get(st.index, set())
        # Per symbol, and only those the step uses in code: a step's whole reference list
        # is built on demand, and building it for every step is steps x references.
        for sym in sorted(wanted & tracked):
            if not st.count(sym, CODE_KINDS):
                continue
            for r in st.refs_of(sym):
                if r.file.endswith(".c") and r.kind in CODE_KINDS:
                    files.setdefault(r.file, set()).add(sym)
                elif is_header(r.file) and r.kind in HEADER_USE_KINDS:
                    headers.setdefault(r.file, set()).add(sym)
        read = an.read_at(st.index)
        homes = out.homes.setdefault(st.index, {})
        for s in sorted(wanted - tracked):
            homes[s] = {h for h, names in defined.items() if is_header(h) and s in names}
            paths = base_files.get(s, set()) - touched
            paths |= {p for p in touched if (t := read(p)) is not None and has_word(s, t)}
            for path in paths:
                if path.endswith(".c"):
                    files.setdefault(path, set()).add(s)
                elif s not in defined.get(path, ()):
                    headers.setdefault(path, set()).add(s)
    return out


def _ranked(
    an: Analysis, users: _Users, limit: int
) -> tuple[dict[int, list[tuple[int, str, str]]], list[str]]:
    """Per step, (rank, .c file, why) of every object it reaches; and the headers whose
    includers are more than `limit` (only the first found are built)."""
    edited = {st.index: _edited_headers(st) for st in an.steps[1:]}
    headers = {h for per in users.headers.values() for h in per}
    headers |= {h for hs in edited.values() for h in hs}
    headers |= {h for per in users.homes.values() for hs in per.values() for h in hs}
    # Followed further than the objects kept: knowing who includes a header also ranks
    # the files that only have a name the step changes (see NAME_ONLY).
    found = find_includers(
        headers,
        lambda strings: an.tree.grep_fixed(strings),
        lambda paths: an.tree.read_many(paths),
        INCLUDERS_PER_OBJECT * limit,
    )
    touched_c = [p for p in an.touched() if p.endswith(".c")]
    out: dict[int, list[tuple[int, str, str]]] = {}
    for st in an.steps[1:]:
        assert st.patch is not None
        label = _label(st)
        rows = out.setdefault(st.index, [])
        rows.extend(
            (TOUCHED, fd.path, f"{label} changes it")
            for fd in st.patch.files
            if fd.path.endswith(".c")
        )
        homes = users.homes.get(st.index, {})
        for path, used in sorted(users.files.get(st.index, {}).items()):
            # A name found by grep whose definition the step changes in a header is the
            # same entity only in files that include that header: the others (another
            # struct's member of the same name) come last, if the cap leaves room.
            unseen = [
                (s, hs)
                for s in used
                if (hs := homes.get(s))
                and not (hs & found.truncated)
                and not any(path in found.files.get(h, {}) for h in hs)
            ]
            if len(unseen) == len(used):
                where = ", ".join(sorted({h for _, hs in unseen for h in hs}))
                names = ", ".join(sorted(used))
                rows.append(
                    (
                        NAME_ONLY,
                        path,
                        f"has the name {names} ({label}) but does not include {where}",
                    )
                )
            else:
                rows.append((USES, path, f"uses {', '.join(sorted(used))} ({label})"))
        reasons = {
            h: f"uses {', '.join(sorted(used))} ({label})"
            for h, used in users.headers.get(st.index, {}).items()
        }
        for h in edited[st.index]:
            reasons[h] = f"{label} changes its code outside any definition"
        read = an.read_at(st.index)
        for h, why in sorted(reasons.items()):
            for path, chain in sorted(found.files.get(h, {}).items()):
                via = "".join(f" through {c}" for c in chain)
                rows.append((INCLUDES, path, f"includes {h}{via}, which {why}"))
            # The series' own .c files as they are at this step (an #include it added).
            for path in touched_c:
                text = read(path)
                lines = directives(text) if text is not None else []
                if any(resolves_to(path, n, q, h) for n, q in lines):
                    rows.append((INCLUDES, path, f"includes {h}, which {why}"))
    return out, sorted(found.truncated)


def plan_objects(an: Analysis, opts: KernelOptions) -> Plan:
    """Which objects each step builds, for which architectures."""
    host = host_arch()
    arches = [host, *[a for a in opts.arches if a != host]]
    symbols = {st.index: _step_symbols(st) for st in an.steps[1:]}
    ranked, crowded = _ranked(an, _users(an, symbols), opts.max_objects)
    objects: dict[int, dict[str, list[str]]] = {}
    why: dict[str, list[str]] = {}
    not_built: list[dict[str, Any]] = []
    toolchains: dict[str, Toolchain] = {}
    seen_missing: set[tuple[str, str]] = set()
    exists: dict[int, Callable[[str], str | None]] = {}

    def arches_of(path: str) -> list[str]:
        a = arch_of(path)
        return [a] if a else arches

    def add(index: int, path: str, reason: str) -> None:
        read = exists.setdefault(index, an.read_at(index))
        if read(path) is None:
            return  # gone at this step
        reasons = why.setdefault(path, [])
        if reason not in reasons:
            reasons.append(reason)
        for arch in arches_of(path):
            tc = toolchains.setdefault(arch, toolchain(arch))
            if not tc.available:
                if (path, arch) not in seen_missing:
                    seen_missing.add((path, arch))
                    install = f"install {tc.package}" if tc.package else "no known compiler"
                    not_built.append(
                        {"file": path, "arch": arch, "reason": f"no compiler for {arch}: {install}"}
                    )
                continue
            objs = objects.setdefault(index, {}).setdefault(arch, [])
            if path not in objs:
                objs.append(path)

    for index, rows in ranked.items():
        for _rank, path, reason in sorted(rows, key=lambda r: (r[0], r[1])):
            add(index, path, reason)
    for h in crowded:
        for arch in arches:
            not_built.append(
                {
                    "file": h,
                    "arch": arch,
                    "reason": f"more than {INCLUDERS_PER_OBJECT * opts.max_objects} files "
                    "include it: only those found first are looked at",
                }
            )
    # The base builds every object any step builds, where it exists: the reference for
    # "new at this step" and the one place base problems are reported.
    at_base = an.read_at(0)
    for arches_objs in list(objects.values()):
        for objs in arches_objs.values():
            for path in objs:
                if at_base(path) is None:
                    continue
                for arch in arches_of(path):
                    if toolchains[arch].available:
                        base = objects.setdefault(0, {}).setdefault(arch, [])
                        if path not in base:
                            base.append(path)
    if opts.final_only and last_index(an) > 0:
        # verify asks about the tree after the whole series: every step's objects that
        # are still there, built once at the end (and once at the base).
        last = last_index(an)
        at_last = an.read_at(last)
        final: dict[str, list[str]] = {}
        for index in range(1, last + 1):
            for arch, objs in objects.pop(index, {}).items():
                keep = final.setdefault(arch, [])
                keep.extend(p for p in objs if p not in keep and at_last(p) is not None)
        objects[last] = final
    for index, per_arch in objects.items():
        for arch, objs in per_arch.items():
            if len(objs) > opts.max_objects:
                for path in objs[opts.max_objects :]:
                    not_built.append(
                        {
                            "file": path,
                            "arch": arch,
                            "reason": f"more than {opts.max_objects} objects at step {index}",
                        }
                    )
                del objs[opts.max_objects :]
    return Plan(objects, why, not_built, toolchains)

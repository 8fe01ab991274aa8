"""Which .c files compile a header: those that #include it, directly or through headers.

A step that changes what a header holds (a member, a macro, a static inline, the headers
it includes) can break every object that compiles it. The candidates come from one
`git grep -F` of the base tree per level for the ways an #include can spell the header
(`<linux/foo.h>`, `"linux/foo.h"`, `"../foo.h"`); each candidate's #include directives
are then parsed (tree-sitter) and resolved as the preprocessor does, so a file that only
mentions the name, or includes another header of the same file name, is not counted.
Files the series touches are looked at as they are at the step.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from series_tool.model import CSource, file_includes, header_symbol, is_header

#: Levels of headers followed above the header itself (a.h included by b.h included
#: by c.c is level 2); the kernel's include graph is deep, the objects that matter most
#: include a header directly.
DEPTH = 2


def include_spellings(header: str) -> list[str]:
    """Text an `#include` of `header` contains: `<name>` and `"name"` for its include
    name, and `base"` for a quoted path relative to the including file."""
    name = header_symbol(header)
    base = posixpath.basename(header)
    out = [f"<{name}>", f'"{name}"']
    if f'{base}"' not in out:
        out.append(f'{base}"')
    return out


def resolves_to(includer: str, name: str, quoted: bool, header: str) -> bool:
    """Whether `#include "name"` / `<name>` in `includer` can name `header`: a quoted
    name next to the including file first, else the name under an include/ directory
    (`linux/foo.h` for include/linux/foo.h, arch/*/include/asm/foo.h for asm/foo.h)."""
    if quoted and posixpath.normpath(posixpath.join(posixpath.dirname(includer), name)) == header:
        return True
    parts = header.split("/")
    return "include" in parts[:-1] and name == header_symbol(header)


def directives(text: str) -> list[tuple[str, bool]]:
    """(name, quoted) of a file's #include lines: only its directive lines are parsed
    (a header walk reads hundreds of files)."""
    lines = [t for t in text.splitlines() if t.lstrip().startswith("#")]
    return file_includes(CSource.from_text("\n".join(lines) + "\n"))


@dataclass
class Includers:
    """Per header: the .c files that compile it, and by which chain of headers."""

    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: headers whose search stopped at the limit (more files compile them)
    truncated: set[str] = field(default_factory=set)


def find_includers(
    headers: Iterable[str],
    grep_fixed: Callable[[list[str]], dict[str, set[str]]],
    read_many: Callable[[list[str]], dict[str, str | None]],
    limit: int,
    depth: int = DEPTH,
) -> Includers:
    """The .c files that #include each header, directly or through up to `depth` levels
    of other headers: header -> .c file -> the chain of headers in between (empty when
    direct). A header with more than `limit` such files stops being followed."""
    out = Includers()
    # header being searched for -> the original headers it leads to, with the chain
    frontier: dict[str, list[tuple[str, list[str]]]] = {h: [(h, [])] for h in sorted(set(headers))}
    seen: set[tuple[str, str]] = set()
    for _level in range(depth + 1):
        if not frontier:
            break
        spellings = sorted({s for h in frontier for s in include_spellings(h)})
        candidates = grep_fixed(spellings)
        texts = read_many(sorted(p for p in candidates if p.endswith((".c", ".h"))))
        following: dict[str, list[tuple[str, list[str]]]] = {}
        for path, text in sorted(texts.items()):
            if text is None:
                continue
            for name, quoted in directives(text):
                for target in frontier:
                    if target == path or not resolves_to(path, name, quoted, target):
                        continue
                    for origin, chain in frontier[target]:
                        if origin in out.truncated or (origin, path) in seen:
                            continue
                        seen.add((origin, path))
                        if is_header(path):
                            following.setdefault(path, []).append((origin, [*chain, path]))
                        elif path.endswith(".c"):
                            found = out.files.setdefault(origin, {})
                            found[path] = chain
                            if len(found) > limit:
                                out.truncated.add(origin)
        frontier = {
            h: [(o, c) for o, c in ways if o not in out.truncated] for h, ways in following.items()
        }
        frontier = {h: ways for h, ways in frontier.items() if ways}
    return out

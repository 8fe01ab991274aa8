"""gcc's diagnostics out of a kbuild log: file:line:col, severity, message, -W option.

This reads compiler output (a line protocol gcc documents), not C. make runs with
LC_ALL=C so quotes are plain ASCII; paths are made relative to the source tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIAG = re.compile(
    r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? "
    r"(?P<severity>fatal error|error|warning): (?P<message>.*?)"
    r"(?: \[(?P<option>-W[^\]]+)\])?$"
)
# gcc quotes with U+2018/U+2019 under a UTF-8 locale and with ' under LC_ALL=C.
_IN_FUNCTION = re.compile(
    r"^(?P<file>[^:\s][^:]*): In function ['\u2018](?P<function>[^'\u2019]+)['\u2019]:$"
)
_NO_RULE = re.compile(r"No rule to make target ['\u2018`](?P<target>[^'\u2019]+)['\u2019]")


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning gcc printed."""

    file: str
    line: int
    col: int | None
    severity: str  # "error" or "warning" ("fatal error" counts as error)
    message: str
    option: str | None  # -Wfoo or -Werror=foo, as gcc names it
    function: str | None  # from gcc's "In function 'f':" line

    def key(self) -> tuple[str, str | None, str, str, str | None]:
        """What makes two diagnostics the same across steps: not the line (patches move
        lines), but the file, function, severity, message and option."""
        return (self.file, self.function, self.severity, self.message, self.option)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": self.message,
            "option": self.option,
            "function": self.function,
        }


def _relative(path: str, roots: tuple[str, ...]) -> str:
    for root in roots:
        if path.startswith(root):
            return path[len(root) :]
    return path


def parse_log(text: str, roots: tuple[str, ...] = ()) -> list[Diagnostic]:
    """The errors and warnings in a build log, in order, without duplicates.

    `roots` are path prefixes to strip (the scratch tree and the build folder, each
    ending in '/'): a diagnostic names a file of the tree as the series does.
    """
    out: list[Diagnostic] = []
    seen: set[tuple[str, int, int | None, str, str]] = set()
    function: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.rstrip()
        if m := _IN_FUNCTION.match(line):
            function[_relative(m["file"], roots)] = m["function"]
            continue
        if line.endswith(": At top level:"):
            function[_relative(line[: -len(": At top level:")], roots)] = None
            continue
        m = _DIAG.match(line)
        if m is None:
            continue
        file = _relative(m["file"], roots)
        severity = "error" if m["severity"] == "fatal error" else m["severity"]
        col = int(m["col"]) if m["col"] else None
        ident = (file, int(m["line"]), col, severity, m["message"])
        if ident in seen:
            continue
        seen.add(ident)
        out.append(
            Diagnostic(
                file,
                int(m["line"]),
                col,
                severity,
                m["message"],
                m["option"],
                function.get(file),
            )
        )
    return out


_FAILED = re.compile(r"^make\[\d+\]: \*\*\* \[[^\]]*?:\d+: (?P<target>[^\]\s]+\.o)\] Error", re.M)


def failed_objects(text: str) -> list[str]:
    """Objects make says it could not build (`*** [scripts/Makefile.build:229: x.o] Error 1`)."""
    return [m["target"] for m in _FAILED.finditer(text)]


def missing_targets(text: str) -> list[str]:
    """Targets make had no rule for (an object kbuild does not know)."""
    return [m["target"] for m in _NO_RULE.finditer(text)]

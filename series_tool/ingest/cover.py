"""What a cover letter says about its series: the shortlog and the diffstat.

`git format-patch --cover-letter` writes both (the shortlog as `Author (N):` followed by
indented subjects, wrapped with a deeper indent; the diffstat as ` path | N +-`). When a
patch is missing from the mbox they still name it and the files it touched. This is
English and diffstat text, not C, so plain line matching is the right tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SHORTLOG_HEAD = re.compile(r"^\S.*\(\d+\):\s*$")
_DIFFSTAT = re.compile(r"^ (\S.*?)\s+\|\s+(?:\d+|Bin)")
_FUNCTION = re.compile(r"\b([A-Za-z_]\w*)\(\)")


@dataclass
class CoverSummary:
    subjects: list[str] = field(default_factory=list)  # shortlog, in patch order
    files: list[str] = field(default_factory=list)  # diffstat paths

    def subject_of(self, number: int) -> str | None:
        """The shortlog subject of patch `number` (1-based), when the shortlog has it."""
        return self.subjects[number - 1] if 0 < number <= len(self.subjects) else None


def summarise(text: str) -> CoverSummary:
    """Parse the shortlog(s) and the diffstat out of a cover letter's text."""
    out = CoverSummary()
    in_log = False
    indent = 0  # of the shortlog's entries: git uses 2 spaces, b4 6; wraps go deeper
    for line in text.splitlines():
        if _SHORTLOG_HEAD.match(line):
            in_log, indent = True, 0
            continue
        if in_log:
            depth = len(line) - len(line.lstrip(" "))
            if not line.strip():
                in_log = False
                continue
            if depth > 0 and not indent:
                indent = depth
            if depth > indent and out.subjects:
                out.subjects[-1] += " " + line.strip()  # a wrapped subject
                continue
            if depth == indent:
                out.subjects.append(line.strip())
                continue
        m = _DIFFSTAT.match(line)
        if m:
            out.files.append(m.group(1).strip())
    return out


def functions_named(subject: str) -> list[str]:
    """`name()` words of a subject, in order (how kernel subjects name functions)."""
    return _FUNCTION.findall(subject)

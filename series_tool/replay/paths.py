"""Which file names a patch may touch: git apply's rules (read-cache.c `verify_path`).

A name is refused when it could not be a file of any tree git checks out:

* absolute, or with an empty, `.` or `..` component;
* with a component that git would treat as `.git`: compared case-insensitively (git does
  so everywhere, "out of an abundance of caution"), with the characters HFS+ ignores
  removed (`is_hfs_dotgit`: zero-width joiners, direction marks, ...), and with NTFS's
  equivalents (`is_ntfs_dotgit`: trailing dots and spaces, the 8.3 short name `git~1`,
  an alternate data stream `.git::$INDEX_ALLOCATION`), and with `\\` as a separator
  (protectNTFS, git's default on every platform since 2.24).

Replaying, building or rewriting such a path would write into a repository's metadata
(`.git/hooks/...`, `.git/config`): the patch fails on that file with "invalid path".
"""

from __future__ import annotations

import re

#: Code points HFS+ ignores when comparing names (git's utf8.c `next_hfs_char`).
_HFS_IGNORED = re.compile(
    "[\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff]"
)


def _is_dotgit(component: str) -> bool:
    name = _HFS_IGNORED.sub("", component)
    name = name.split(":", 1)[0]  # NTFS: ".git::$INDEX_ALLOCATION" is ".git"
    name = name.rstrip(". ")  # NTFS: ".git.", ".git " and ".git . " open ".git"
    return name.casefold() in (".git", "git~1")


def invalid_path(path: str) -> str | None:
    """Why git apply would refuse the file name `path` ("invalid path"), or None."""
    if not path:
        return "an empty file name"
    if path.startswith(("/", "\\")):
        return "an absolute file name"
    # Only a component spelling "git" in some case, or with characters HFS+ ignores (not
    # ASCII), can be taken for ".git": other names skip that test (a series names
    # thousands of paths, each asked about several times).
    plain = path.isascii() and "git" not in path.lower()
    for component in path.replace("\\", "/").split("/"):
        if component == "":
            return "an empty component"
        if component in (".", ".."):
            return f"a {component!r} component"
        if not plain and _is_dotgit(component):
            return f"a {component!r} component (git's own metadata)"
    return None

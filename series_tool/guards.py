"""Where a line is built: its arch/ directory and the CONFIG_ options that guard it.

Callers under arch/<name>/ or behind #ifdef CONFIG_... are the ones a one-config build
misses. The #if nesting comes from tree-sitter's preprocessor nodes; the Makefile rule
(`obj-$(CONFIG_FOO) += file.o`) is read from the file's directory Makefile, which is
make syntax, not C.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from tree_sitter import Node

from series_tool.cparse import node_text, parse

_CONFIG = re.compile(r"\bCONFIG_[A-Za-z0-9_]+")


def arch_of(path: str) -> str | None:
    """`arch/arm/mm/fault-armv.c` -> `arm`; None outside arch/."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "arch" else None


def _condition_configs(node: Node) -> list[str]:
    """CONFIG_ names in an #if/#ifdef/#elif condition node (whole words of its text)."""
    if node.type in ("preproc_ifdef",):
        name = node.child_by_field_name("name")
        text = node_text(name) if name is not None else ""
        negated = node_text(node.children[0]).strip() == "#ifndef"
        return [("!" if negated else "") + c for c in _CONFIG.findall(text)]
    cond = node.child_by_field_name("condition")
    return _CONFIG.findall(node_text(cond)) if cond is not None else []


def _in_alternative(parent: Node, child: Node) -> bool:
    alt = parent.child_by_field_name("alternative")
    return alt is not None and alt.start_byte <= child.start_byte < alt.end_byte


def config_guards(text: str, line: int) -> list[str]:
    """CONFIG_ options of the #if/#ifdef blocks enclosing `line` (1-based), outermost first.

    A line in an #else branch gets the negated option (`!CONFIG_X`).
    """
    tree = parse(text.encode("utf-8", "surrogateescape"))
    row = line - 1
    lines = text.splitlines()
    # Start from the first token of the line: column 0 of an indented line is whitespace,
    # which belongs to no node but the root.
    col = len(lines[row]) - len(lines[row].lstrip()) if row < len(lines) else 0
    node: Node | None = tree.root_node.descendant_for_point_range((row, col), (row, col))
    guards: list[str] = []
    prev: Node | None = None
    while node is not None:
        if node.type in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else"):
            configs = _condition_configs(node) if node.type != "preproc_else" else []
            if prev is not None and _in_alternative(node, prev):
                pass  # the line is in the #else/#elif part; that node adds its own
            elif node.type != "preproc_else":
                guards.extend(reversed(configs))
            if node.type in ("preproc_else", "preproc_elif") and node.parent is not None:
                guards.extend(
                    "!" + c.lstrip("!") for c in reversed(_condition_configs(node.parent))
                )
        prev = node
        node = node.parent
    out: list[str] = []
    for g in reversed(guards):
        if g not in out:
            out.append(g)
    return out


def makefile_configs(path: str, read: Callable[[str], str | None]) -> list[str]:
    """CONFIG_ options of the `obj-$(CONFIG_X) += name.o` rule that builds `path`, if any."""
    directory, base = posixpath.split(path)
    if not base.endswith(".c"):
        return []
    makefile = read(posixpath.join(directory, "Makefile") if directory else "Makefile")
    if not makefile:
        return []
    obj = base[:-2] + ".o"
    joined = makefile.replace("\\\n", " ")  # make's line continuations
    out: list[str] = []
    for mline in joined.splitlines():
        if re.search(rf"(^|\s){re.escape(obj)}(\s|$)", mline) and "+=" in mline:
            for c in _CONFIG.findall(mline.split("+=")[0]):
                if c not in out:
                    out.append(c)
    return out


def where_built(
    path: str, line: int, read: Callable[[str], str | None]
) -> tuple[str | None, list[str]]:
    """(arch directory, CONFIG_ guards) for a line of a file in the tree read by `read`."""
    configs: list[str] = []
    text = read(path)
    if text is not None and path.endswith((".c", ".h")):
        configs.extend(config_guards(text, line))
    for c in makefile_configs(path, read):
        if c not in configs:
            configs.append(c)
    return arch_of(path), configs

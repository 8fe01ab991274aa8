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
from dataclasses import dataclass, field

from tree_sitter import Node, Tree

from series_tool.model import is_c_path, node_text, parse

_CONFIG = re.compile(r"\bCONFIG_[A-Za-z0-9_]+")


def arch_of(path: str) -> str | None:
    """`arch/arm/mm/fault-armv.c` -> `arm`; None outside arch/."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "arch" else None


_CONFIG_TESTS = frozenset({"IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE", "defined"})


def _negate(guard: str) -> str:
    if guard.startswith("!") and " " not in guard:
        return guard[1:]
    return f"!{guard}" if " " not in guard else f"!({guard})"


def _describe(cond: Node) -> str | None:
    """A condition as a guard: `CONFIG_X`, `!CONFIG_X`, or the whole expression when it
    combines several tests (`CONFIG_A && CONFIG_B`); None when it names no CONFIG_."""
    text = " ".join(node_text(cond).split())
    if not _CONFIG.search(text):
        return None
    node = cond
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    if node.type == "unary_expression" and node_text(node.children[0]) == "!":
        operand = node.child_by_field_name("argument")
        inner = _describe(operand) if operand is not None else None
        return _negate(inner) if inner is not None else f"!({text})"
    if node.type == "identifier":
        return node_text(node)
    if node.type == "preproc_defined":
        names = [c for c in node.named_children if c.type == "identifier"]
        return node_text(names[0]) if len(names) == 1 else text
    if node.type == "call_expression":
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is not None and node_text(fn) in _CONFIG_TESTS and args is not None:
            tested = [c for c in args.named_children if c.type == "identifier"]
            if len(tested) == 1 and len(args.named_children) == 1:
                return node_text(tested[0])
    return " ".join(node_text(node).split())


def _condition(node: Node) -> str | None:
    """The guard an #if/#ifdef/#ifndef/#elif node puts on its first branch."""
    if node.type == "preproc_ifdef":
        name = node.child_by_field_name("name")
        if name is None or not _CONFIG.fullmatch(node_text(name)):
            return None
        negated = node_text(node.children[0]).strip() == "#ifndef"
        return ("!" if negated else "") + node_text(name)
    cond = node.child_by_field_name("condition")
    return _describe(cond) if cond is not None else None


def _in_alternative(parent: Node, child: Node) -> bool:
    alt = parent.child_by_field_name("alternative")
    return alt is not None and alt.start_byte <= child.start_byte < alt.end_byte


@dataclass
class GuardMemo:
    """What :func:`where_built` learned of each file text, kept by a caller that asks
    about many lines (a removal with thousands of remaining uses): each text is parsed,
    and each Makefile rule looked up, once."""

    trees: dict[str, Tree] = field(default_factory=dict)
    makefile_rules: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def config_guards(text: str, line: int, memo: GuardMemo | None = None) -> list[str]:
    """CONFIG_ guards of the #if/#ifdef blocks enclosing `line` (1-based), outermost first.

    Each is `CONFIG_X`, `!CONFIG_X` (an #ifndef, or the #else of `#if CONFIG_X`), or a
    whole expression such as `CONFIG_A && CONFIG_B` / `!(CONFIG_A && CONFIG_B)` when the
    condition combines several tests: negating those one by one would be wrong.
    """
    tree = memo.trees.get(text) if memo is not None else None
    if tree is None:
        tree = parse(text.encode("utf-8", "surrogateescape"))
        if memo is not None:
            memo.trees[text] = tree
    row = line - 1
    # Lines as tree-sitter counts them (`splitlines` would also end one at a form feed,
    # which kernel sources have between sections), up to the one asked about.
    lines = text.split("\n", row + 1)
    # Start from the first token of the line: column 0 of an indented line is whitespace,
    # which belongs to no node but the root.
    col = len(lines[row]) - len(lines[row].lstrip()) if row < len(lines) else 0
    node: Node | None = tree.root_node.descendant_for_point_range((row, col), (row, col))
    guards: list[str] = []  # innermost first
    prev: Node | None = None
    while node is not None:
        if node.type in ("preproc_if", "preproc_ifdef", "preproc_elif"):
            cond = _condition(node)
            if prev is not None and _in_alternative(node, prev):
                if cond is not None:
                    guards.append(_negate(cond))  # in its #else / #elif part
            elif cond is not None:
                guards.append(cond)
        prev = node
        node = node.parent
    out: list[str] = []
    for g in reversed(guards):
        if g not in out:
            out.append(g)
    return out


def object_of(path: str) -> str:
    """The kbuild object of a .c file (`drivers/x/y.c` -> `drivers/x/y.o`)."""
    return path.removesuffix(".c") + ".o"


def makefile_configs(
    path: str, read: Callable[[str], str | None], memo: GuardMemo | None = None
) -> list[str]:
    """CONFIG_ options of the `obj-$(CONFIG_X) += name.o` rule that builds `path`, if any."""
    directory, base = posixpath.split(path)
    if not base.endswith(".c"):
        return []
    makefile = read(posixpath.join(directory, "Makefile") if directory else "Makefile")
    if not makefile:
        return []
    obj = object_of(base)
    if memo is None:
        return _rule_configs(makefile, obj)
    key = (makefile, obj)
    if key not in memo.makefile_rules:
        memo.makefile_rules[key] = _rule_configs(makefile, obj)
    return list(memo.makefile_rules[key])


def _rule_configs(makefile: str, obj: str) -> list[str]:
    joined = makefile.replace("\\\n", " ")  # make's line continuations
    out: list[str] = []
    for mline in joined.splitlines():
        if re.search(rf"(^|\s){re.escape(obj)}(\s|$)", mline) and "+=" in mline:
            for c in _CONFIG.findall(mline.split("+=")[0]):
                if c not in out:
                    out.append(c)
    return out


def where_built(
    path: str, line: int, read: Callable[[str], str | None], memo: GuardMemo | None = None
) -> tuple[str | None, list[str]]:
    """(arch directory, CONFIG_ guards) for a line of a file in the tree read by `read`
    (``memo``: see :class:`GuardMemo`)."""
    configs: list[str] = []
    text = read(path)
    if text is not None and is_c_path(path):
        configs.extend(config_guards(text, line, memo))
    for c in makefile_configs(path, read, memo):
        if c not in configs:
            configs.append(c)
    return arch_of(path), configs

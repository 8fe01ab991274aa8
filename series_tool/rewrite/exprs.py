"""Small questions about C expressions, answered with tree-sitter: parse one, abstract the
caller's values out of it, list its free names, and evaluate integer conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tree_sitter import Node

from series_tool.model import node_text, parse

from .ctree import walk

_HEAD = b"void __series_tool_expr__(void)\n{\n\t("
_TAIL = b");\n}\n"

#: Placeholder for the i-th argument of the old call inside a learned template.
HOLE = "\x00{}\x00"

_LITERALS = frozenset({"number_literal", "string_literal", "char_literal", "concatenated_string"})


class NotEvaluable(Exception):
    """The expression uses something the evaluator does not model."""


def expression(text: str) -> Node | None:
    """The tree-sitter node of one C expression (None when it does not parse alone)."""
    tree = parse(_HEAD + text.encode("utf-8", "surrogateescape") + _TAIL)
    for node in walk(tree.root_node):
        if node.type == "parenthesized_expression" and node.start_byte == len(_HEAD) - 1:
            if node.has_error or not node.named_children:
                return None
            return node.named_children[0]
    return None


def norm(text: str) -> str:
    """Whitespace-free form of an expression text (for comparing two spellings)."""
    return "".join(text.split())


def abstract(
    value: str, old_args: tuple[str, ...] | list[str], same: int | None = None
) -> tuple[str, set[str], bool]:
    """(template, free identifiers, has literal) of `value` with every sub-expression equal
    to an old argument replaced by that argument's hole.

    `dev->name` with old args (`dev`, ...) gives (HOLE(0) + "->name", {}, False); a
    string literal gives itself, no names, True. `same` is the index of the old argument
    the prototypes pair with this parameter: passed on unchanged, even a literal is its
    hole.
    """
    if same is not None and same < len(old_args) and norm(old_args[same]) == norm(value):
        return HOLE.format(same), set(), False  # the old argument passed on as it was
    node = expression(value)
    wanted = {norm(a): i for i, a in reversed(list(enumerate(old_args)))}
    if node is None:
        return value, set(), True
    out: list[str] = []
    names: set[str] = set()
    literal = False
    data = node_text(node)
    base = node.start_byte
    pos = 0

    def visit(n: Node) -> None:
        nonlocal pos, literal
        i = wanted.get(norm(node_text(n)))
        if i is not None and n.type not in _LITERALS:
            out.append(data[pos : n.start_byte - base])
            out.append(HOLE.format(i))
            pos = n.end_byte - base
            return
        if n.type in _LITERALS:
            literal = True
        if n.type == "identifier":
            names.add(node_text(n))
        if n.type == "field_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None:
                visit(arg)
            return  # the field name is not a free name
        for c in n.children:
            visit(c)

    visit(node)
    out.append(data[pos:])
    return " ".join("".join(out).split()), names, literal


def fill(template: str, args: list[str]) -> str | None:
    """The template with each hole replaced by the caller's argument (None: missing one)."""
    out = template
    for i, arg in enumerate(args):
        out = out.replace(HOLE.format(i), arg)
    return None if "\x00" in out else out


_BINARY: Mapping[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b),
    ">=": lambda a, b: int(a >= b),
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "&&": lambda a, b: int(bool(a) and bool(b)),
    "||": lambda a, b: int(bool(a) or bool(b)),
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
}


def evaluate(node: Node, env: Mapping[str, int]) -> int:
    """The integer value of an expression over `env` (names bound to integers)."""
    t = node.type
    if t == "number_literal":
        try:
            return int(node_text(node).rstrip("uUlL"), 0)
        except ValueError as exc:
            raise NotEvaluable(node_text(node)) from exc
    if t == "identifier":
        name = node_text(node)
        if name in env:
            return env[name]
        raise NotEvaluable(name)
    if t in ("true", "false"):
        return int(t == "true")
    if t == "parenthesized_expression" and node.named_children:
        return evaluate(node.named_children[0], env)
    if t == "unary_expression":
        op = node.child_by_field_name("operator")
        arg = node.child_by_field_name("argument")
        if op is None or arg is None:
            raise NotEvaluable(node_text(node))
        v = evaluate(arg, env)
        ops = {"!": int(not v), "-": -v, "+": v, "~": ~v}
        if node_text(op) not in ops:
            raise NotEvaluable(node_text(node))
        return ops[node_text(op)]
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or left is None or right is None or node_text(op) not in _BINARY:
            raise NotEvaluable(node_text(node))
        return _BINARY[node_text(op)](evaluate(left, env), evaluate(right, env))
    if t == "conditional_expression":
        cond = node.child_by_field_name("condition")
        yes = node.child_by_field_name("consequence")
        no = node.child_by_field_name("alternative")
        if cond is None or yes is None or no is None:
            raise NotEvaluable(node_text(node))
        return evaluate(yes, env) if evaluate(cond, env) else evaluate(no, env)
    raise NotEvaluable(node_text(node))

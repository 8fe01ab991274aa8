"""Choose the new variant for one call site by analysing its caller (tree-sitter only).

The pointer returned by the old call is tracked through the caller: the variable or field it
is assigned to, plain aliases (`pte = start_pte`), writes through it (`*pte = x`, write ops
from the rules taking it), escapes (stored through another pointer, returned) and calls that
pass it to static functions of the same file, which are analysed the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Tree

from series_tool.model import node_text
from series_tool.models import Migration, Series

from .conversion import SeriesSite, series_sites
from .ctree import declarator_name, identifiers_named, parse_text, walk
from .rules import MigrationRule, Rules


@dataclass(frozen=True)
class Choice:
    """The variant chosen for one call site, and why."""

    variant: str
    reason: str
    needs_review: tuple[str, ...] = ()
    #: the items of `needs_review` the tool is not sure of (not a rules' checklist)
    doubts: tuple[str, ...] = ()
    #: False when nothing decides among the variants (the site is not generated)
    decided: bool = True


@dataclass
class Usage:
    """What a caller does with the returned pointer."""

    tracked: str | None = None  # what the result is assigned to ("pte", "vmf->pte")
    writes: list[str] = field(default_factory=list)
    escapes: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)  # calls that only take it (pte_unmap ...)
    unknown: list[str] = field(default_factory=list)  # things the analysis could not follow
    #: every function the pointer is passed to, here or in followed static callees
    callees: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Disagreement:
    """A site the series converted to a variant the analysis would not choose."""

    file: str
    function: str | None
    line: int | None
    patch: int | None
    series_chose: str
    analysis_says: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "function": self.function,
            "line": self.line,
            "patch": self.patch,
            "series_chose": self.series_chose,
            "analysis_says": self.analysis_says,
            "reason": self.reason,
        }


# --------------------------------------------------------------------------- tree helpers


def function_name(fn: Node) -> str | None:
    """Name of a function_definition node."""
    return declarator_name(fn.child_by_field_name("declarator"))


def enclosing_function(node: Node) -> Node | None:
    """The function_definition around `node`."""
    cur: Node | None = node
    while cur is not None and cur.type != "function_definition":
        cur = cur.parent
    return cur


def find_calls(root: Node, name: str) -> list[Node]:
    """call_expression nodes calling the identifier `name`, in source order."""
    out = []
    for ident in identifiers_named(root, name):
        call = ident.parent
        if call is not None and call.type == "call_expression":
            fn = call.child_by_field_name("function")
            if fn is not None and fn.id == ident.id:
                out.append(call)
    return out


def call_at(root: Node, name: str, line: int) -> Node | None:
    """The call of `name` whose callee identifier is on 1-based `line` (else nearest)."""
    calls = find_calls(root, name)
    if not calls:
        return None

    def row(c: Node) -> int:
        fn = c.child_by_field_name("function")
        return (fn or c).start_point[0] + 1

    exact = [c for c in calls if row(c) == line]
    return exact[0] if exact else min(calls, key=lambda c: abs(row(c) - line))


def static_functions(root: Node) -> dict[str, Node]:
    """Function definitions with `static` storage in the file (callees we can follow)."""
    out: dict[str, Node] = {}
    # Definitions may sit inside #if/#else blocks; descend into those, not into bodies.
    stack = list(reversed(root.named_children))
    while stack:
        n = stack.pop()
        if n.type.startswith("preproc_") or n.type == "linkage_specification":
            stack.extend(reversed(n.named_children))
            continue
        if n.type != "function_definition":
            continue
        if any(
            c.type == "storage_class_specifier" and node_text(c) == "static" for c in n.children
        ):
            name = function_name(n)
            if name:
                out.setdefault(name, n)
    return out


def _norm(node: Node) -> str:
    return "".join(node_text(node).split())


def _line(node: Node) -> int:
    return node.start_point[0] + 1


# --------------------------------------------------------------------------- analysis


@dataclass
class _Tracker:
    names: set[str]  # variables holding the pointer
    exprs: set[str]  # field expressions holding it ("vmf.pte"), whitespace removed
    carriers: set[str]  # local structs whose field holds it

    def mentions(self, node: Node) -> bool:
        """Does `node` evaluate to (something derived from) the tracked pointer?

        A dereference, subscript or call result is a value, not the pointer, so the
        search stops there.
        """
        if node.type == "identifier":
            return node_text(node) in self.names
        if node.type == "field_expression":
            return _norm(node) in self.exprs
        if node.type == "pointer_expression" and node.child_by_field_name("operator") is not None:
            op = node.child_by_field_name("operator")
            if op is not None and node_text(op) == "*":
                return False
        if node.type in ("subscript_expression", "call_expression", "sizeof_expression"):
            return False
        op = node.child_by_field_name("operator")
        # Comparisons and logic give a truth value, not the pointer.
        if (
            node.type in ("binary_expression", "unary_expression")
            and op is not None
            and node_text(op) in ("==", "!=", "<", ">", "<=", ">=", "&&", "||", "!")
        ):
            return False
        return any(self.mentions(c) for c in node.named_children)

    def carried(self, node: Node) -> bool:
        """Does `node` mention a local struct that holds the pointer?"""
        return any(n.type == "identifier" and node_text(n) in self.carriers for n in walk(node))


def _strip(node: Node) -> Node:
    """Skip parentheses and casts around an expression."""
    while node.type in ("parenthesized_expression", "cast_expression"):
        inner = node.child_by_field_name("value") or (
            node.named_children[-1] if node.named_children else None
        )
        if inner is None:
            break
        node = inner
    return node


def _store(left: Node, tr: _Tracker, usage: Usage, where: str) -> None:
    """The pointer is assigned to `left`: track it, or record the escape."""
    left = _strip(left)
    text = node_text(left)
    if left.type == "identifier":
        tr.names.add(text)
    elif left.type == "field_expression":
        op = left.child_by_field_name("operator")
        tr.exprs.add(_norm(left))
        if op is not None and node_text(op) == "->":
            usage.escapes.append(f"stored in {text} through a pointer ({where})")
        else:
            base = left.child_by_field_name("argument")
            if base is not None and base.type == "identifier":
                tr.carriers.add(node_text(base))
            usage.unknown.append(f"stored in the local {text} ({where})")
    else:
        usage.escapes.append(f"stored through {text} ({where})")


def _through(target: Node, tr: _Tracker) -> bool:
    """Does storing to the lvalue `target` write what the tracked pointer points to?
    (`*p`, `p[i]`, `p->f`, `(*p).f`, `p->a.b[2]`; not `p` itself, not a local copy.)"""
    node = _strip(target)
    while True:
        arg = node.child_by_field_name("argument")
        if arg is None:
            return False
        op = node.child_by_field_name("operator")
        if node.type == "field_expression":
            if op is not None and node_text(op) == "->":
                return tr.mentions(arg)
        elif node.type == "pointer_expression":
            return op is not None and node_text(op) == "*" and tr.mentions(arg)
        elif node.type == "subscript_expression":
            if tr.mentions(arg):
                return True
        else:
            return False
        node = _strip(arg)  # x.f or a[i]: the write lands in whatever x or a is


def analyse(
    fn: Node,
    start: int,
    tr: _Tracker,
    rule: MigrationRule | None,
    statics: dict[str, Node],
    path: str,
    depth: int,
    usage: Usage,
    visited: frozenset[str] = frozenset(),
) -> None:
    """Record in `usage` what `fn` does, from byte `start` on, with the tracked pointer."""
    body = fn.child_by_field_name("body")
    if body is None:
        return
    fname = function_name(fn) or "?"
    for node in walk(body):
        if node.start_byte < start:
            continue
        where = f"{path}:{_line(node)}"
        if node.type == "assignment_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                continue
            if tr.mentions(right):
                _store(left, tr, usage, where)
            if _through(left, tr):
                usage.writes.append(f"{fname}() writes {node_text(_strip(left))} ({where})")
        elif node.type == "init_declarator":
            value = node.child_by_field_name("value")
            name = declarator_name(node.child_by_field_name("declarator"))
            if value is not None and name and tr.mentions(value):
                tr.names.add(name)
        elif node.type == "return_statement":
            value = node.named_children[0] if node.named_children else None
            if value is not None and tr.mentions(_strip(value)):
                usage.escapes.append(f"{fname}() returns it ({where})")
        elif node.type == "update_expression":
            # pte++ walks the table (still the same pointer); s->n++ writes through it
            target = node.child_by_field_name("argument")
            if target is not None and _through(target, tr):
                usage.writes.append(f"{fname}() writes {node_text(_strip(target))} ({where})")
        elif node.type == "call_expression":
            _call(node, tr, rule, statics, path, depth, usage, visited | {fname}, where)


def _call(
    node: Node,
    tr: _Tracker,
    rule: MigrationRule | None,
    statics: dict[str, Node],
    path: str,
    depth: int,
    usage: Usage,
    visited: frozenset[str],
    where: str,
) -> None:
    callee = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if callee is None or args is None or callee.type != "identifier":
        return
    name = node_text(callee)
    for index, arg in enumerate(args.named_children):
        if tr.mentions(arg):
            usage.callees.add(name)
            if rule is not None and rule.is_write_op(name):
                usage.writes.append(f"{name}({node_text(arg)}) ({where})")
            elif name in statics and name not in visited and rule and depth < rule.follow_depth:
                target = statics[name]
                param = _param_name(target, index)
                if param is None:
                    usage.unknown.append(f"passed to {name}() with no matching parameter")
                    continue
                inner = Usage()
                analyse(
                    target,
                    0,
                    _Tracker({param}, set(), set()),
                    rule,
                    statics,
                    path,
                    depth + 1,
                    inner,
                    visited,
                )
                for w in inner.writes:
                    usage.writes.append(f"via static {name}(): {w}")
                for e in inner.escapes:
                    usage.escapes.append(f"via static {name}(): {e}")
                usage.reads.extend(inner.reads)
                usage.unknown.extend(inner.unknown)
                usage.callees |= inner.callees
                if not inner.writes and not inner.escapes:
                    usage.reads.append(f"{name}()")
            elif rule is not None and rule.unknown_is_write and rule.is_unknown_op(name):
                usage.writes.append(
                    f"{name}({node_text(arg)}) ({where}; no reader in the series calls it)"
                )
            else:
                usage.reads.append(f"{name}()")
        elif tr.carriers and tr.carried(arg):
            usage.unknown.append(
                f"{node_text(arg)}, which holds the pointer, is passed to {name}() ({where})"
            )


def _param_name(fn: Node, index: int) -> str | None:
    decl = fn.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    if decl is None:
        return None
    plist = decl.child_by_field_name("parameters")
    params = [p for p in plist.named_children if p.type == "parameter_declaration"] if plist else []
    if index >= len(params):
        return None
    return declarator_name(params[index].child_by_field_name("declarator"))


def usage_at(
    text: str,
    path: str,
    line: int,
    old: str,
    rule: MigrationRule | None,
    tree: Tree | None = None,
) -> Usage:
    """What the caller of `old` at `path:line` does with the returned pointer.

    `tree` is `parse_text(text)` when the caller already has it."""
    tree = tree or parse_text(text)
    usage = Usage()
    call = call_at(tree.root_node, old, line)
    fn = enclosing_function(call) if call is not None else None
    if call is None or fn is None:
        usage.unknown.append(f"no call of {old}() inside a function at {path}:{line}")
        return usage
    tr = _Tracker(set(), set(), set())
    parent = call.parent
    while parent is not None and parent.type in ("parenthesized_expression", "cast_expression"):
        parent = parent.parent
    where = f"{path}:{line}"
    if parent is not None and parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        if left is not None:
            usage.tracked = node_text(left)
            _store(left, tr, usage, where)
    elif parent is not None and parent.type == "init_declarator":
        usage.tracked = declarator_name(parent.child_by_field_name("declarator"))
        if usage.tracked:
            tr.names.add(usage.tracked)
    elif parent is not None and parent.type == "return_statement":
        usage.escapes.append(f"{function_name(fn)}() returns it ({where})")
    statics = static_functions(tree.root_node)
    analyse(fn, call.end_byte, tr, rule, statics, path, 0, usage)
    return usage


def _few(items: list[str], keep: int = 3) -> str:
    """The first few items (reasons stay readable when a caller writes in many places)."""
    more = f"; and {len(items) - keep} more" if len(items) > keep else ""
    return "; ".join(items[:keep]) + more


def choose_variant(
    text: str,
    path: str,
    line: int,
    old: str,
    variants: list[str],
    rule: MigrationRule | None,
    tree: Tree | None = None,
) -> Choice:
    """Pick the variant for the call of `old` at `path:line`, with the reason."""
    if len(variants) == 1:
        return Choice(variants[0], f"{variants[0]}() is the only replacement of {old}()")
    if rule is None or rule.reader is None or rule.writer is None:
        return Choice(
            variants[0],
            f"nothing tells which of {', '.join(v + '()' for v in variants)} this caller "
            "needs (no rules, and the series' own conversions do not show it)",
            decided=False,
        )
    usage = usage_at(text, path, line, old, rule, tree)
    held = usage.tracked or "the returned pointer"
    unknown = [f"{u}: check it is only read" for u in usage.unknown]

    def choice(variant: str, reason: str, doubt: str, checklist: str) -> Choice:
        doubts = [f"{doubt} ({path}:{line})"] if doubt else []
        doubts += unknown
        listed = [f"{checklist} ({path}:{line})"] if checklist else []
        return Choice(variant, reason, tuple([*doubts[:1], *listed, *doubts[1:]]), tuple(doubts))

    if usage.writes or (usage.escapes and rule.escape_is_write):
        why = [f"writes: {_few(usage.writes)}"] if usage.writes else []
        if usage.escapes and rule.escape_is_write:
            why.append(f"escapes: {_few(usage.escapes)}")
        reason = f"{held} may be written after the call ({' / '.join(why)})"
        return choice(rule.writer, reason, rule.writer_doubt, rule.writer_review)
    reads = sorted(set(usage.reads))
    read_txt = f"only passed to {', '.join(reads)}" if reads else "not passed to any write op"
    reason = f"{held} is only read after the call ({read_txt}; no write, no escape)"
    return choice(rule.reader, reason, rule.reader_doubt, rule.reader_review)


def check_series_choices(
    series: Series,
    migration: Migration,
    read: Callable[[str], str | None],
    rules: Rules | None,
) -> list[Disagreement]:
    """Run the analysis on the callers the series converts and report where it disagrees.

    `read(path)` gives the file before the series; each converted call is found there by its
    arguments (whitespace ignored) in the function the hunk names.
    """
    out: list[Disagreement] = []
    for old in migration.old:
        rule = rules.for_migration(old, migration.new) if rules else None
        if rule is None or rule.reader is None or rule.writer is None:
            continue
        for site, text, line, tree in located_sites(series, old, migration.new, read):
            choice = choose_variant(text, site.file, line, old, list(rule.variants), rule, tree)
            if choice.variant != site.new:
                out.append(
                    Disagreement(
                        file=site.file,
                        function=site.function,
                        line=line,
                        patch=site.patch,
                        series_chose=site.new,
                        analysis_says=choice.variant,
                        reason=choice.reason,
                    )
                )
    return out


def located_sites(
    series: Series, old: str, new: list[str], read: Callable[[str], str | None]
) -> Iterator[tuple[SeriesSite, str, int, Tree]]:
    """The series' converted calls of `old` found in the files before the series, with the
    file text, the call's line there and the file's tree (each file is parsed once, however
    many sites it has). Sites whose file or line is unknown are left out."""
    trees: dict[str, Tree] = {}
    for site in series_sites(series, old, new):
        text = read(site.file)
        if text is None or site.line is None:
            continue
        tree = trees.get(site.file)
        if tree is None:
            tree = trees[site.file] = parse_text(text)
        yield site, text, _locate(text, old, site.old_args, site.line, tree), tree


def _locate(text: str, old: str, args: tuple[str, ...], hint: int, tree: Tree | None = None) -> int:
    """Line of the call of `old` with these arguments nearest to `hint` (lines may shift)."""
    tree = tree or parse_text(text)
    want = ["".join(a.split()) for a in args]
    best: int | None = None
    for call in find_calls(tree.root_node, old):
        a = call.child_by_field_name("arguments")
        got = [_norm(x) for x in a.named_children if x.type != "comment"] if a else []
        if got == want:
            row = _line(call)
            if best is None or abs(row - hint) < abs(best - hint):
                best = row
    return best if best is not None else hint

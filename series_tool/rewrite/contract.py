"""The return contract: how the old function's result relates to the new one's, learned from
the series, and what that means for a caller's test of the result.

Two sources, both from the series: the old function kept as a wrapper of the new one
(`int ret = new(...); return ret > 0 ? 0 : ret;`), evaluated on sample results; and the
series' own conversions, which show how the test of the result changed (`if (ret)` ->
`if (ret < 0)`) and which tests it keeps with the new function. A caller's test is then
rewritten to the shape that means the same, left as it is when it already does, and
otherwise the site goes to review: never a test whose meaning changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from series_tool.model import is_c_path, node_text
from series_tool.models import Series

from .ctree import declarator_name, parse_text, top_level_functions, walk
from .exprs import HOLE, NotEvaluable, abstract, evaluate, expression, fill

#: Results of the new function tried when comparing tests (errors, zero, counts).
SAMPLES = (-22, -1, 0, 1, 2, 7)
#: Shapes of a test of a result, tried after the series' own.
_STANDARD = ("$ < 0", "$ <= 0", "!$", "$", "$ > 0", "$ >= 0", "$ == 0", "$ != 0")
_R = "__series_tool_result__"


def _shape(text: str) -> str:
    return text.replace("$", HOLE.format(0))


def _show(shape: str, name: str) -> str:
    return fill(shape, [name]) or shape


@dataclass
class ResultMap:
    """What the series teaches about the result of `new` replacing `old`."""

    old: str
    new: str
    #: old's result for each of SAMPLES as the new result (None: not known)
    old_of_new: tuple[int, ...] | None = None
    #: (test before, test after) the series' conversions changed, result as hole 0
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: tests the series' conversions use on the new result
    valid: list[str] = field(default_factory=list)
    source: str = ""
    #: templates of the new call's arguments over the old parameters (from a wrapper)
    args: list[tuple[str, frozenset[str]]] | None = None

    @property
    def changed(self) -> bool:
        """Whether a caller's use of the result may mean something else now."""
        if self.old_of_new is not None:
            return self.old_of_new != SAMPLES
        return any(a != b for a, b in self.pairs)


def _truth(shape: str, results: tuple[int, ...]) -> tuple[bool, ...] | None:
    node = expression(fill(shape, [_R]) or "")
    if node is None:
        return None
    try:
        return tuple(bool(evaluate(node, {_R: r})) for r in results)
    except NotEvaluable:
        return None


def new_test(rm: ResultMap, shape: str) -> tuple[str | None, str]:
    """The test of the new result meaning what `shape` meant of the old one, and why.

    None when only a person can tell.
    """
    if rm.old_of_new is not None:
        want = _truth(shape, rm.old_of_new)
        if want is None:
            return None, f"the test `{_show(shape, 'result')}` cannot be evaluated"
        for cand in [shape, *(b for _, b in rm.pairs), *rm.valid, *map(_shape, _STANDARD)]:
            if _truth(cand, SAMPLES) == want:
                return cand, f"{rm.source}"
        return None, f"no test of the new result means what `{_show(shape, 'result')}` meant"
    for before, after in rm.pairs:
        if before == shape:
            return after, "as the series' own conversions changed it"
    if shape in rm.valid or any(shape == b for _, b in rm.pairs) or not rm.changed:
        return shape, "the series' own conversions test the result the same way"
    return None, (
        f"the series' conversions change how the result is tested "
        f"({'; '.join(f'`{_show(a, chr(36))}` -> `{_show(b, chr(36))}`' for a, b in rm.pairs)})"
        f", but not `{_show(shape, 'result')}`"
    )


# --------------------------------------------------------------------------- learning


def _definitions(text: str, name: str) -> Iterator[Node]:
    """The definitions of function `name` in the file text (file scope, #if blocks too)."""
    tree = parse_text(text)
    for node in top_level_functions(tree.root_node):
        decl = node.child_by_field_name("declarator")
        while decl is not None and decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        if decl is not None and declarator_name(decl.child_by_field_name("declarator")) == name:
            yield node


def _params(fn: Node) -> list[str]:
    decl = fn.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    plist = decl.child_by_field_name("parameters") if decl is not None else None
    out = []
    for p in plist.named_children if plist is not None else []:
        if p.type == "parameter_declaration":
            out.append(declarator_name(p.child_by_field_name("declarator")) or "")
    return out


def _wrapper(
    fn: Node, new: str
) -> tuple[tuple[int, ...] | None, list[tuple[str, frozenset[str]]]] | None:
    """(old result per sample, argument templates) when `fn` only forwards to `new`."""
    body = fn.child_by_field_name("body")
    stmts = [c for c in (body.named_children if body else []) if c.type != "comment"]
    params = _params(fn)
    if body is None:
        return None
    calls = [
        n
        for n in walk(body)
        if n.type == "call_expression"
        and (f := n.child_by_field_name("function")) is not None
        and node_text(f) == new
    ]
    if len(calls) != 1:
        return None
    call = calls[0]
    args_node = call.child_by_field_name("arguments")
    args: list[tuple[str, frozenset[str]]] = []
    for a in args_node.named_children if args_node else []:
        template, names, _ = abstract(node_text(a), params)
        args.append((template, frozenset(names)))
    if len(stmts) == 1 and stmts[0].type == "return_statement":
        value = stmts[0].named_children[0] if stmts[0].named_children else None
        return (SAMPLES, args) if value is not None and value.id == call.id else None
    if len(stmts) != 2 or stmts[1].type != "return_statement":
        return None
    holder: str | None = None
    first = stmts[0]
    if first.type == "declaration":
        for d in first.named_children:
            v = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if v is not None and v.id == call.id:
                holder = declarator_name(d.child_by_field_name("declarator"))
    elif first.type == "expression_statement" and first.named_children:
        a = first.named_children[0]
        r = a.child_by_field_name("right") if a.type == "assignment_expression" else None
        left = a.child_by_field_name("left")
        if r is not None and r.id == call.id and left is not None:
            holder = node_text(left)
    ret = stmts[1].named_children[0] if stmts[1].named_children else None
    if holder is None or ret is None:
        return None
    try:
        return tuple(evaluate(ret, {holder: r}) for r in SAMPLES), args
    except NotEvaluable:
        return (None, args)


def _texts(series: Series, read: Callable[[str], str | None]) -> Iterator[tuple[str, str]]:
    """(where, C text) of the series' hunks (pre- and post-images) and touched files."""
    for patch in series.patches:
        for fd in patch.files:
            if not is_c_path(fd.path):
                continue
            for hunk in fd.hunks:
                where = f"patch {patch.number}"
                yield where, "\n".join(hunk.preimage()) + "\n"
                yield where, "\n".join(hunk.postimage()) + "\n"
    for path in dict.fromkeys(fd.path for p in series.patches for fd in p.files):
        if is_c_path(path) and (text := read(path)) is not None:
            yield path, text


def _result_name(call: Node) -> str | None:
    parent = call.parent
    while parent is not None and parent.type in ("parenthesized_expression", "cast_expression"):
        parent = parent.parent
    if parent is not None and parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        return node_text(left) if left is not None else None
    if parent is not None and parent.type == "init_declarator":
        return declarator_name(parent.child_by_field_name("declarator"))
    return None


def _tests_after(root: Node, symbol: str) -> list[str]:
    """Shapes of the `if` tests of the result of each call of `symbol`, in order."""
    out: list[str] = []
    for call in walk(root):
        if call.type != "call_expression":
            continue
        f = call.child_by_field_name("function")
        if f is None or node_text(f) != symbol:
            continue
        name = _result_name(call)
        if name is None:
            continue
        for n in walk(root):
            if n.start_byte > call.end_byte and n.type == "if_statement":
                cond = n.child_by_field_name("condition")
                inner = cond.named_children[0] if cond and cond.named_children else None
                if inner is not None:
                    shape, _, _ = abstract(node_text(inner), [name])
                    if HOLE.format(0) in shape:
                        out.append(shape)
                        break
    return out


def _fragment(text: str) -> Node:
    src = "void __series_tool_fragment__(void)\n{\n" + text + "\n}\n"
    return parse_text(src).root_node


def learn_result_map(
    series: Series, old: str, new: str, read: Callable[[str], str | None]
) -> ResultMap:
    """What the series teaches about the result of `new` where `old` was called."""
    rm = ResultMap(old=old, new=new)
    for where, text in _texts(series, read):
        if old not in text or new not in text:
            continue
        for fn in _definitions(text, old):
            found = _wrapper(fn, new)
            if found is not None:
                rm.old_of_new, rm.args = found
                rm.source = f"{old}() returns what {new}() returns as its wrapper shows ({where})"
                break
        if rm.args is not None:
            break
    for patch in series.patches:
        for fd in patch.files:
            if not is_c_path(fd.path):
                continue
            for hunk in fd.hunks:
                minus = [ln.text for ln in hunk.lines if ln.kind == "-"]
                if not any(old in t for t in minus):
                    continue
                before = _tests_after(_fragment("\n".join(hunk.preimage())), old)
                after = _tests_after(_fragment("\n".join(hunk.postimage())), new)
                for b, a in zip(before, after, strict=False):
                    if a not in rm.valid:
                        rm.valid.append(a)
                    if a != b and (b, a) not in rm.pairs:
                        rm.pairs.append((b, a))
    return rm


# --------------------------------------------------------------------------- at a site


@dataclass
class SiteContract:
    """What to change at one call site for the result, or why a person must decide."""

    edits: list[tuple[int, int, bytes]] = field(default_factory=list)
    review: str | None = None
    note: str = ""


def _statement(node: Node) -> Node | None:
    cur: Node | None = node
    while cur is not None and cur.parent is not None and cur.parent.type != "compound_statement":
        cur = cur.parent
    return cur


def _reads_after(stmt: Node, name: str) -> bool:
    """Whether `name` is read after `stmt` (in its block) before it is assigned again."""
    block = stmt.parent
    if block is None:
        return False
    for sib in block.named_children:
        if sib.start_byte <= stmt.start_byte:
            continue
        for n in walk(sib):
            if n.type == "assignment_expression":
                left = n.child_by_field_name("left")
                if left is not None and node_text(left) == name:
                    right = n.child_by_field_name("right")
                    uses = right is not None and any(
                        x.type == "identifier" and node_text(x) == name for x in walk(right)
                    )
                    return uses
            if n.type == "identifier" and node_text(n) == name:
                return True
    return False


def site_contract(call: Node, rm: ResultMap) -> SiteContract:
    """The edits (test of the result) a converted call needs, or the review reason."""
    if not rm.changed:
        return SiteContract()
    parent = call.parent
    while parent is not None and parent.type in ("parenthesized_expression", "cast_expression"):
        parent = parent.parent
    if parent is None or parent.type == "expression_statement":
        return SiteContract()  # the result is dropped
    name = _result_name(call)
    what = f"{rm.new}() returns something else than {rm.old}() did"
    if name is None:
        return SiteContract(
            review=f"{what}, and the caller uses the result in `{node_text(parent)}`"
        )
    stmt = _statement(call)
    block = stmt.parent if stmt is not None else None
    nxt = None
    if stmt is not None and block is not None:
        later = [s for s in block.named_children if s.start_byte > stmt.start_byte]
        nxt = next((s for s in later if s.type != "comment"), None)
    cond = (
        nxt.child_by_field_name("condition")
        if nxt is not None and nxt.type == "if_statement"
        else None
    )
    inner = cond.named_children[0] if cond is not None and cond.named_children else None
    if nxt is None or inner is None:
        return SiteContract(
            review=f"{what}, and the caller does not test `{name}` right after the call"
        )
    shape, _, _ = abstract(node_text(inner), [name])
    if HOLE.format(0) not in shape:
        return SiteContract(review=f"{what}, and the test after the call is not of `{name}`")
    test, why = new_test(rm, shape)
    if test is None:
        return SiteContract(review=f"{what}: {why}")
    if rm.old_of_new is not None:
        truth = _truth(test, SAMPLES) or ()
        differs = [r for r, o in zip(SAMPLES, rm.old_of_new, strict=True) if r != o]
        then = nxt.child_by_field_name("consequence")
        used_inside = then is not None and any(
            n.type == "identifier" and node_text(n) == name for n in walk(then)
        )
        if used_inside and any(t and r in differs for r, t in zip(SAMPLES, truth, strict=True)):
            return SiteContract(review=f"{what}, and `{name}` is used where the values differ")
        if any(
            not t and r in differs for r, t in zip(SAMPLES, truth, strict=True)
        ) and _reads_after(nxt, name):
            return SiteContract(review=f"{what}, and `{name}` is read after the test")
    elif _reads_after(nxt, name) and rm.changed:
        return SiteContract(review=f"{what}, and `{name}` is read after the test")
    if test == shape:
        return SiteContract(note="")
    new_text = fill(test, [name]) or ""
    before = node_text(inner)
    return SiteContract(
        edits=[(inner.start_byte, inner.end_byte, new_text.encode())],
        note=f"the test `{before}` becomes `{new_text}`: {why}",
    )

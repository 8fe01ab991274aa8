"""Learn how calls of an old symbol become calls of each new variant, from the series itself.

Prototypes come from the patches (added lines for the new symbols; removed or context lines
for the old one) or, failing that, from the tree via `read(path)`. Parameters are matched by
name, then by type; what is left over in a new variant is an "extra" parameter, and the
series' own converted call sites say what callers pass for it (`&pmdval` -> declare a local).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from series_tool.model import is_c_path, node_text
from series_tool.models import Hunk, Migration, Series

from .contract import ResultMap, learn_result_map
from .ctree import declarator_name, parse_text, walk
from .exprs import HOLE, abstract, fill

#: Wrapper that lets tree-sitter parse a run of statement lines taken out of a hunk.
_FRAGMENT_HEAD = "void __series_tool_fragment__(void)\n{\n"
_FRAGMENT_TAIL = "\n}\n"


@dataclass(frozen=True)
class Param:
    """One parameter of a prototype."""

    name: str
    type: str  # base type plus pointer stars, e.g. "pmd_t *"

    @property
    def pointee(self) -> str | None:
        """`T` for a parameter of type `T *`, else None."""
        t = self.type.rstrip()
        return t[:-1].rstrip() if t.endswith("*") else None


@dataclass(frozen=True)
class Prototype:
    """Name, parameters and return type of a C function."""

    name: str
    params: tuple[Param, ...]
    returns: str = ""  # "pte_t *", "int", "void"
    #: the result points to const (`const T *`): callers can only read through it
    returns_const: bool = False

    @property
    def pointee(self) -> str | None:
        """`T` when the function returns a `T *`, else None."""
        return Param("", self.returns).pointee if self.returns else None


@dataclass(frozen=True)
class ArgSlot:
    """One argument of the new call: an old argument (by index) or an extra one."""

    param: Param
    old_index: int | None  # None for a parameter the old symbol does not have
    value: str | None = None  # extra arg learned from the series, e.g. "&pmdval" or "NULL"
    local: str | None = None  # name of the local to declare when value is "&local"
    local_type: str | None = None  # its type (the parameter's pointee)
    #: the argument as an expression of the old call's arguments (holes), learned from
    #: every conversion of the series (or the old function's wrapper body)
    template: str | None = None
    #: identifiers the template names besides the caller's arguments: they must resolve
    names: frozenset[str] = frozenset()
    #: why no value is generated for this parameter (the site goes to review)
    review: str | None = None


@dataclass(frozen=True)
class SeriesSite:
    """A call the series itself converted: a '-' old call and the '+' new call replacing it."""

    patch: int | None
    file: str
    function: str | None
    line: int | None  # pre-image line of the old call
    old: str
    new: str
    old_args: tuple[str, ...]
    new_args: tuple[str, ...]
    other_changes: tuple[str, ...] = ()  # '+' code lines of the hunk beyond the call itself


@dataclass
class VariantConversion:
    """How an old call becomes a call of one new variant."""

    old: str
    new: str
    slots: list[ArgSlot]
    pure_rename: bool  # same parameters, only the name differs
    dropped: list[Param] = field(default_factory=list)  # old params the new one lacks
    sites: list[SeriesSite] = field(default_factory=list)  # series sites converted to it
    #: what the series teaches about the new result (a contract.ResultMap)
    result: ResultMap | None = None
    #: the new function's prototype
    proto: Prototype | None = None

    @property
    def extras(self) -> list[ArgSlot]:
        """Slots the old call has no argument for."""
        return [s for s in self.slots if s.old_index is None]

    def new_args(self, old_args: list[str], local_names: dict[str, str]) -> list[str] | None:
        """Argument texts for the new call, or None when an extra has no known value.

        `local_names` maps a learned local to the name actually declared in this caller.
        """
        out: list[str] = []
        for slot in self.slots:
            if slot.review is not None:
                return None
            if slot.local is not None:
                out.append("&" + local_names.get(slot.local, slot.local))
            elif slot.template is not None:
                value = fill(slot.template, old_args)
                if value is None:
                    return None
                out.append(value)
            elif slot.old_index is not None:
                if slot.old_index >= len(old_args):
                    return None
                out.append(old_args[slot.old_index])
            elif slot.value is not None:
                out.append(slot.value)
            else:
                return None
        return out

    def unsure(self) -> list[str]:
        """Why some parameters get no generated value (empty: every one is known)."""
        return [s.review for s in self.slots if s.review is not None]

    def series_changed_more(self) -> list[str]:
        """Code the series' own converted sites changed besides the call (e.g. `ret < 0`)."""
        seen: dict[str, None] = {}
        for site in self.sites:
            for line in site.other_changes:
                seen.setdefault(line, None)
        return list(seen)


@dataclass
class Conversion:
    """Everything learned about replacing one old symbol."""

    old: str
    old_proto: Prototype | None
    variants: dict[str, VariantConversion]
    problems: list[str] = field(default_factory=list)

    def related(self) -> list[str]:
        """The new symbols that replace this old one.

        A migration may rename several symbols at once, so not every new symbol fits every
        old one: those the series' own conversions used win, else those that keep every
        old parameter.
        """
        used = [n for n, v in self.variants.items() if v.sites]
        if used:
            return used
        return [n for n, v in self.variants.items() if not v.dropped]


# --------------------------------------------------------------------------- tree helpers


def _pointer_depth(node: Node | None) -> int:
    depth = 0
    while node is not None and node.type not in ("identifier", "function_declarator"):
        if node.type == "pointer_declarator":
            depth += 1
        node = node.child_by_field_name("declarator")
    return depth


def _param(node: Node) -> Param | None:
    type_node = node.child_by_field_name("type")
    if type_node is None:
        return None
    decl = node.child_by_field_name("declarator")
    base = " ".join(
        node_text(c) for c in node.children if c.type in ("type_qualifier",) and c != decl
    )
    base = (base + " " + node_text(type_node)).strip()
    stars = _pointer_depth(decl)
    name = declarator_name(decl) or ""
    return Param(name=name, type=base + (" " + "*" * stars if stars else ""))


def prototypes_in(text: str, names: Iterable[str]) -> dict[str, Prototype]:
    """Prototypes (declarations or definitions) of `names` found in C text."""
    wanted = set(names)
    found: dict[str, Prototype] = {}
    tree = parse_text(text)
    for node in walk(tree.root_node):
        if node.type != "function_declarator":
            continue
        name = declarator_name(node.child_by_field_name("declarator"))
        if name not in wanted or name in found:
            continue
        plist = node.child_by_field_name("parameters")
        params: list[Param] = []
        for child in plist.named_children if plist is not None else []:
            if child.type == "parameter_declaration":
                p = _param(child)
                if p is not None:
                    params.append(p)
        if len(params) == 1 and params[0].type == "void" and not params[0].name:
            params = []
        owner = node.parent
        stars = 0
        while owner is not None and owner.type == "pointer_declarator":
            stars += 1
            owner = owner.parent
        returns = ""
        const = False
        if owner is not None:
            t = owner.child_by_field_name("type")
            returns = node_text(t) if t is not None else ""
            const = any(
                c.type == "type_qualifier" and node_text(c) == "const" for c in owner.children
            )
        if returns and stars:
            returns += " " + "*" * stars
        found[name] = Prototype(
            name=name, params=tuple(params), returns=returns, returns_const=const and stars > 0
        )
    return found


def calls_in(text: str, names: Iterable[str]) -> list[tuple[str, list[str], int, int]]:
    """Calls of `names` in a fragment of statements.

    Returns (callee, argument texts with whitespace collapsed, first line, last line), lines
    0-based within `text`.
    """
    wanted = set(names)
    src = _FRAGMENT_HEAD + text + _FRAGMENT_TAIL
    tree = parse_text(src)
    head_lines = _FRAGMENT_HEAD.count("\n")
    out: list[tuple[str, list[str], int, int]] = []
    for node in walk(tree.root_node):
        if node.type != "call_expression":
            continue
        fn = node.child_by_field_name("function")
        if fn is None or fn.type != "identifier" or node_text(fn) not in wanted:
            continue
        args = node.child_by_field_name("arguments")
        texts = [node_text(a) for a in args.named_children] if args is not None else []
        texts = [" ".join(t.split()) for t in texts if not t.startswith("/*")]
        first, last = node.start_point[0] - head_lines, node.end_point[0] - head_lines
        out.append((node_text(fn), texts, first, last))
    return out


def function_from_section(section: str) -> str | None:
    """The function named in a hunk's `@@ ... @@ section` hint, via tree-sitter."""
    if "(" not in section:
        return None
    head = section.split("(", 1)[0] + "(void);"
    # The hint may lack the return type (it was on the line above): supply one.
    protos = tree_names(head) or tree_names("int " + head)
    return protos[-1] if protos else None


def tree_names(text: str) -> list[str]:
    """Names declared by function declarators in `text`."""
    tree = parse_text(text)
    return [
        n
        for node in walk(tree.root_node)
        if node.type == "function_declarator"
        and (n := declarator_name(node.child_by_field_name("declarator"))) is not None
    ]


# --------------------------------------------------------------------------- learning


def _runs(hunk: Hunk, kinds: str) -> list[str]:
    """Texts of contiguous runs of hunk lines whose kind is in `kinds`."""
    runs: list[list[str]] = []
    prev = False
    for ln in hunk.lines:
        inside = ln.kind in kinds
        if inside and not prev:
            runs.append([])
        if inside:
            runs[-1].append(ln.text)
        prev = inside
    return ["\n".join(r) + "\n" for r in runs]


def _patch_texts(series: Series, kinds: str) -> Iterator[str]:
    for patch in series.patches:
        for fd in patch.files:
            for hunk in fd.hunks:
                yield from _runs(hunk, kinds)


def _find_protos(
    series: Series, names: set[str], kinds_order: tuple[str, ...], read: Callable[[str], str | None]
) -> dict[str, Prototype]:
    found: dict[str, Prototype] = {}
    for kinds in kinds_order:
        for text in _patch_texts(series, kinds):
            missing = names - found.keys()
            if not missing:
                return found
            found.update(prototypes_in(text, missing))
    # Last resort: the files the series touches, as they are in the tree.
    paths = dict.fromkeys(fd.path for p in series.patches for fd in p.files)
    for path in paths:
        missing = names - found.keys()
        if not missing:
            break
        tree_text = read(path) if is_c_path(path) else None
        if tree_text is not None:
            found.update(prototypes_in(tree_text, missing))
    return found


def _is_noise(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith(("/*", "*", "//")) or s in ("{", "}")


def series_sites(series: Series, old: str, new: list[str]) -> list[SeriesSite]:
    """Calls of `old` the series replaces by calls of one of `new`, hunk by hunk, in order."""
    sites: list[SeriesSite] = []
    for patch in series.patches:
        for fd in patch.files:
            if not is_c_path(fd.path):
                continue
            for hunk in fd.hunks:
                minus = [ln for ln in hunk.lines if ln.kind == "-"]
                plus = [ln for ln in hunk.lines if ln.kind == "+"]
                olds = calls_in("\n".join(ln.text for ln in minus), [old])
                news = calls_in("\n".join(ln.text for ln in plus), new)
                if not olds or len(olds) != len(news):
                    continue
                call_lines = {
                    plus[i].text
                    for _, _, a, b in news
                    for i in range(a, b + 1)
                    if 0 <= i < len(plus)
                }
                removed = {" ".join(ln.text.split()) for ln in minus}
                others = tuple(
                    ln.text.strip()
                    for ln in plus
                    if ln.text not in call_lines
                    and not _is_noise(ln.text)
                    and " ".join(ln.text.split()) not in removed
                    and not any(n in ln.text for n in new)
                )
                for (_, oargs, oline, _), (callee, nargs, _, _) in zip(olds, news, strict=True):
                    src = minus[oline].source_line if 0 <= oline < len(minus) else None
                    sites.append(
                        SeriesSite(
                            patch=patch.number,
                            file=fd.path,
                            function=function_from_section(hunk.section),
                            line=src,
                            old=old,
                            new=callee,
                            old_args=tuple(oargs),
                            new_args=tuple(nargs),
                            other_changes=others,
                        )
                    )
    return sites


def _match_slots(old: Prototype, new: Prototype) -> tuple[list[ArgSlot], list[Param]]:
    """Map each new parameter to an old one: same name and type, same name, then same type."""
    used: set[int] = set()
    matched: list[int | None] = []
    for p in new.params:
        idx: int | None = None
        for want_type in (True, False):
            idx = next(
                (
                    i
                    for i, q in enumerate(old.params)
                    if i not in used and q.name == p.name and (q.type == p.type or not want_type)
                ),
                None,
            )
            if idx is not None:
                break
        matched.append(idx)
        if idx is not None:
            used.add(idx)
    # Type-only matches are safe only when the type is unambiguous among the leftovers.
    for j, p in enumerate(new.params):
        if matched[j] is not None:
            continue
        cands = [i for i, q in enumerate(old.params) if i not in used and q.type == p.type]
        if len(cands) == 1:
            matched[j] = cands[0]
            used.add(cands[0])
    slots = [ArgSlot(param=p, old_index=m) for p, m in zip(new.params, matched, strict=True)]
    dropped = [q for i, q in enumerate(old.params) if i not in used]
    return slots, dropped


def c_declaration(type_text: str, name: str) -> str:
    """A C declarator from a type and a name: 'pmd_t *' + 'p' -> 'pmd_t *p'."""
    return type_text + name if type_text.endswith("*") else f"{type_text} {name}"


def _local_of(value: str, pointee: str | None) -> str | None:
    """`x` for `&x` when the parameter is a pointer (the caller passes a local's address)."""
    name = value[1:].strip() if value.startswith("&") else ""
    return name if pointee and name.isidentifier() else None


def _learn_slot(
    slot: ArgSlot,
    index: int,
    new: str,
    sites: list[SeriesSite],
    wrapper: list[tuple[str, frozenset[str]]] | None,
    out_local: str | None,
) -> ArgSlot:
    """What callers pass for one parameter of `new`, learned from every conversion.

    The old function's own body, when it only forwards to `new`, says it for every caller.
    Else the series' conversions must agree on one expression of the caller's arguments;
    a literal seen once, or values that differ between conversions, are not guessed.
    """
    label = f"parameter {slot.param.name or index + 1} of {new}()"
    pointee = slot.param.pointee
    passing = [s for s in sites if index < len(s.new_args)]  # the conversions with that slot
    learned = [abstract(s.new_args[index], s.old_args, slot.old_index) for s in passing]
    values = [s.new_args[index] for s in passing]
    shown = ", ".join(f"`{v}`" for v in dict.fromkeys(values))
    if wrapper is not None and index < len(wrapper):
        template, names = wrapper[index]
        # The series' own conversions passing something else than the old function did
        # (`true` where its wrapper passes `false`) change what the call does on purpose,
        # caller by caller: which one a missed caller needs is not the tool's guess.
        if any(t != template for t, _, _ in learned):
            return ArgSlot(
                slot.param,
                slot.old_index,
                review=f"{label}: the old function passes `{template}` (its body), the "
                f"series' conversions pass {shown}; not guessed",
            )
        hole = next((i for i in range(8) if template == HOLE.format(i)), None)
        return ArgSlot(slot.param, hole, template=template, names=names)
    if learned:
        locals_ = [_local_of(v, pointee) for v in values]
        if slot.old_index is None and all(locals_) and pointee:
            # Each conversion passes the address of a local of its own: declare one.
            name = Counter(locals_).most_common(1)[0][0] or "tmp"
            return ArgSlot(slot.param, None, "&" + name, local=name, local_type=pointee)
        templates = {t for t, _, _ in learned}
        if len(templates) > 1:
            return ArgSlot(
                slot.param,
                slot.old_index,
                review=f"{label}: the series' conversions pass different values ({shown}); "
                "not guessed",
            )
        template, free, literal = learned[0]
        if literal and len(learned) < 2:
            return ArgSlot(
                slot.param,
                slot.old_index,
                review=f"{label}: only one conversion shows a value (`{values[0]}`), a literal "
                "that may be that caller's own; not guessed",
            )
        hole = next((i for i in range(8) if template == HOLE.format(i)), None)
        return ArgSlot(slot.param, hole, template=template, names=frozenset(free))
    if slot.old_index is not None:
        return slot
    if pointee and pointee != "void":
        # Nothing to learn from: a local named as the new function's own body names what
        # it stores through the parameter, else after the parameter itself.
        name = out_local or slot.param.name or "tmp"
        return ArgSlot(slot.param, None, "&" + name, local=name, local_type=pointee)
    return ArgSlot(
        slot.param, None, review=f"{label}: no conversion in the series shows what to pass"
    )


def _out_locals(series: Series, new: str, params: tuple[Param, ...]) -> dict[str, str]:
    """For `new`'s pointer parameters, the local its definition stores through each
    (`*pmdvalp = pmdval;` -> pmdvalp: pmdval), from the series' added lines."""
    names = {p.name for p in params if p.pointee}
    found: dict[str, str] = {}
    for text in _patch_texts(series, "+"):
        if new not in text:
            continue
        tree = parse_text(text)
        for node in walk(tree.root_node):
            if node.type != "assignment_expression":
                continue
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None or left.type != "pointer_expression":
                continue
            target = left.child_by_field_name("argument")
            if target is not None and node_text(target) in names and right.type == "identifier":
                found.setdefault(node_text(target), node_text(right))
    return found


def learn_conversion(
    series: Series,
    migration: Migration,
    read: Callable[[str], str | None],
) -> dict[str, Conversion]:
    """For each old symbol of the migration, how its calls map to each new symbol."""
    protos = _find_protos(series, set(migration.new), ("+", "+ "), read)
    protos.update(_find_protos(series, set(migration.old), ("-", " -"), read))
    out: dict[str, Conversion] = {}
    for old in migration.old:
        sites = series_sites(series, old, migration.new)
        conv = Conversion(old=old, old_proto=protos.get(old), variants={})
        if old not in protos:
            conv.problems.append(f"no prototype of {old}() found in the series or the tree")
        for new in migration.new:
            if new not in protos or old not in protos:
                if new not in protos:
                    conv.problems.append(f"no prototype of {new}() found")
                continue
            slots, dropped = _match_slots(protos[old], protos[new])
            mine = [s for s in sites if s.new == new]
            result = learn_result_map(series, old, new, read)
            wrapper = result.args if result.args is not None else None
            if wrapper is not None and len(wrapper) != len(slots):
                wrapper = None
            outs = _out_locals(series, new, protos[new].params)
            slots = [
                _learn_slot(s, j, new, mine, wrapper, outs.get(s.param.name))
                for j, s in enumerate(slots)
            ]
            if wrapper is not None:
                used = {s.old_index for s in slots if s.old_index is not None}
                dropped = [q for i, q in enumerate(protos[old].params) if i not in used]
            pure = not dropped and [s.old_index for s in slots] == list(
                range(len(protos[old].params))
            )
            conv.variants[new] = VariantConversion(
                old=old,
                new=new,
                slots=slots,
                pure_rename=pure,
                dropped=dropped,
                sites=mine,
                result=result,
                proto=protos[new],
            )
        out[old] = conv
    return out

"""Signature check without a build: does each conversion's replacement fit where it is put?

For a function used as a value (`.validate = fn`, `register(fn)`) the slot's declared
function-pointer type is compared with the replacement's type; for a call, the number of
arguments and, when the replacement takes the old parameters in another order while the
call passes them unchanged, their order. Prototypes come from the tree's files the series
touches, else from the files one extra `git grep -w` names (only when needed).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from weakref import WeakKeyDictionary

from series_tool.model import (
    CSource,
    Prototype,
    PrototypeChange,
    assignment_target,
    call_arguments,
    captures,
    empty_tree,
    is_c_path,
    is_header,
    item_spans,
    line_starts,
    macro_alias,
    member_types,
    node_text,
    normalized_type,
    parameter_types,
    parse_items,
    parse_limit,
    prototypes,
    same_type,
    slot_of,
    word_pattern,
    word_pattern_bytes,
)
from series_tool.models import Finding, Reference, Severity

from .analysis import Analysis, Conversion, Step

#: Item parses held by the signature check (each a small part of its file): a long
#: series asks about each file version for its conversions, in patch order.
_ITEM_PARSES = 256

#: (path, id of the text, names asked about, line asked about)
_ItemKey = tuple[str, int, frozenset[str], int | None]

#: Files of the tree parsed at most for one lookup (beyond: headers only, else none).
_GREP_FILES = 256


class _Sources:
    """Parsed files where prototypes and struct definitions are looked up.

    A file is parsed only when it names what is looked for, and each distinct content
    once (the steps of a series share the strings of the files a patch did not change).
    Where only some names are asked about, only the items around them are parsed
    (`items`): a 1,000-patch series' conversions are in a thousand big files.
    """

    def __init__(self, an: Analysis) -> None:
        self.an = an
        self._parsed: dict[int, tuple[str, CSource]] = {}
        self._items: OrderedDict[_ItemKey, tuple[str, CSource]] = OrderedDict()
        self._last: OrderedDict[str, CSource] = OrderedDict()  # path -> its last item parse
        self._grepped: dict[str, CSource] = {}
        self._asked: set[str] = set()
        #: the names whose scope is limited (their references are filtered by file)
        self.scoped: frozenset[str] = frozenset(an.scope.scoped() if an.scope else ())
        #: prototypes found per parsed file and name: a long series asks the same header
        #: about the same names for each of its thousands of conversions
        self._protos: WeakKeyDictionary[CSource, dict[str, list[Prototype]]] = WeakKeyDictionary()

    def lookup(self, name: str) -> Callable[[CSource], list[Prototype]]:
        """The prototypes of `name` in a parsed file (each file and name looked up once)."""

        def find(s: CSource) -> list[Prototype]:
            known = self._protos.setdefault(s, {})
            if name not in known:
                known[name] = prototypes(s, {name}).get(name, [])
            return known[name]

        return find

    def _source(self, path: str, text: str) -> CSource:
        if self.an.parse is not None and (src := self.an.parse(path, text)) is not None:
            return src  # the analysis parsed the series' files already
        hit = self._parsed.get(id(text))
        if hit is None or hit[0] is not text:
            hit = (text, CSource.from_text(text))
            self._parsed[id(text)] = hit
        return hit[1]

    def _read(self, index: int, path: str) -> str | None:
        rep = self.an.replayed
        if index == 0 and rep is not None and path in rep.base:
            return rep.base[path]  # the same string the analysis parsed
        return self.an.read_at(index)(path)

    def parse(self, index: int, path: str) -> CSource | None:
        text = self._read(index, path)
        return self._source(path, text) if text is not None else None

    def held(self, index: int, path: str) -> bool:
        """Whether the analysis holds the whole parse of the file at step `index`."""
        text = self._read(index, path)
        return (
            text is not None
            and self.an.parse is not None
            and self.an.parse.held(path, text) is not None
        )

    def items(
        self, index: int, path: str, names: frozenset[str], line: int | None = None
    ) -> CSource | None:
        """The file at step `index`, for the questions asked about `names` (their
        prototypes) and about `line` (the calls on it): parsed only in the items that
        define or declare one of the names there (the step's references say which) and
        the item of `line` (`model.parse_items`); every item naming a name whose scope is
        limited (its references there are filtered); whole where those items do not
        parse alone, and the analysis' whole parse when it holds one."""
        text = self._read(index, path)
        if text is None:
            return None
        if self.an.parse is not None and (whole := self.an.parse.held(path, text)) is not None:
            return whole
        key = (path, id(text), names, line)
        hit = self._items.get(key)
        if hit is not None and hit[0] is text:
            self._items.move_to_end(key)
            return hit[1]
        data = text.encode("utf-8", "surrogateescape")
        src: CSource | None = None
        if parse_limit(data) is None:
            src = self._parse_items(index, path, data, names, line)
        if src is None:
            src = self._source(path, text)
        self._items[key] = (text, src)
        while len(self._items) > _ITEM_PARSES:
            self._items.popitem(last=False)
        return src

    def _parse_items(
        self, index: int, path: str, data: bytes, names: frozenset[str], line: int | None
    ) -> CSource | None:
        lines = {line} if line is not None else set()
        scoped = self.scoped
        step = self.an.steps[index]
        for name in names - scoped:
            lines.update(r.line for r in step.providers_of(name) if r.file == path)
        # The lines asked about name one of `names`: their hits' lines are counted to.
        found = list(word_pattern_bytes(names).finditer(data))
        hits = [data.rfind(b"\n", 0, m.start()) + 1 for m in found]
        starts = line_starts(data, lines, hits) if lines else []
        if names & scoped:
            # Each whole-word match is one name: the scoped names' hits are among those.
            starts.extend(
                line
                for m, line in zip(found, hits, strict=True)
                if m.group().decode("utf-8", "surrogateescape") in scoped
            )
        if not starts:
            return CSource(data, empty_tree())  # nothing asked about here: nothing parsed
        # Conversions come in patch order: the file's last item parse is its previous
        # version's, and most of an item converted one line per patch is reused.
        src = parse_items(data, item_spans(data, starts), self._last.get(path))
        if src is not None:
            self._last[path] = src
            self._last.move_to_end(path)
            while len(self._last) > _ITEM_PARSES:
                self._last.popitem(last=False)
        return src

    def naming(self, index: int, name: str) -> list[CSource]:
        """The files that declare or define `name` at step `index` (the analysis found
        them for every tracked symbol), headers first."""
        files = sorted(
            {r.file for r in self.an.steps[index].providers_of(name) if is_c_path(r.file)},
            key=lambda p: (not is_header(p), p),
        )
        only = frozenset({name})
        return [s for path in files if (s := self.items(index, path, only)) is not None]

    def groups(self, post: CSource, index: int, name: str) -> Iterator[list[CSource]]:
        """Where to look for `name`, nearest first, each group computed only if asked:
        the converted file, the series' files at that step, the tree's files naming it."""
        yield [post]
        yield from self.elsewhere(index, name)

    def elsewhere(self, index: int, name: str) -> Iterator[list[CSource]]:
        """`groups` past the converted file: the series' files that declare `name` at
        step `index`, then the tree's files naming it."""
        yield self.naming(index, name)
        yield self.grep({name}, index)

    def grep(self, names: set[str], index: int = 0) -> list[CSource]:
        """Files of the base tree naming any of `names` (one git grep for all of them),
        as they are at step `index` (a patch may have changed the struct looked up)."""
        wanted = sorted(n for n in names if n not in self._asked)
        self._asked.update(wanted)
        if wanted and not self.an.series_only:
            known = self.an.tree_hits
            if known is not None and set(wanted) <= set(self.an.tracked):
                # The analysis grepped the base for every tracked name already.
                words = word_pattern(wanted)
                hits = [h for h in known if words.search(h.text)]
            else:
                hits = self.an.tree.grep_words(wanted)
            paths = sorted({h.path for h in hits if is_c_path(h.path)} - set(self._grepped))
            if len(paths) > _GREP_FILES:
                # A name thousands of files use (a common word, a tree-wide API): parsing
                # them all cost gigabytes. Its prototype is in a header, if anywhere the
                # lookup can trust; past that many headers it is not looked up (unchecked).
                paths = [p for p in paths if is_header(p)]
                paths = paths if len(paths) <= _GREP_FILES else []
            texts = self.an.tree.read_many(paths) if paths else {}
            for path in paths:
                if (text := texts.get(path)) is not None:
                    self._grepped[path] = CSource.from_text(text)
        if index == 0 or self.an.replayed is None:
            return list(self._grepped.values())
        return [s for path in self._grepped if (s := self.parse(index, path)) is not None]


def _one(found: list[Prototype]) -> Prototype | None:
    """The prototype, when every declaration of the name agrees (else: cannot tell)."""
    spelled = {p.pointer_type() for p in found}
    return found[0] if len(spelled) == 1 else None


def _find(
    lookup: Callable[[CSource], list[Prototype]], groups: Iterable[list[CSource]]
) -> Prototype | None:
    """The first group of files (asked lazily, in order) that declares the name decides."""
    found = _first_found(lookup, groups)
    return _one(found) if found else None


def _first_found(
    lookup: Callable[[CSource], list[Prototype]], groups: Iterable[list[CSource]]
) -> list[Prototype]:
    """The prototypes in the first group of files that has any (none: [])."""
    for group in groups:
        found = [p for s in group for p in lookup(s)]
        if found:
            return found
    return []


def _line_offsets(src: CSource, line: int, name: str) -> list[tuple[int, int]]:
    """Byte ranges of whole-word `name` on a 1-based line."""
    data = src.data
    start = 0
    for _ in range(line - 1):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return []
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    word = name.encode()
    out: list[tuple[int, int]] = []
    at = data.find(word, start, end)
    while at >= 0:
        before = data[at - 1 : at] if at > 0 else b""
        after = data[at + len(word) : at + len(word) + 1]
        if not (before.isalnum() or before == b"_") and not (after.isalnum() or after == b"_"):
            out.append((at, at + len(word)))
        at = data.find(word, at + 1, end)
    return out


def signature_findings(an: Analysis) -> list[Finding]:
    """incompatible-signature (error) and return-contract-changed (review) findings for the
    series' conversions, computed once per analysis."""
    if an.signature_findings is not None:
        return an.signature_findings
    sources = _Sources(an)
    out: list[Finding] = []
    unchecked: dict[tuple[str, str], Conversion] = {}
    used_as = {
        (hm.patch, hm.file, a.line, a.symbol): a.kind for hm in an.hunkmaps for a in hm.added_names
    }
    for c in an.conversions:
        if c.new is None or c.kind not in ("call", "address") or c.new == c.old:
            continue
        if used_as.get((c.patch, c.file, c.line, c.new)) not in ("call", "address", "other"):
            continue  # replaced by a member, a macro...: no function type to compare
        st = an.step_of(c.patch)
        elsewhere = None if st is None else _declared_elsewhere(sources, st.index, c.file, c.new)
        if elsewhere == []:
            unchecked.setdefault((c.old, c.new), c)  # said once per pair, below
            continue
        post: CSource | None = None
        if st is not None and c.kind == "call":
            # Asked about: the prototypes of both names and the call on c.line (which
            # names c.new). An address use asks about the slot's struct or callee too.
            post = sources.items(st.index, c.file, frozenset({c.old, c.new}), c.line)
        elif st is not None:
            post = sources.parse(st.index, c.file)
        new: Prototype | None = None
        if st is not None and post is not None:
            lookup = sources.lookup(c.new)
            if elsewhere is None:
                new = _find(lookup, sources.groups(post, st.index, c.new))
            else:  # the groups past the converted file were looked in already
                new = _one(lookup(post) or elsewhere)
        if st is None or post is None or new is None:
            unchecked.setdefault((c.old, c.new), c)  # said once per pair, below
            continue
        old = _find(sources.lookup(c.old), sources.groups(post, 0, c.old))
        if c.kind == "address":
            out.extend(_address_check(c, post, old, new, sources, st.index))
        else:
            out.extend(_call_check(an, c, post, old, new))
    out.extend(_in_place_findings(an, sources))
    for (old_name, new_name), c in unchecked.items():
        why = "no tree to read it from" if an.series_only else "no single prototype of it found"
        out.append(
            Finding(
                "info",
                "signature-unchecked",
                f"whether {new_name} fits where it replaces {old_name} was not checked: {why}",
                c.patch,
                c.file,
                c.line,
                c.function,
            )
        )
    an.signature_findings = out
    return out


def _declared_elsewhere(
    sources: _Sources, index: int, path: str, name: str
) -> list[Prototype] | None:
    """The prototypes of `name` found for a conversion in `path` at step `index` past
    the converted file (`_first_found` of `elsewhere`), looked for before `path` is
    parsed: none means there is none at all (a rename to a macro: a thousand
    conversions, each asked about in a parse of the converted file). None (not looked
    for) where that does not hold.

    A prototype of the name in the converted file is a declaration or definition of it
    there, which the step's references list: the files they list are the second group
    looked in (`naming`), and the converted file is parsed only around such lines (and
    the converted line, for its call) anyway. So when neither those files nor the tree's
    files naming it hold any prototype of it, the converted file holds none either.
    Not for a name whose references are filtered by scope (a declaration may be left out
    of them), nor where the analysis holds the whole parse (nothing to save).
    """
    if name in sources.scoped or sources.held(index, path):
        return None
    return _first_found(sources.lookup(name), sources.elsewhere(index, name))


def _address_check(
    c: Conversion,
    post: CSource,
    old: Prototype | None,
    new: Prototype,
    sources: _Sources,
    index: int,
) -> list[Finding]:
    """Each use of `c.new` as a value on the line against the slot it is stored into.

    When `c.old == c.new` the function kept its name and changed its type (a prototype
    change in place): a slot whose type is not told by the syntax (`x->cb = fn;`) expected
    the old type, since the base built; a slot whose declared type differs from the old
    one already did not match in the base and is not judged here.
    """
    out: list[Finding] = []
    actual = new.pointer_type()
    in_place = c.old == c.new
    for start, end in _line_offsets(post, c.line, c.new or ""):
        slot = slot_of(post, start, end)
        expected: str | None = None
        if slot is not None and slot.how != "argument" and slot.struct and slot.member:
            key = (slot.struct, slot.member)
            struct = slot.struct
            for group in sources.groups(post, index, struct):
                types = {t for s in group if (t := member_types(s, {struct}).get(key))}
                if types:
                    expected = next(iter(types)) if len(types) == 1 else None
                    break
            what = "initialization of" if slot.how == "initializer" else "assignment to"
        elif slot is not None and slot.how == "argument" and slot.callee:
            callee = slot.callee
            for group in sources.groups(post, index, callee):
                protos = [p for s in group for p in parameter_types(s, callee)]
                if protos:
                    spelled = {p[slot.index] if slot.index < len(p) else None for p in protos}
                    expected = next(iter(spelled)) if len(spelled) == 1 else None
                    break
            what = f"passing argument {slot.index + 1} of '{slot.callee}':"
        elif in_place and assignment_target(post, start, end):
            what = "assignment to"
        elif in_place:
            continue  # `#ifndef fn`, a cast, a comparison: no slot type to compare with
        else:
            what = f"replacing {c.old} by"
        if (
            in_place
            and old is not None
            and expected is not None
            and normalized_type(expected) != normalized_type(old.pointer_type())
        ):
            continue  # the slot did not take the old type either: not this change's doing
        if expected is None and old is not None:
            expected = old.pointer_type()
            if what != "assignment to":
                what = (
                    f"{c.new} was '{expected}' before patch {c.patch}:"
                    if in_place
                    else f"replacing {c.old} ('{expected}') by {c.new}:"
                )
        if expected is None or normalized_type(expected) == normalized_type(actual):
            continue
        why = (
            f"(patch {c.patch} changed the prototype of {c.new})"
            if in_place
            else (f"({c.old} -> {c.new})")
        )
        if what in ("initialization of", "assignment to"):
            message = f"{what} '{expected}' from incompatible pointer type '{actual}' {why}"
        else:
            message = f"{what} expected '{expected}' but {c.new} is of type '{actual}'"
        out.append(
            Finding("error", "incompatible-signature", message, c.patch, c.file, c.line, c.function)
        )
    return out


def _call_check(
    an: Analysis, c: Conversion, post: CSource, old: Prototype | None, new: Prototype
) -> list[Finding]:
    out: list[Finding] = []

    def finding(severity: Severity, code: str, message: str) -> Finding:
        return Finding(severity, code, message, c.patch, c.file, c.line, c.function)

    calls = call_arguments(post, c.new or "", c.line)
    for args in calls:
        if not new.variadic and len(args) != len(new.params):
            few = "few" if len(args) < len(new.params) else "many"
            out.append(
                finding(
                    "error",
                    "incompatible-signature",
                    f"too {few} arguments to function '{c.new}': {len(args)} given, its "
                    f"prototype takes {len(new.params)} ('{new.pointer_type()}')",
                )
            )
    if old is None:
        return out
    old_args = _old_call_arguments(an, c)
    permuted = (
        len(old.params) >= 2
        and old.params != new.params
        and sorted(old.params) == sorted(new.params)
    )
    if permuted and old_args is not None and old_args in calls:
        out.append(
            finding(
                "error",
                "incompatible-signature",
                f"{c.new} takes '{new.pointer_type()}' but the call passes {c.old}'s arguments "
                f"unchanged, in the order of '{old.pointer_type()}'",
            )
        )
    out.extend(_tested_differently(an, c))
    if old.ret != new.ret:
        out.append(
            finding(
                "review",
                "return-contract-changed",
                f"{c.old} returns '{old.ret}' but {c.new} returns '{new.ret}': check what the "
                "caller does with the result",
            )
        )
    return out


def _result_variable(text: str, callee: str) -> str | None:
    """`x` of a line `x = callee(...)` (or `T x = callee(...)`), parsed with tree-sitter."""
    src = CSource.from_text(text + "\n")
    for call in captures(src.root, "(call_expression function: (identifier) @c)", "c"):
        if node_text(call) != callee or call.parent is None:
            continue
        holder = call.parent.parent
        if holder is not None and holder.type == "assignment_expression":
            left = holder.child_by_field_name("left")
            return node_text(left) if left is not None and left.type == "identifier" else None
        if holder is not None and holder.type == "init_declarator":
            name = holder.child_by_field_name("declarator")
            return node_text(name) if name is not None and name.type == "identifier" else None
    return None


def _tested_differently(an: Analysis, c: Conversion) -> list[Finding]:
    """A conversion whose hunk also rewrites how the call's result is tested (`if (ret)`
    became `if (ret < 0)`): the replacement's return contract differs; a person decides
    whether the callers the series did not convert need the same change."""
    out: list[Finding] = []
    for hm in an.hunkmaps:
        if hm.patch != c.patch or hm.file != c.file:
            continue
        site = next(
            (
                a
                for a in hm.added_names
                if a.symbol == c.new and a.line == c.line and a.kind == "call"
            ),
            None,
        )
        if site is None:
            continue
        var = _result_variable(site.text, c.new or "")
        if var is None:
            continue
        before = {r.text.strip() for r in hm.removed_names if r.symbol == var}
        after = {r.text.strip() for r in hm.added_names if r.symbol == var}
        before = {t for t in before if c.old not in t}
        after = {t for t in after if (c.new or "") not in t}
        if before and after and before != after:
            out.append(
                Finding(
                    "review",
                    "return-contract-changed",
                    f"with {c.new} in place of {c.old} the series tests the result "
                    f"differently: {' / '.join(sorted(before))} -> {' / '.join(sorted(after))}; "
                    f"callers of {c.old} it does not convert may need the same change",
                    c.patch,
                    c.file,
                    c.line,
                    c.function,
                )
            )
    return out


def _old_call_arguments(an: Analysis, c: Conversion) -> list[str] | None:
    """The arguments of the old call the conversion replaced (from its '-' line)."""
    for hm in an.hunkmaps:
        if hm.patch != c.patch or hm.file != c.file:
            continue
        for site in hm.removed_calls:
            if site.symbol == c.old and site.function == c.function:
                found = call_arguments(CSource.from_text(site.text + "\n"), c.old, 1)
                if found:
                    return found[0]
    return None


def _in_place_findings(an: Analysis, sources: _Sources) -> list[Finding]:
    """At the step where a function's prototype changes in place, every remaining use in
    the tree must fit the new one: calls by arity, address uses by their slot's type,
    other definitions and declarations of the name (another arch's version, a header
    prototype left behind, an override `#define name arch_name`) by their prototype.

    Only uses that fitted the old prototype and do not fit the new one are errors: what
    did not fit before was not this change's doing (another static function of that name).
    """
    out: dict[tuple[str, int | None, str | None, int | None, str], Finding] = {}
    for ch in an.prototype_changes:
        st = an.step_of(ch.patch)
        if st is None or an.series_only:
            continue
        for f in _change_findings(an, sources, ch, st):
            # The location in the message too: the text report prints messages only.
            where = f"{f.file}:{f.line}"
            if f.function:
                fn = f.function
                where += f" in {fn}()" if fn.isidentifier() else f" in {fn}"
            f = replace(f, message=f"{where}: {f.message}")
            out.setdefault((f.code, f.patch, f.file, f.line, f.message), f)
    return list(out.values())


def prototype_misfits(an: Analysis) -> list[tuple[Reference, str]]:
    """The uses that no longer fit a prototype the series changed in place (the sites of
    its incompatible-signature errors), each with why: what rewrite lists as not handled,
    since a call is not rewritten to a changed prototype of the same function."""
    sources = _Sources(an)
    out: list[tuple[Reference, str]] = []
    for ch in an.prototype_changes:
        st = an.step_of(ch.patch)
        if st is None or an.series_only:
            continue
        refs = {(r.file, r.line): r for r in st.refs_of(ch.name)}
        for f in _change_findings(an, sources, ch, st):
            r = refs.get((f.file or "", f.line or 0))
            if r is not None and all(r is not done for done, _ in out):
                out.append(
                    (
                        r,
                        f"patch {ch.patch} changes the prototype of {ch.name}() in "
                        f"place and this use no longer fits: {f.message}",
                    )
                )
    return out


def _change_findings(
    an: Analysis, sources: _Sources, ch: PrototypeChange, st: Step
) -> list[Finding]:
    out: list[Finding] = []
    old_t, new_t = ch.old.pointer_type(), ch.new.pointer_type()

    def finding(r_file: str, line: int, function: str | None, message: str) -> Finding:
        return Finding("error", "incompatible-signature", message, ch.patch, r_file, line, function)

    done: set[tuple[str, int, str]] = set()
    for r in st.refs_of(ch.name):
        if (ch.static and r.file != ch.file) or not is_c_path(r.file):
            continue  # a static function is seen in its own file only
        if (r.file, r.line, r.kind) in done:
            continue
        done.add((r.file, r.line, r.kind))
        if r.kind in ("call", "definition", "declaration"):
            # Asked about: the calls of ch.name on r.line, its prototypes in the file.
            src = sources.items(st.index, r.file, frozenset({ch.name}), r.line)
        else:
            src = sources.parse(st.index, r.file)
        if src is None:
            continue
        if r.kind == "call":
            for args in call_arguments(src, ch.name, r.line):
                fits_old = ch.old.variadic or len(args) == len(ch.old.params)
                if ch.new.variadic or len(args) == len(ch.new.params) or not fits_old:
                    continue
                few = "few" if len(args) < len(ch.new.params) else "many"
                out.append(
                    finding(
                        r.file,
                        r.line,
                        r.function,
                        f"too {few} arguments to function '{ch.name}': {len(args)} given, "
                        f"patch {ch.patch} changed its prototype from '{old_t}' to '{new_t}'",
                    )
                )
        elif r.kind == "address":
            c = Conversion(ch.patch, r.file, r.line, r.function, ch.name, ch.name, kind="address")
            out.extend(_address_check(c, src, ch.old, ch.new, sources, st.index))
        elif r.kind in ("definition", "declaration"):
            for p in prototypes(src, {ch.name}).get(ch.name, []):
                if p.line == r.line and same_type(p, ch.old) and not same_type(p, ch.new):
                    out.append(
                        finding(
                            r.file,
                            r.line,
                            r.function,
                            f"conflicting types for '{ch.name}': '{old_t}' here, but patch "
                            f"{ch.patch} changed it to '{new_t}' in {ch.file}",
                        )
                    )
        elif r.kind == "macro" and (alias := macro_alias(src, ch.name, r.line)):
            found = prototypes(src, {alias}).get(alias, [])
            if found and all(same_type(p, ch.old) and not same_type(p, ch.new) for p in found):
                out.append(
                    finding(
                        r.file,
                        r.line,
                        r.function,
                        f"'{ch.name}' is overridden by '{alias}', which is still '{old_t}', "
                        f"but patch {ch.patch} changed '{ch.name}' to '{new_t}' in {ch.file}",
                    )
                )
    return out

"""Signature check without a build: does each conversion's replacement fit where it is put?

For a function used as a value (`.validate = fn`, `register(fn)`) the slot's declared
function-pointer type is compared with the replacement's type; for a call, the number of
arguments and, when the replacement takes the old parameters in another order while the
call passes them unchanged, their order. Prototypes come from the tree's files the series
touches, else from the files one extra `git grep -w` names (only when needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from series_tool.model import (
    CSource,
    Prototype,
    call_arguments,
    is_c_path,
    member_types,
    parameter_types,
    prototypes,
    slot_of,
)
from series_tool.models import Finding, Severity

from .analysis import Analysis, Conversion


class _Sources:
    """Parsed files where prototypes and struct definitions are looked up."""

    def __init__(self, an: Analysis) -> None:
        self.an = an
        self._parsed: dict[tuple[int, str], CSource | None] = {}
        self._grepped: dict[str, CSource] = {}
        self._asked: set[str] = set()

    def parse(self, index: int, path: str) -> CSource | None:
        key = (index, path)
        if key not in self._parsed:
            text = self.an.read_at(index)(path)
            self._parsed[key] = CSource.from_text(text) if text is not None else None
        return self._parsed[key]

    def candidates(self, index: int) -> list[CSource]:
        """The series' own C files at step `index`, headers first."""
        touched = sorted(
            {fd.path for p in self.an.series.patches for fd in p.files if is_c_path(fd.path)},
            key=lambda p: (not p.endswith(".h"), p),
        )
        return [s for path in touched if (s := self.parse(index, path)) is not None]

    def groups(self, post: CSource, index: int, name: str) -> Iterator[list[CSource]]:
        """Where to look for `name`, nearest first, each group computed only if asked:
        the converted file, the series' files at that step, the tree's files naming it."""
        yield [post]
        yield self.candidates(index)
        yield self.grep({name})

    def grep(self, names: set[str]) -> list[CSource]:
        """Files of the base tree naming any of `names` (one git grep for all of them)."""
        wanted = sorted(n for n in names if n not in self._asked)
        self._asked.update(wanted)
        if wanted and not self.an.series_only:
            hits = self.an.tree.grep_words(wanted)
            paths = sorted({h.path for h in hits if is_c_path(h.path)} - set(self._grepped))
            texts = self.an.tree.read_many(paths) if paths else {}
            for path in paths:
                if (text := texts.get(path)) is not None:
                    self._grepped[path] = CSource.from_text(text)
        return list(self._grepped.values())


def _one(found: list[Prototype]) -> Prototype | None:
    """The prototype, when every declaration of the name agrees (else: cannot tell)."""
    spelled = {p.pointer_type() for p in found}
    return found[0] if len(spelled) == 1 else None


def _find(
    lookup: Callable[[CSource], list[Prototype]], groups: Iterable[list[CSource]]
) -> Prototype | None:
    """The first group of files (asked lazily, in order) that declares the name decides."""
    for group in groups:
        found = [p for s in group for p in lookup(s)]
        if found:
            return _one(found)
    return None


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


def _lookup(name: str) -> Callable[[CSource], list[Prototype]]:
    def lookup(s: CSource) -> list[Prototype]:
        return prototypes(s, {name}).get(name, [])

    return lookup


def signature_findings(an: Analysis) -> list[Finding]:
    """incompatible-signature (error) and return-contract-changed (review) findings for the
    series' conversions, computed once per analysis."""
    if an.signature_findings is not None:
        return an.signature_findings
    sources = _Sources(an)
    out: list[Finding] = []
    for c in an.conversions:
        if c.new is None or c.kind not in ("call", "address") or c.new == c.old:
            continue
        st = an.step_of(c.patch)
        if st is None:
            continue
        post = sources.parse(st.index, c.file)
        if post is None:
            continue

        new = _find(_lookup(c.new), sources.groups(post, st.index, c.new))
        old = _find(_lookup(c.old), sources.groups(post, 0, c.old))
        if new is None:
            continue
        if c.kind == "address":
            out.extend(_address_check(c, post, old, new, sources, st.index))
        else:
            out.extend(_call_check(an, c, post, old, new))
    an.signature_findings = out
    return out


def _address_check(
    c: Conversion,
    post: CSource,
    old: Prototype | None,
    new: Prototype,
    sources: _Sources,
    index: int,
) -> list[Finding]:
    out: list[Finding] = []
    actual = new.pointer_type()
    for start, end in _line_offsets(post, c.line, c.new or ""):
        slot = slot_of(post, start, end)
        expected: str | None = None
        if slot is not None and slot.how == "initializer" and slot.struct and slot.member:
            key = (slot.struct, slot.member)
            struct = slot.struct
            for group in sources.groups(post, index, struct):
                types = {t for s in group if (t := member_types(s, {struct}).get(key))}
                if types:
                    expected = next(iter(types)) if len(types) == 1 else None
                    break
            what = "initialization of"
        elif slot is not None and slot.how == "argument" and slot.callee:
            callee = slot.callee
            for group in sources.groups(post, index, callee):
                protos = [p for s in group for p in parameter_types(s, callee)]
                if protos:
                    spelled = {p[slot.index] if slot.index < len(p) else None for p in protos}
                    expected = next(iter(spelled)) if len(spelled) == 1 else None
                    break
            what = f"passing argument {slot.index + 1} of '{slot.callee}':"
        else:
            what = f"replacing {c.old} by"
        if expected is None and old is not None:
            expected = old.pointer_type()
            what = f"replacing {c.old} ('{expected}') by {c.new}:"
        if expected is None or expected == actual:
            continue
        if what == "initialization of":
            message = (
                f"initialization of '{expected}' from incompatible pointer type '{actual}' "
                f"({c.old} -> {c.new})"
            )
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

"""What makes one step of a series unsafe: the one answer verify and bisect-report share.

Both commands ask `unsafe_at` of every step, so they track the same symbols, see the
same remaining references and reach the same verdict on every input.
"""

from __future__ import annotations

from dataclasses import dataclass

from series_tool.model import MACRO_ROLES
from series_tool.models import CODE_KINDS, Reference

from .analysis import USE_KINDS, Analysis, Step
from .members import missing_members


@dataclass(frozen=True)
class Unsafe:
    """One reason the tree after a step does not build."""

    code: str  # "removed-while-referenced" | "undefined-symbol"
    symbol: str
    ref: Reference
    removed_in: int | None = None  # the patch removing `symbol` (removed-while-referenced)
    introduced_in: int | None = None  # the patch introducing it, if any (undefined-symbol)
    #: what this tool cannot decide about it (a same-named macro that may be what it means)
    note: str = ""


def place(r: Reference) -> str:
    """`file:line in function()` (or `in <declaration>` outside functions)."""
    where = f"{r.file}:{r.line}"
    if r.function:
        where += f" in {r.function}()" if r.function.isidentifier() else f" in {r.function}"
    return where


def in_scope(an: Analysis, symbol: str, r: Reference) -> bool:
    """Whether `r` can be a reference to the series' own `symbol` (model.scope): a name
    defined in a .c file or a private header is another entity elsewhere. The analysis
    already drops references out of scope; every check asks this too, so none counts one."""
    return an.scope.allows(symbol, r.file)


def leftover_definition(an: Analysis, symbol: str, r: Reference) -> bool:
    """A declaration or definition of a removed old symbol that the series leaves behind
    (an `extern` of a removed variable, another arch's copy of a removed macro or inline
    function, a prototype): harmless to the build while nothing uses it, so verify warns
    about it; every use of the symbol is still an error. A `#define` counts when the
    symbol is a macro (of another entity it is `other_entity_macro`)."""
    if r.kind in ("declaration", "definition"):
        return True
    return r.kind == "macro" and bool(an.roles.get(symbol, frozenset()) & MACRO_ROLES)


def other_entity_macro(an: Analysis, symbol: str, r: Reference) -> bool:
    """A `#define` (or `#undef`) of the name of a removed non-macro entity (a variable, a
    function...): that macro is another entity of the same spelling, not a use of the
    removed one, and it still builds without it. What its body names is classified on its
    own (a body naming the removed entity, `#define NAME NAME` too, is a use)."""
    roles = an.roles.get(symbol, frozenset())
    return r.kind == "macro" and bool(roles) and not roles & MACRO_ROLES


def not_a_use(an: Analysis, symbol: str, r: Reference) -> bool:
    """A reference to `symbol` that is no use of the removed entity: a definition or
    declaration left behind (`leftover_definition`) or a same-named `#define` of another
    entity (`other_entity_macro`). What verify, bisect-report and rewrite never count as a
    caller left."""
    return leftover_definition(an, symbol, r) or other_entity_macro(an, symbol, r)


def _other_macros(an: Analysis, st: Step, symbol: str) -> dict[str, list[Reference]]:
    """The `other_entity_macro` references to `symbol` at step `st`, by file, in order
    (read once per step and symbol: once per use made verify quadratic in the uses)."""
    out: dict[str, list[Reference]] = {}
    for m in st.refs_of(symbol):
        if other_entity_macro(an, symbol, m):
            out.setdefault(m.file, []).append(m)
    return out


def _macro_note(symbol: str, r: Reference, macros: dict[str, list[Reference]]) -> str:
    """For a use in a file that also #defines the name (`macros`, from `_other_macros`):
    which one it means is not decided."""
    same = macros.get(r.file, [])
    if not same:  # (`r`, a use, is never one of them: not_a_use left those out)
        return ""
    return (
        f" ({r.file}:{same[0].line} #defines {symbol} too: where that macro is seen first this "
        "use is the macro's, not the removed one's; not decided here)"
    )


def removal_index(an: Analysis, symbol: str) -> int | None:
    """The index of the step that removes `symbol` for good, if the series does."""
    number = an.migration.removed.get(symbol, an.migration.removed_in.get(symbol))
    if number is None:
        return None
    st = an.step_of(number)
    return st.index if st is not None else None


def undefined_uses(an: Analysis, st: Step) -> list[tuple[str, Reference]]:
    """Code uses at step `st` of tracked symbols that nothing in the tree provides then.

    A symbol the base tree uses without any visible provider is defined in a way this
    tool cannot see (generated, or outside the tree) and is not judged.
    """
    base = an.steps[0]
    out: list[tuple[str, Reference]] = []
    for sym in an.tracked:
        # Kind counts first: a long series asks this of every step, and most answers are no.
        if st.provided(sym) or not (uses := st.uses(sym)):
            continue
        if base.count(sym, USE_KINDS) and not base.provided(sym):
            continue
        out.extend((sym, r) for r in uses if in_scope(an, sym, r))
    return out


def member_elsewhere(an: Analysis, st: Step, symbol: str) -> bool:
    """A removed struct member whose name other structs still declare at this step: which
    struct each `->name` belongs to is not resolved, so its uses are not judged (verify
    says so with a warning)."""
    roles = an.roles.get(symbol, frozenset())
    return bool(roles) and roles <= {"member"} and st.provided(symbol)


def member_owners(an: Analysis, symbol: str) -> set[str]:
    """`struct foo` for each struct whose member `symbol` the series' hunks remove."""
    return {
        r.function
        for hm in an.hunkmaps
        for r in hm.removed_names
        if r.symbol == symbol and r.kind == "declaration" and r.function
    }


def _initializes(r: Reference, owners: set[str]) -> bool:
    """A designated initializer inside a declaration of one of the `owners` structs."""
    words = (r.function or "").split()
    return any(words[i : i + 2] == owner.split() for owner in owners for i in range(len(words) - 1))


def unsafe_at(an: Analysis, st: Step) -> list[Unsafe]:
    """Why the tree after step `st` does not build, from the references alone.

    * An old API symbol (migration.old): any code reference to it at or after the step
      removing it (a call, an address use, an #include, a prototype left behind...).
    * Any other tracked symbol (a helper removed, a function, member, macro or header
      introduced): a code use at a step where nothing provides it.
    * A member that a line the series added uses while its struct (named by the syntax,
      its definition visible) has no such member at this step.
    """
    out: list[Unsafe] = []
    old = set(an.migration.old)
    for sym in an.migration.old:
        at = removal_index(an, sym)
        if at is None or st.index < at:
            continue
        refs = [
            r
            for r in st.refs_of(sym)
            if r.kind in CODE_KINDS and in_scope(an, sym, r) and not not_a_use(an, sym, r)
        ]
        if member_elsewhere(an, st, sym):
            # Another struct declares a member of that name: only the initializers of the
            # struct that lost it are told apart (their declaration names the struct).
            owners = member_owners(an, sym)
            refs = [r for r in refs if r.kind == "member" and _initializes(r, owners)]
        removed_in = an.migration.removed_in.get(sym)
        macros = _other_macros(an, st, sym) if refs else {}
        out.extend(
            Unsafe(
                "removed-while-referenced",
                sym,
                r,
                removed_in=removed_in,
                note=_macro_note(sym, r, macros),
            )
            for r in refs
        )
    for sym, r in undefined_uses(an, st):
        if sym in old:
            continue
        removed_in = an.migration.removed.get(sym)
        at = removal_index(an, sym)
        if removed_in is not None and at is not None and st.index >= at:
            out.append(Unsafe("removed-while-referenced", sym, r, removed_in=removed_in))
        else:
            intro = an.migration.introduced.get(sym, an.migration.introduced_in.get(sym))
            out.append(Unsafe("undefined-symbol", sym, r, introduced_in=intro))
    # Members the series uses that their struct does not have at this step.
    for sym, r in missing_members(an).get(st.index, []):
        out.append(Unsafe("undefined-symbol", sym, r))
    return out

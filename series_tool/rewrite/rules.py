"""Rewrite rules: which variant of a split API a caller needs (loaded from TOML with tomllib)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from series_tool.errors import BadInput


@dataclass(frozen=True)
class MigrationRule:
    """How to choose among the new variants replacing one old symbol."""

    old: str
    variants: tuple[str, ...]
    reader: str | None = None
    writer: str | None = None
    write_ops: frozenset[str] = frozenset()
    write_prefixes: tuple[str, ...] = ()
    read_ops: frozenset[str] = frozenset()
    escape_is_write: bool = True
    follow_depth: int = 2
    writer_review: str = ""
    reader_review: str = ""
    #: Doubts of an inferred rule at each writer / reader site (a choice the series does
    #: not confirm): unlike the review texts above, a checklist the rules' author gives
    #: for every site, these make the site a review item (exit status 1).
    writer_doubt: str = ""
    reader_doubt: str = ""
    #: Learned rules: a call the examples never showed a reader making counts as a write
    #: (the may-write variant is the safe choice when the evidence is missing).
    unknown_is_write: bool = False

    def is_unknown_op(self, name: str) -> bool:
        """True when `name` is neither a known read nor a known write op."""
        return name not in self.read_ops and not self.is_write_op(name)

    def is_write_op(self, name: str) -> bool:
        """True when calling `name` with the pointer modifies what it points to."""
        if name in self.read_ops:
            return False
        return name in self.write_ops or any(name.startswith(p) for p in self.write_prefixes)


@dataclass(frozen=True)
class Operations:
    """What calls do to the object a pointer of one type points to (no API's names):
    which write through it, which only read. A split API's reader/writer roles come from
    the callers' behaviour, never from the variants' names."""

    pointee: frozenset[str]  # the pointed-to types these operations apply to ("pte_t")
    write_ops: frozenset[str] = frozenset()
    write_prefixes: tuple[str, ...] = ()
    read_ops: frozenset[str] = frozenset()
    escape_is_write: bool = True
    follow_depth: int = 2
    writer_review: str = ""
    reader_review: str = ""


@dataclass(frozen=True)
class Rules:
    """All migration rules from one file."""

    migrations: tuple[MigrationRule, ...] = ()
    source: str = ""
    operations: tuple[Operations, ...] = ()

    def operations_for(self, pointee: str | None) -> Operations | None:
        """The operations on objects of type `pointee` (None: no table covers it)."""
        if not pointee:
            return None
        return next((o for o in self.operations if pointee in o.pointee), None)

    def for_migration(self, old: str, new: list[str]) -> MigrationRule | None:
        """The rule for `old` whose variants are all among `new` (or `new` is empty)."""
        for rule in self.migrations:
            if rule.old == old and (not new or set(rule.variants) <= set(new)):
                return rule
        return None


def _strings(where: str, table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(where, f"'{key}' must be a list of strings")
    return list(value)


def _optional_str(where: str, table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise BadInput(where, f"'{key}' must be a string")
    return value or None


def _op_fields(where: str, table: dict[str, Any], label: str) -> dict[str, Any]:
    """The fields [[migration]] and [[operations]] share (what calls do through the
    pointer), checked; `label` starts their error messages."""
    depth = table.get("follow_depth", 2)
    escape = table.get("escape_is_write", True)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise BadInput(where, f"{label}: 'follow_depth' must be an integer >= 0")
    if not isinstance(escape, bool):
        raise BadInput(where, f"{label}: 'escape_is_write' must be true or false")
    return {
        "write_ops": frozenset(_strings(where, table, "write_ops")),
        "write_prefixes": tuple(_strings(where, table, "write_prefixes")),
        "read_ops": frozenset(_strings(where, table, "read_ops")),
        "escape_is_write": escape,
        "follow_depth": depth,
        "writer_review": _optional_str(where, table, "writer_review") or "",
        "reader_review": _optional_str(where, table, "reader_review") or "",
    }


def _rule(where: str, table: dict[str, Any]) -> MigrationRule:
    old = table.get("old")
    if not isinstance(old, str) or not old:
        raise BadInput(where, "every [[migration]] needs a non-empty 'old' string")
    variants = _strings(where, table, "variants")
    if not variants:
        raise BadInput(where, f"migration of {old}: 'variants' is empty")
    reader = _optional_str(where, table, "reader")
    writer = _optional_str(where, table, "writer")
    for name, value in (("reader", reader), ("writer", writer)):
        if value is not None and value not in variants:
            raise BadInput(where, f"migration of {old}: {name} {value!r} is not in 'variants'")
    return MigrationRule(
        old=old,
        variants=tuple(variants),
        reader=reader,
        writer=writer,
        **_op_fields(where, table, f"migration of {old}"),
    )


def _operations(where: str, table: dict[str, Any]) -> Operations:
    pointee = _strings(where, table, "pointee")
    if not pointee:
        raise BadInput(where, "every [[operations]] needs a non-empty 'pointee' list")
    return Operations(pointee=frozenset(pointee), **_op_fields(where, table, "operations"))


def parse_rules(text: str, where: str = "<rules>") -> Rules:
    """Parse rules TOML text (schema documented in series_tool/data/pgtable.toml)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(where, f"not valid TOML: {exc}") from exc
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: `a = [[[[...` a few
        # thousand deep exhausts Python's stack. No rules file needs that.
        raise BadInput(where, "not valid TOML: arrays or tables nested too deeply") from None
    tables = data.get("migration", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BadInput(where, "'migration' must be an array of tables ([[migration]])")
    ops = data.get("operations", [])
    if not isinstance(ops, list) or not all(isinstance(t, dict) for t in ops):
        raise BadInput(where, "'operations' must be an array of tables ([[operations]])")
    return Rules(
        tuple(_rule(where, t) for t in tables),
        source=where,
        operations=tuple(_operations(where, t) for t in ops),
    )


def load_rules(path: str | Path) -> Rules:
    """Load a user's rules file (`--rules FILE`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(str(p), f"cannot read rules: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(
            str(p), f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from None
    return parse_rules(text, str(p))


def default_rules() -> Rules:
    """The rules shipped with the package (every *.toml in series_tool/data)."""
    rules: list[MigrationRule] = []
    ops: list[Operations] = []
    data = resources.files("series_tool.data")
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            parsed = parse_rules(entry.read_text(encoding="utf-8"), entry.name)
            rules.extend(parsed.migrations)
            ops.extend(parsed.operations)
    return Rules(tuple(rules), source="series_tool/data", operations=tuple(ops))

"""The learned conversion as a Coccinelle semantic patch (`rewrite --cocci FILE`)."""

from __future__ import annotations

from typing import Any

from series_tool import __version__

from .conversion import Conversion, c_declaration
from .rules import Rules


def _metavar(name: str, taken: set[str]) -> str:
    """A metavariable name for a parameter, unique in the rule."""
    base = name if name.isidentifier() else "e"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}{n}", n + 1
    taken.add(out)
    return out


def semantic_patch(conversions: dict[str, Conversion], rules: Rules | None = None) -> str:
    """A .cocci text with one rule per (old, new variant) pair.

    Several variants: each rule depends on a `virtual` named after its variant, and the
    reader variant from the rules (else the first) also runs when none is given.
    """
    heads: list[dict[str, Any]] = []
    rule_ctx: list[dict[str, Any]] = []
    virtuals: list[str] = []
    for conv in conversions.values():
        news = conv.related()
        if conv.old_proto is None or not news:
            continue
        rule = rules.for_migration(conv.old, news) if rules else None
        default = rule.reader if rule and rule.reader in news else news[0]
        choose = len(news) > 1
        if choose:
            virtuals.extend(news)
        heads.append(
            {
                "old": conv.old,
                "variants": news,
                "choose": choose,
                "virtuals": news,
                "default": default,
            }
        )
        for new in news:
            vc = conv.variants[new]
            taken: set[str] = set()
            args = [_metavar(p.name, taken) for p in conv.old_proto.params]
            extra = next((s for s in vc.extras if s.local and s.local_type), None)
            local = _metavar("tmp", taken) if extra else ""
            new_args: list[str] = []
            for slot in vc.slots:
                if slot.old_index is not None:
                    new_args.append(args[slot.old_index])
                elif slot is extra:
                    new_args.append("&" + local)
                else:
                    new_args.append(slot.value or "/* FIXME */ 0")
            others = [v for v in news if v != new]
            depends = ""
            if choose:
                depends = new if new != default else " && ".join(f"!{o}" for o in others)
            rule_ctx.append(
                {
                    "name": f"{conv.old}_to_{new}",
                    "depends": depends,
                    "old": conv.old,
                    "new": new,
                    "args": args,
                    "new_args": new_args,
                    "extra": c_declaration(extra.param.type, extra.param.name) if extra else "",
                    "local": local,
                    "local_name": extra.local if extra else "",
                    "local_type": extra.local_type if extra else "",
                }
            )
    # Templates load only when a mail or semantic patch is made (start-up stays light).
    from series_tool.render import render

    return render(
        "conversion.cocci.j2",
        version=__version__,
        conversions=heads,
        virtuals=virtuals,
        rules=rule_ctx,
    )

"""variants: the reader/writer choice follows what the caller does with the returned pointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from series_tool.ingest import ingest
from series_tool.models import Migration
from series_tool.rewrite import MigrationRule, check_series_choices, choose_variant, default_rules

RULE = MigrationRule(
    old="get_p",
    variants=("get_p_ro", "get_p_rw"),
    reader="get_p_ro",
    writer="get_p_rw",
    write_ops=frozenset({"store"}),
    write_prefixes=("p_set_",),
    read_ops=frozenset({"p_set_peek"}),
    follow_depth=2,
    writer_review="recheck before writing",
)
VARIANTS = list(RULE.variants)


def choose(body: str, extra: str = "") -> tuple[str, str, tuple[str, ...]]:
    text = extra + "int f(struct s *o)\n{\n\tint *p, *q;\n" + body + "\treturn 0;\n}\n"
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "get_p(" in ln)
    c = choose_variant(text, "x.c", line, "get_p", VARIANTS, RULE)
    return c.variant, c.reason, c.needs_review


@pytest.mark.parametrize(
    ("body", "variant"),
    [
        ("\tp = get_p(o);\n\tlook(p);\n", "get_p_ro"),
        ("\tp = get_p(o);\n\tstore(p, 1);\n", "get_p_rw"),
        ("\tp = get_p(o);\n\tp_set_x(p + 1);\n", "get_p_rw"),
        ("\tp = get_p(o);\n\tp_set_peek(p);\n", "get_p_ro"),
        ("\tp = get_p(o);\n\t*p = 3;\n", "get_p_rw"),
        ("\tp = get_p(o);\n\tq = p;\n\tstore(q, 1);\n", "get_p_rw"),
        ("\tp = get_p(o);\n\to->ptr = p;\n", "get_p_rw"),
        ("\to->ptr = get_p(o);\n", "get_p_rw"),
        ("\tp = get_p(o);\n\treturn p != 0;\n", "get_p_ro"),
        ("\tstore(q, 1);\n\tp = get_p(o);\n", "get_p_ro"),  # writes before the call don't count
        ("\tp = get_p(o);\n\tstore(*p, 1);\n", "get_p_ro"),  # passes a value, not the pointer
    ],
)
def test_choice_follows_use(body: str, variant: str) -> None:
    got, reason, review = choose(body)
    assert got == variant, reason
    assert reason
    assert any("recheck" in r for r in review) == (variant == "get_p_rw")


def test_follows_static_functions_two_levels_only() -> None:
    two = "static void b(int *z) { store(z, 1); }\nstatic void a(int *y) { b(y); }\n"
    got, reason, _ = choose("\tp = get_p(o);\n\ta(p);\n", two)
    assert got == "get_p_rw" and "a()" in reason
    three = "static void c(int *w) { store(w, 1); }\n" + two.replace("store(z, 1)", "c(z)")
    assert choose("\tp = get_p(o);\n\ta(p);\n", three)[0] == "get_p_ro"


def test_local_struct_holder_needs_review() -> None:
    got, _, review = choose("\tstruct h h;\n\tp = get_p(o);\n\th.p = p;\n\tuse(&h);\n")
    assert got == "get_p_ro"
    assert any("use()" in r for r in review)


def test_without_rules_one_variant_is_a_rename_and_several_need_review() -> None:
    text = "void f(void)\n{\n\tg(1);\n}\n"
    assert choose_variant(text, "x.c", 3, "g", ["h"], None).variant == "h"
    c = choose_variant(text, "x.c", 3, "g", ["h1", "h2"], None)
    assert not c.decided and "nothing tells which" in c.reason


def test_real_v4_series_choices_agree_with_analysis() -> None:
    pte = Path(__file__).resolve().parents[1].parent / "shared/corpus/pte-nolock/v4.mbox"
    kernel = Path.home() / ".cache/series-tool/linux-source-6.12"
    if not pte.is_file() or not (kernel / "mm").is_dir():
        pytest.skip("corpus or kernel tree absent")
    series = ingest(str(pte)).series
    migration = Migration(
        old=["pte_offset_map_nolock"],
        new=["pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"],
    )

    def read(path: str) -> str | None:
        p = kernel / path
        return p.read_text(errors="surrogateescape") if p.is_file() else None

    found = check_series_choices(series, migration, read, default_rules())
    assert len(found) <= 1, found


test_real_v4_series_choices_agree_with_analysis = pytest.mark.kernel(
    test_real_v4_series_choices_agree_with_analysis
)

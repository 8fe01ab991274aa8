"""`body_opener` parses a hunk's hint only when it starts with a struct, union or enum
keyword (most hints are function headers): on hints of any shape it answers what the
parse of the hint answers (`_parsed_opener`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.model import body_opener
from series_tool.model.hunkmap import _parsed_opener

PIECES = [
    "struct",
    "union",
    "enum",
    "structure",
    "enum_x",
    "static",
    "const",
    "typedef",
    "__packed",
    "foo",
    "bar_ops",
    "{",
    "}",
    "(",
    ")",
    ";",
    "=",
    "*",
    ",",
    "/* c */",
    "/*",
    "//",
    "\\\n",
    "#define",
    "__attribute__((packed))",
    "int",
    "void",
    "struct device *dev",
]
HINTS = st.lists(st.sampled_from(PIECES), max_size=7).flatmap(
    lambda parts: st.lists(
        st.sampled_from([" ", "", "\t", "  "]), min_size=len(parts), max_size=len(parts)
    ).map(lambda gaps: "".join(g + p for g, p in zip(gaps, parts, strict=True)))
)


@settings(max_examples=600, deadline=None)
@given(HINTS)
def test_body_opener_answers_as_the_parse(hint: str) -> None:
    expected = _parsed_opener(hint) if hint.strip() else None
    assert body_opener(hint) == expected


def test_hints_that_open_bodies_still_do() -> None:
    assert body_opener("struct ops {") == "struct ops {"
    assert body_opener(" ;struct ops {") is None
    assert _parsed_opener(" ;struct ops {") is None
    assert body_opener("enum {") == "enum {"
    assert body_opener("static int probe(struct device *dev)") is None


OPENERS = st.builds(
    lambda pre, kw, name, attr, post: f"{pre}{kw}{name}{attr} {{{post}",
    st.sampled_from(["", " ", "\t", ";", " ; ", "\\\n", "/* c */ ", "static ", "const ", "x "]),
    st.sampled_from(["struct", "union", "enum", "structx", "Struct"]),
    st.sampled_from(["", " ops", " foo_bar", "(", " ops ops"]),
    st.sampled_from(["", " __packed", " __attribute__((packed))"]),
    st.sampled_from(["", " /* members */", " int x;", " }", " // c"]),
)


@settings(max_examples=400, deadline=None)
@given(OPENERS)
def test_opener_shaped_hints_answer_as_the_parse(hint: str) -> None:
    assert body_opener(hint) == _parsed_opener(hint)

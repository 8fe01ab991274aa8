"""rewrite's tree helpers agree with the plain way of asking: a walk of every node, a
fresh parse (hypothesis over small C texts and edits)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.model import parse
from series_tool.rewrite.ctree import apply_edits, error_count, identifiers_named, walk

PIECES = [
    "int f(int a)\n{\n\treturn g(a);\n}\n",
    "static void h(struct s *p) { p->n = g(1) + gg(2); /* g(3) */ }\n",
    '#ifdef X\nint k(void) { char *s = "g(4)"; return g (5); }\n#endif\n',
    "int broken( { g(6);\n",
    "#define G(x) g(x)\n",
    "\tg = 3;\n",
]

texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join)
snippets = st.sampled_from(["", "g(", ")", "x", ";\n", "g(7)", "\n", "{", "int q;"])


@settings(max_examples=150, deadline=None)
@given(texts)
def test_identifiers_named_and_error_count_match_a_walk(text: str) -> None:
    root = parse(text.encode()).root_node
    walked = [n for n in walk(root) if n.type == "identifier" and n.text == b"g"]
    assert [n.id for n in identifiers_named(root, "g")] == [n.id for n in walked]
    assert error_count(root) == sum(1 for n in walk(root) if n.type == "ERROR" or n.is_missing)


@settings(max_examples=300, deadline=None)
@given(texts, st.lists(st.tuples(st.integers(0, 400), st.integers(0, 5), snippets), max_size=4))
def test_incremental_parse_equals_a_fresh_one(text: str, raw: list[tuple[int, int, str]]) -> None:
    data = text.encode()
    edits: list[tuple[int, int, bytes]] = []
    taken = -1
    for start, length, snippet in sorted(raw):
        start = min(start, len(data))
        if start <= taken:
            continue  # edits never overlap
        end = min(start + length, len(data))
        edits.append((start, end, snippet.encode()))
        taken = end
    new, tree = apply_edits(data, parse(data), edits)
    expected = data
    for start, end, snippet_bytes in reversed(edits):
        expected = expected[:start] + snippet_bytes + expected[end:]
    assert new == expected
    fresh = parse(new).root_node
    if not fresh.has_error:  # error recovery may differ; valid C parses the same
        assert str(tree.root_node) == str(fresh)

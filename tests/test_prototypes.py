"""model.prototypes: function types read from C with tree-sitter, spelled as gcc spells them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.model import (
    CSource,
    call_arguments,
    classify_c,
    enclosing_declaration,
    member_types,
    parameter_types,
    prototypes,
    slot_of,
)

SRC = """\
struct a;
struct b;
struct ops {
	int (*validate)(struct a *, struct b *);
	char *(*name)(const struct a *a);
	int plain;
};
extern int __must_check checked(struct a *a, int n);
static inline const char **names(const struct a *x, unsigned long n, ...);
void takes_cb(int (*cb)(struct a *, struct b *), int n);
static const struct ops my_ops = {
	.validate = checked,
	.plain = 1,
};
void user(void)
{
	takes_cb(checked, 3);
	checked(0, 1);
}
"""


def test_prototypes_member_and_parameter_types() -> None:
    src = CSource.from_text(SRC)
    protos = prototypes(src, {"names", "checked"})
    assert [p.pointer_type() for p in protos["names"]] == [
        "const char ** (*)(const struct a *, unsigned long, ...)"
    ]
    assert protos["checked"][0].params == ("struct a *", "int")
    types = member_types(src, {"ops"})
    assert types == {
        ("ops", "validate"): "int (*)(struct a *, struct b *)",
        ("ops", "name"): "char * (*)(const struct a *)",
    }
    assert parameter_types(src, "takes_cb") == [["int (*)(struct a *, struct b *)", "int"]]


def _offset(src: CSource, line: int, name: str) -> tuple[int, int]:
    start = 0
    for _ in range(line - 1):
        start = src.data.index(b"\n", start) + 1
    at = src.data.index(name.encode(), start)
    return at, at + len(name)


def test_slots_of_a_function_used_as_a_value() -> None:
    src = CSource.from_text(SRC)
    init = slot_of(src, *_offset(src, 12, "checked"))
    assert init is not None and (init.how, init.struct, init.member) == (
        "initializer",
        "ops",
        "validate",
    )
    arg = slot_of(src, *_offset(src, 17, "checked"))
    assert arg is not None and (arg.how, arg.callee, arg.index) == ("argument", "takes_cb", 0)
    assert call_arguments(src, "checked", 18) == [["0", "1"]]


def test_kinds_and_enclosing_declaration() -> None:
    src = CSource.from_text(SRC)
    fn = frozenset({"function"})
    assert classify_c(src, *_offset(src, 12, "checked"), fn) == "address"
    assert classify_c(src, *_offset(src, 17, "checked"), fn) == "address"
    assert classify_c(src, *_offset(src, 18, "checked"), fn) == "call"
    assert classify_c(src, *_offset(src, 13, "plain"), frozenset({"member"})) == "member"
    assert enclosing_declaration(src, _offset(src, 12, "checked")[0]) == (
        "static const struct ops my_ops"
    )
    assert enclosing_declaration(src, _offset(src, 6, "plain")[0]) == "struct ops"
    text = '#include <linux/x.h>\n#include "y.h"\nEXPORT_SYMBOL_GPL(checked);\n'
    other = CSource.from_text(text)
    assert classify_c(other, *_offset(other, 1, "linux/x.h")) == "include"
    assert classify_c(other, *_offset(other, 2, "y.h")) == "include"
    assert classify_c(other, *_offset(other, 3, "checked"), fn) == "export"


TYPES = st.sampled_from(
    [
        "int",
        "unsigned long",
        "struct a *",
        "const struct b *",
        "char **",
        "void *",
        "long long",
        "const char *",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    ret=TYPES,
    params=st.lists(TYPES, max_size=5),
    variadic=st.booleans(),
    name=st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True),
)
def test_prototype_spelling_round_trips(
    ret: str, params: list[str], variadic: bool, name: str
) -> None:
    """Whatever prototype is written, it reads back as the types it was written with, and
    a struct member of that pointer type has the same spelling."""
    keywords = {"int", "long", "char", "void", "const", "struct", "unsigned", "do", "if"}
    if name in keywords or (variadic and not params):
        return
    names = [f"p{i}" for i in range(len(params))]
    decl_params = ", ".join(
        f"{t}{n}" if t.endswith("*") else f"{t} {n}" for t, n in zip(params, names, strict=True)
    )
    if variadic:
        decl_params += ", ..."
    head = f"{ret}{name}" if ret.endswith("*") else f"{ret} {name}"
    plist = decl_params or "void"
    text = f"{head}({plist});\nstruct s {{ {ret} (*{name})({plist}); }};\n"
    src = CSource.from_text(text)
    (proto,) = prototypes(src, {name})[name]
    assert proto.ret == ret and list(proto.params) == params and proto.variadic == variadic
    rest = ", ".join([*params, *(["..."] if variadic else [])]) or "void"
    assert proto.pointer_type() == f"{ret} (*)({rest})"
    assert member_types(src, {"s"}) == {("s", name): proto.pointer_type()}

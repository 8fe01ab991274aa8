"""CSource and function_name_from_hint on kernel-shaped C (real tree-sitter)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from series_tool.model import CSource, FunctionSpan, function_name_from_hint
from series_tool.model.cparse import header_name, leaves

KERNEL_SHAPES = """\
static int __init __noreturn weird(void)
{
	return 0;
}
static void __cpuidle idle_fn(int a) __releases(x)
{
	bar();
}
static __always_inline pte_t *ptr_fn(struct mm_struct *mm,
		unsigned long addr) __acquires(ptl)
{
	return helper(mm, addr);
}
int __must_check checked_fn(struct device *dev,
		struct clk_bulk_data **clks)
{
	return 0;
}
static void
split_header(struct address_space *mapping)
{
	x();
}
SYSCALL_DEFINE1(foo, int, a)
{
	return y(3);
}
"""


def test_functions_of_kernel_shapes() -> None:
    src = CSource.from_text(KERNEL_SHAPES)
    assert src.functions() == [
        FunctionSpan("weird", 1, 4),
        FunctionSpan("idle_fn", 5, 8),
        FunctionSpan("ptr_fn", 9, 13),
        FunctionSpan("checked_fn", 14, 18),
        FunctionSpan("split_header", 19, 23),
        FunctionSpan("SYSCALL_DEFINE1", 24, 27),
    ]
    assert src.function_at(12) == "ptr_fn"
    assert src.function_at(21) == "split_header"
    assert src.function_at(26) == "SYSCALL_DEFINE1"


def test_attribute_macros_are_not_calls() -> None:
    callees = {name for name, _ in CSource.from_text(KERNEL_SHAPES).calls()}
    assert {"bar", "helper", "x", "y"} <= callees
    assert not callees & {"__releases", "__acquires", "SYSCALL_DEFINE1"}


PROTOTYPES = """\
extern int __must_check ext_fn(int);
asmlinkage __visible void __softirq_entry soft_fn(void);
pte_t *multi_line(struct mm_struct *mm,
		unsigned long addr);
int attr_after(int) __attribute__((weak));
typedef int fn_type(int);
struct s { int (*member)(int); };
int (*fn_pointer)(int) = ext_fn;
#define OBJ_MACRO 1
#define FN_MACRO(x) ext_fn(x)
static inline int body_fn(void) { return ext_fn(1); }
"""


def test_definitions_classify_prototypes_macros_and_definitions() -> None:
    src = CSource.from_text(PROTOTYPES)
    assert src.definitions() == {
        "ext_fn": {"declaration"},
        "soft_fn": {"declaration"},
        "multi_line": {"declaration"},
        "attr_after": {"declaration"},
        "OBJ_MACRO": {"macro"},
        "FN_MACRO": {"macro"},
        "body_fn": {"definition"},
        "member": {"declaration"},
        "fn_type": {"definition"},
        "fn_pointer": {"definition"},
    }
    assert src.roles()["member"] == {"member"} and src.roles()["fn_pointer"] == {"variable"}
    assert src.roles()["FN_MACRO"] == {"function-macro"} and src.roles()["fn_type"] == {"typedef"}
    # The misparsed `extern int __must_check ext_fn(int);` is not a call either.
    assert [c for c in src.calls() if c[0] == "ext_fn"] == [("ext_fn", 11)]


def test_definitions_line_filter_uses_the_name_line() -> None:
    src = CSource.from_text(PROTOTYPES)
    assert src.definitions(lambda line: line == 3) == {"multi_line": {"declaration"}}
    assert src.definitions(lambda line: line == 4) == {}


def test_function_recovered_after_tree_sitter_error() -> None:
    # A label right before #endif makes tree-sitter give up on the rest of the file.
    text = """\
static int first(pmd_t *pmd,
		unsigned long addr)
{
#ifdef CONFIG_X
	if (a) {
		goto out;
	}
regular:
#endif
	return call_me(pmd);
}

static int second(void)
{
	return 1;
}
"""
    src = CSource.from_text(text)
    assert src.function_at(10) == "first"
    assert src.function_at(15) == "second"
    assert ("call_me", 10) in src.calls()


def test_identifiers_and_surrogateescape() -> None:
    text = b"int f(void) { return g\xff(1) + h(2); }\n".decode("utf-8", "surrogateescape")
    src = CSource.from_text(text)
    assert ("h", 1) in src.calls()
    assert ("f", 1) in src.identifiers()


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("static void adjust_pte(struct vm_area_struct *vma, unsigned long address,", "adjust_pte"),
        (
            "make_coherent(struct address_space *mapping, struct vm_area_struct *vma,",
            "make_coherent",
        ),
        ("static __always_inline pte_t *pte_fn(struct mm_struct *mm, pmd_t *pmd,", "pte_fn"),
        ("int __must_check devm_fn(struct device *dev,", "devm_fn"),
        ("static int foo(void) {", "foo"),
        ("void (*signal(int sig,", "signal"),
        ("static void __init __noreturn weird(void)", "weird"),
        ("{", None),
        ("struct foo {", None),
        ("static const struct file_operations fops = {", None),
        ("#ifdef CONFIG_X", None),
        ("out:", None),
        ("DEFINE_MUTEX(lock);", None),
        ("", None),
    ],
)
def test_function_name_from_hint(hint: str, expected: str | None) -> None:
    assert function_name_from_hint(hint) == expected


IDENT = st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).map(lambda s: "fn_" + s)
PREFIXES = st.sampled_from(
    ["", "static ", "static inline ", "static __always_inline ", "int __must_check ", "extern "]
)
RETURNS = st.sampled_from(["int ", "void ", "pte_t *", "struct page *", "unsigned long "])
PARAMS = st.lists(
    st.sampled_from(["int a", "struct mm_struct *mm", "unsigned long addr", "spinlock_t **ptlp"]),
    min_size=0,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(names=st.lists(IDENT, min_size=1, max_size=4, unique=True), data=st.data())
def test_generated_functions_are_found_with_their_hints(
    names: list[str], data: st.DataObject
) -> None:
    chunks: list[str] = []
    expected: list[str] = []
    for name in names:
        prefix = data.draw(PREFIXES).replace("extern ", "")
        ret = "" if "__must_check" in prefix else data.draw(RETURNS)
        params = ",\n\t\t".join(data.draw(PARAMS)) or "void"
        header = f"{prefix}{ret}{name}({params})"
        chunks.append(f"{header}\n{{\n\treturn callee_{name}(1);\n}}\n")
        expected.append(name)
        assert function_name_from_hint(header.splitlines()[0]) == name
    src = CSource.from_text("\n".join(chunks))
    assert [f.name for f in src.functions()] == expected
    for span in src.functions():
        assert src.function_at(span.end_line - 1) == span.name
    assert {c for c, _ in src.calls()} == {f"callee_{n}" for n in names}


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abf_(){};*/#\n \t,=\"'")), max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    src = CSource.from_text(text)
    nlines = text.count("\n") + 1
    for span in src.functions():
        assert 1 <= span.start_line <= span.end_line <= nlines
    src.definitions()
    src.calls()
    function_name_from_hint(text.split("\n")[0])


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("static __printf(4, 0) /* a */ int /* b */ *foo(int a) __acquires(x)", "foo"),
        ("int /* not the name */ bar(void)", "bar"),
        ("__acquires(x) baz(void)", "__acquires"),  # no typed candidate: the first one
        ("int x = f(1)", None),  # an initializer, not a header
    ],
)
def test_header_name_is_the_typed_identifier_before_a_parenthesis(
    header: str, name: str | None
) -> None:
    """The token before each candidate is the one before it with comments skipped."""
    parsed = CSource.from_text(header + ";\n")
    tokens = [t for t in leaves(parsed.root) if not t.is_missing][:-1]
    found = header_name(tokens)
    assert (found.text.decode() if found is not None else None) == name


def test_a_view_inside_a_macro_defined_function_names_it_as_the_whole_file_does() -> None:
    """`SYSCALL_DEFINE2(name, ...)` then its body are two items to tree-sitter: a one-line
    view of the body must still find the function (find_references asks views for files
    with few hits, the whole source for others: both must give one answer)."""
    text = (
        "static int helper(void);\n\n"
        "SYSCALL_DEFINE2(demo, int, a, int, b)\n{\n\tint x;\n\n"
        "\tif (a) {\n\t\tx = helper();\n\t}\n\treturn kzalloc(a, b) ? x : 0;\n}\n\n"
        "int after(void)\n{\n\treturn 0;\n}\n"
    )
    src = CSource.from_text(text)
    for line in range(1, text.count("\n") + 1):
        assert src.view(line, line).function_at(line) == src.function_at(line), line
    assert src.function_at(10) == "SYSCALL_DEFINE2"
    assert src.view(10, 10).function_at(10) == "SYSCALL_DEFINE2"
    assert src.view(15, 15).function_at(15) == "after"

"""Windowed classification gives what the whole-file parse gives (model/windows.py).

Edits: random line edits of C text (including ones that open comments, braces and
strings, which change how far-away text parses), reparsed incrementally; the carried-over
references plus the re-classified window must equal `find_references` on the new text.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from series_tool.model import (
    MAX_LINE_BYTES,
    CSource,
    find_references,
    item_window,
    parse_limit,
    refs_after_edit,
    windowed_references,
    windowed_roles,
)
from series_tool.model.windows import _function_references, _header_start

BASE = """\
#include <linux/slab.h>

/* kmemdup is used below */
static int __must_check helper(int x);

static void *dup_it(const void *p, size_t n)
{
\tvoid *q = kmemdup(p, n, GFP_KERNEL);
\treturn q;
}

#define DUP(p, n) kmemdup(p, n, GFP_KERNEL)

SYSCALL_DEFINE2(dupper, void *, p, int, n)
{
\treturn kmemdup(p, n, GFP_KERNEL) ? 0 : -ENOMEM;
}

#ifdef CONFIG_X
static void *other(void)
{
\tconst char *s = "kmemdup";
\treturn kmemdup(s, 3, GFP_KERNEL);
}
#endif

void *kmemdup(const void *src, size_t len, gfp_t gfp);
"""

#: Kernel C that tree-sitter parses with ERROR nodes (an attribute macro before a
#: function name, a brace hidden in a macro, a loop macro without a ';'), with clean
#: functions around them: the windows must still give what a whole-file parse gives.
BASE_ERRORS = """\
#include <linux/slab.h>

static int __init setup(void)
{
\treturn kmemdup(a, b, c) ? 0 : -ENOMEM;
}

static void *dup_it(const void *p, size_t n)
{
\tvoid *q = kmemdup(p, n, GFP_KERNEL);
\treturn q;
}

#define BEGIN {
static void opened(void)
BEGIN
\tkmemdup(1, 2, 3);
}

static void loops(void)
{
\tlist_for_each_entry(x, &h, node)
\t\thelper(kmemdup(x, 1, 2));
}

static struct ops o __ro_after_init = { .dup = kmemdup, };

static int helper(int x)
{
\treturn kmemdup(0, x, 0) != 0;
}
"""

SNIPPETS = [
    "\tx = kmemdup(a, b, c);",
    "/* open",
    "*/",
    "{",
    "}",
    '"',
    "#if 0",
    "#endif",
    "static int kmemdup_user(void) { return kmemdup(0, 0, 0) != 0; }",
    "int kmemdup;",
    "",
    "extern int __must_check kmemdup(const void *p);",
]

SYMBOLS = ["kmemdup", "helper"]


def _edit(text: str, ops: list[tuple[int, int, int]]) -> str:
    lines = text.split("\n")
    for where, what, how in ops:
        i = where % (len(lines) + 1)
        snippet = SNIPPETS[what % len(SNIPPETS)]
        if how == 0:
            lines.insert(i, snippet)
        elif how == 1 and i < len(lines):
            lines[i] = snippet
        elif i < len(lines):
            del lines[i]
    return "\n".join(lines)


def _check_chain(path: str, texts: list[str]) -> None:
    """Carried-over references equal a whole-file classification of a fresh parse. Where
    the new version has ERROR nodes, tree-sitter's error recovery can lay them out
    differently when it reparses incrementally than when it parses afresh, so the item
    named for a hit inside broken code (`function`) may differ: there every other field
    must still agree."""
    src = CSource.from_text(texts[0])
    refs = find_references(path, texts[0], SYMBOLS, source=src)
    for text in texts[1:]:
        new = src.reparsed(text)
        refs = refs_after_edit(path, refs, new, SYMBOLS, before_src=src)
        fresh = find_references(path, text, SYMBOLS)
        if new.root.has_error:
            assert [replace(r, function=None) for r in refs] == [
                replace(r, function=None) for r in fresh
            ]
        else:
            assert refs == fresh
        src = new


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20), st.integers(0, 2)), max_size=3),
        min_size=1,
        max_size=4,
    )
)
@example(edits=[[(27, 0, 2), (0, 0, 0)], [(27, 0, 2)]])  # the last line, then no newline
def test_incremental_references_equal_whole_file(edits: list[list[tuple[int, int, int]]]) -> None:
    texts = [BASE]
    for ops in edits:
        texts.append(_edit(texts[-1], ops))
    _check_chain("lib/dup.c", texts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 40), st.integers(0, 20), st.integers(0, 2)), max_size=3),
        min_size=1,
        max_size=4,
    )
)
@example(edits=[[(14, 0, 1), (16, 1, 0), (23, 14, 1)]])  # fresh and incremental ERRORs differ
def test_incremental_references_equal_whole_file_with_errors(
    edits: list[list[tuple[int, int, int]]],
) -> None:
    """The same on a file whose parse has ERROR nodes from the start (common in kernel
    C), where refs_after_edit classifies the file again: kinds and lines must match a
    fresh parse's."""
    assert CSource.from_text(BASE_ERRORS).root.has_error
    texts = [BASE_ERRORS]
    for ops in edits:
        texts.append(_edit(texts[-1], ops))
    _check_chain("drivers/dup.c", texts)


@pytest.mark.kernel
def test_incremental_references_on_kernel_files(kernel_repo: Path) -> None:
    """One-line edits through big kernel files, as a long rename series makes them."""
    for path, symbol in (("mm/memory.c", "pte_offset_map_lock"), ("mm/util.c", "kmemdup")):
        text = subprocess.run(
            ["git", "-C", str(kernel_repo), "show", f"HEAD:{path}"],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        lines = text.split("\n")
        hits = [i for i, ln in enumerate(lines) if symbol in ln]
        texts = [text]
        for i in hits[:12]:
            lines[i] = lines[i].replace(symbol, symbol + "_renamed")
            texts.append("\n".join(lines))
        texts.append("\n".join(["/* unterminated", *lines]))  # everything after it changes
        texts.append("\n".join(lines))
        src = CSource.from_text(texts[0])
        symbols = [symbol, symbol + "_renamed"]
        refs = find_references(path, texts[0], symbols, source=src)
        for t in texts[1:]:
            new = src.reparsed(t)
            refs = refs_after_edit(path, refs, new, symbols, before_src=src)
            src = new
            assert refs == find_references(path, t, symbols)


#: Items of kernel-style C for files the series does not touch: what decides where their
#: windows start and end (closers in column 0, `};`, a '}' in column 0 inside a
#: multi-line #define, lines continued by a backslash), and items tree-sitter parses
#: with errors (the window, or else the whole file, must still give the same answer).
ITEMS = [
    "static void *dup_it(const void *p, size_t n)\n{\n\tvoid *q = kmemdup(p, n, 0);\n"
    "\treturn q;\n}",
    "static int __must_check helper(int x);",
    "int kmemdup;",
    "/* kmemdup { */",
    "static struct ops o __ro_after_init = {\n\t.dup = kmemdup,\n};",
    "#define DUP(p) \\\n{ \\\n\tkmemdup(p, 1, 2); \\\n}",
    "#define ONE(p) kmemdup(p, 1, 2)",
    "SYSCALL_DEFINE2(dupper, void *, p, int, n)\n{\n\treturn helper(kmemdup(p, n, 0));\n}",
    '#ifdef CONFIG_X\nstatic void *other(void)\n{\n\treturn kmemdup("kmemdup", 3, 0);\n}\n#endif',
    "static void loops(void)\n{\n\tlist_for_each_entry(x, &h, node)\n"
    "\t\thelper(kmemdup(x, 1, 2));\n}",
    "static int __init setup(void)\n{\n\treturn kmemdup(a, b, c) ? 0 : -ENOMEM;\n}",
    "void *kmemdup(const void *src, size_t len, gfp_t gfp);",
    "static int helper(int x)\n{\n\tif (x) {\n\t\treturn 1;\n\t}\n\treturn 0;\n}",
    # Bodies whose hits are classified from their statements (windows.py): nested blocks,
    # statements over several lines, else branches, labels, comments and strings with
    # braces or `;`, preprocessor lines, and blocks of loop macros (which tree-sitter may
    # read as nested functions: the whole item must then be parsed).
    "static int nested(int x)\n{\n\tint y = 0;\n\n\tif (x) {\n\t\ty = helper(\n"
    "\t\t\tkmemdup(a, b, c) != 0);\n\t} else if (y) {\n\t\tkmemdup(1, 2, 3);\n\t}"
    " else {\n\t\ty = 2;\n\t}\n\tdo {\n\t\ty++;\n\t} while (kmemdup(0, 0, 0));\n"
    "\treturn y;\n}",
    "static void loop_block(void)\n{\n\tint cpu;\n\n\tfor_each_possible_cpu(cpu) {\n"
    "\t\tp[cpu] = kmemdup(a, b, c);\n\t}\n\tq = kmemdup(a, b, c);\n}",
    "static void loop_brace_line(void)\n{\n\tfor_each_cpu(cpu)\n\t{\n\t\tkmemdup(a, b, c);\n\t}\n}",
    "static void with_comment(void)\n{\n\t/*\n\t * x = kmemdup(a, b, c);\n\t */\n"
    '\tx = 1;\n\t// kmemdup(a);\n\tpr_info("{ %d", kmemdup(a, b, c));\n\t{\n'
    "\t\tkmemdup(1, 2, 3);\n\t}\n}",
    "static int labelled(void)\n{\n\tint r = 0;\n\n\tif (r)\n\t\tgoto out;\nout:\n"
    "\tkmemdup(a, b, c);\n\treturn helper(r);\n}",
    "static void conditional(void)\n{\n#ifdef CONFIG_X\n\tx = kmemdup(a, b, c);\n#endif\n"
    "#if defined(Y)\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t\tkmemdup(1, 2, 3);\n"
    "\t}\n}",
    "static void local_names(void)\n{\n\tint kmemdup = 1;\n\textern int helper(int);\n"
    "\tstruct s v = { .f = kmemdup };\n\tv.kmemdup = helper;\n\tp->helper(kmemdup);\n}",
    "static void list_user(void)\n{\n\tlist_for_each_entry(x, &h, node)\n"
    "\t\tif (x) {\n\t\t\tkmemdup(x, 1, 2);\n\t\t}\n\tkmemdup(0, 0, 0);\n}",
    "static void chain(void)\n{\n\tif (a) {\n\t\tx = kmemdup(a, b, c);\n"
    "\t} else if (kmemdup(1, 2, 3)) {\n\t\ty = 1;\n\t}\n}",
]


#: Function headers as the kernel writes them: attribute macros tree-sitter reads as an
#: ERROR inside the header (the statements may still answer), doc comments above it,
#: comments at the end of parameter lines, parameter lists split by #ifdef (a header cut
#: there is not a header: the whole window answers).
HEADER_ITEMS = [
    "/**\n * doc of init_dup\n */\nstatic void __init init_dup(struct device_node *np)\n{\n"
    "\tp = kmemdup(a, b, c);\n}",
    "struct clk_hw *hw_dup(const char *name, void __iomem *reg,\n\t\t      u8 idx)\n{\n"
    "\tp = kmemdup(a, b, c);\n}",
    "STATIC int\nprep_block(\n\tstruct cur\t*cur,\n\tunion ptr\t*ptrp, /* in/out */\n"
    "\tvoid\t\t*priv)\n{\n\tp = kmemdup(a, b, c);\n}",
    "static int split(int a,\n#ifdef CONFIG_X\n\t\t int b,\n#endif\n\t\t int c)\n{\n"
    "\tp = kmemdup(a, b, c);\n}",
    "static int split2(int a,\n\t\t  /* the b */\n\t\t  int b)\n{\n\tp = kmemdup(a, b, c);\n}",
    "static __printf(2, 3) struct device *\nfmt_dup(const char *fmt, ...)\n{\n"
    "\tp = kmemdup(a, b, c);\n}",
    "int x; /* kept */\nstatic void\n/* between */\nafter_comment(void)\n{\n"
    "\tp = kmemdup(a, b, c);\n}",
    # Error recovery the statements alone would not see, with an attribute macro in the
    # header: an #if inside an initializer (no function around the hit for the whole
    # file; statements alone would name one).
    "int __init arch_init(void)\n{\n\tunsigned int *t[] = { a, b };\n\tu32 insns[] = {\n"
    "#ifdef CONFIG_X\n\t\tA(1),\n\t\tB(2)\n#elif defined(Y)\n\t\tC(1),\n\t\tD(2)\n#else\n"
    "\t\tE(2),\n#endif\n\t};\n\n\tif (x) {\n\t\tfor (i = 0; i < 2; i++) {\n"
    "\t\t\tkmemdup(a, b, c);\n\t\t}\n\t}\n\treturn 0;\n}",
    # A macro call missing its `;` before a function: the whole file reads the function
    # through it (tree-sitter names it after the macro), so the window must keep it.
    "module_init(a_init)\nmodule_exit(a_exit)\n\n/*\n * doc\n */\n\nstatic DEFINE_MUTEX(m);\n\n"
    "static int\nodev_open(struct inode *inode)\n{\n\tp = kmemdup(a, b, c);\n}",
]


def test_headers_answer_as_the_whole_file() -> None:
    """Each header shape, after other items: the windows (statements where they can)
    give what the whole file gives; the statements answer or decline, never differ."""
    for item in HEADER_ITEMS:
        text = ITEMS[1] + "\n\n" + item + "\n"
        want = find_references("lib/dup.c", text, SYMBOLS)
        assert windowed_references("lib/dup.c", text, SYMBOLS) == want, item
        assert [r.function for r in want if r.symbol == "kmemdup" and r.kind == "call"]
    answered = set()
    for i, item in enumerate(HEADER_ITEMS):
        data = item.encode()
        refs = _function_references("lib/dup.c", data, 0, len(data), SYMBOLS, None)
        assert refs is None or refs == find_references("lib/dup.c", item + "\n", SYMBOLS)
        if refs is not None:
            answered.add(i)
    # The statements answer for the clean headers (a comment inside the parameter list,
    # code and comments above); every header that parses with an error (attribute macros,
    # #ifdef in the parameters, a macro call missing its ';' above) goes to the window.
    assert answered == {4, 6}
    # The doc comment above a plain header is not parsed; the statements still answer.
    item = "}\n\n/**\n * doc of clean_dup\n */\nstatic int clean_dup(int a)\n{\n"
    item += "\tp = kmemdup(a);\n}"
    data = item.encode()
    refs = _function_references("lib/dup.c", data, 2, len(data), SYMBOLS, None)
    assert refs is not None
    assert [(r.line, r.function) for r in refs] == [(7, "clean_dup")]
    opener = data.index(b"\n{\n") + 1
    assert _header_start(data, 2, opener) == data.index(b"static int clean_dup")
    # Code above the header (a macro call missing its ';') is never cut off.
    macro = b"}\nmodule_exit(x)\n/* c */\nstatic int f(void)\n{\n\tp = kmemdup(a);\n}"
    assert _header_start(macro, 2, macro.index(b"\n{\n") + 1) == 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ITEMS), max_size=10), st.sampled_from(["\n", "\n\n"]))
def test_windows_of_an_untouched_file_equal_whole_file(items: list[str], sep: str) -> None:
    """The windows around the hits (bounded by closers looked for near each hit) classify
    every reference as the whole-file parse does."""
    text = sep.join(items) + "\n"
    assert windowed_references("lib/dup.c", text, SYMBOLS) == find_references(
        "lib/dup.c", text, SYMBOLS
    )


def test_statements_classify_as_the_whole_item() -> None:
    """Every body item of ITEMS alone, and all of them in one file: what the statements
    around the hits give is what the whole file's parse gives; and the statements are
    what answered for plain bodies (the item is not parsed whole)."""
    text = "\n".join(ITEMS) + "\n"
    assert windowed_references("lib/dup.c", text, SYMBOLS) == find_references(
        "lib/dup.c", text, SYMBOLS
    )
    roles = {"kmemdup": frozenset({"function"}), "helper": frozenset({"function"})}
    assert windowed_references("lib/dup.c", text, SYMBOLS, roles=roles) == find_references(
        "lib/dup.c", text, SYMBOLS, roles=roles
    )
    plain = ITEMS[13].encode()
    refs = _function_references("lib/dup.c", plain, 0, len(plain), SYMBOLS, None)
    assert refs is not None
    assert [(r.line, r.kind, r.function) for r in refs] == [
        (6, "call", "nested"),
        (7, "call", "nested"),
        (9, "call", "nested"),
        (15, "call", "nested"),
    ]
    # A hit in a block and one on the `} else if` line after it: the whole if statement.
    chain = ITEMS[-1].encode()
    refs = _function_references("lib/dup.c", chain, 0, len(chain), SYMBOLS, None)
    assert refs is not None
    assert [(r.line, r.kind, r.function) for r in refs] == [
        (4, "call", "chain"),
        (5, "call", "chain"),
    ]
    # A loop macro's block, which tree-sitter reads as a nested function: the whole
    # statement around the hit is parsed, so the answer is the item's (that "function").
    loop = ITEMS[14].encode()
    refs = _function_references("lib/dup.c", loop, 0, len(loop), SYMBOLS, None)
    whole = find_references("lib/dup.c", ITEMS[14] + "\n", SYMBOLS)
    assert [r.function for r in whole] == ["for_each_possible_cpu", "loop_block"]
    assert refs == whole


#: Lines spliced into function bodies: block openers and closers of statements and of
#: loop macros, else branches, preprocessor lines, braces and `;` in strings and comments.
BODY_LINES = [
    *SNIPPETS,
    "\tif (a) {",
    "\t} else {",
    "\t}",
    "\tfor_each_x(a) {",
    "\tlist_for_each_entry(x, &h, node)",
    "\tdo {",
    "\t} while (kmemdup(0, 0, 0));",
    "#ifdef X",
    "#else",
    '\tx = "{;";',
    "\t/* { kmemdup(1); */",
    "out:",
    "\tp = kmemdup(a,",
    "\t\tb, c);",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([ITEMS[0], *ITEMS[13:], *HEADER_ITEMS]),
    st.lists(st.tuples(st.integers(0, 40), st.sampled_from(BODY_LINES)), max_size=4),
    st.sampled_from([None, {"kmemdup": frozenset({"function"})}]),
)
def test_statements_answer_as_the_whole_item_or_not_at_all(
    item: str, inserts: list[tuple[int, str]], roles: dict[str, frozenset[str]] | None
) -> None:
    """Whatever lines a body holds, the statements around the hits either give what the
    whole item's parse gives, or decline (None: the item is parsed whole)."""
    lines = item.split("\n")
    for at, line in inserts:
        lines.insert(1 + at % (len(lines) - 1), line)  # after the header, before the '}'
    text = "\n".join(lines)
    data = text.encode()
    refs = _function_references("lib/dup.c", data, 0, len(data), SYMBOLS, roles)
    if refs is not None:
        assert refs == find_references("lib/dup.c", text + "\n", SYMBOLS, roles=roles)


_LONG_LINE = re.compile(rb"[^\n]{%d}" % (MAX_LINE_BYTES + 1))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([0, 1, MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1, 40_000]),
        max_size=6,
    ),
    st.booleans(),
)
def test_long_line_limit_equals_a_regex_for_a_long_line(lengths: list[int], newline: bool) -> None:
    """parse_limit's jump from line start to line start finds a line over the limit
    exactly where a regex for a run of that many non-newlines does."""
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if newline else b"")
    long = _LONG_LINE.search(data) is not None
    assert (parse_limit(data) is not None) == (long or len(data) > 4 * 1024 * 1024)


ROLES_C = """\
#include <linux/dev.h>

#define OLD_FLAG 4
#define old_take(l) take(l)

struct ops {
\tint (*validate)(int);
\tint old_member;
};

int old_fn(int a);

static int user(struct ops *o)
{
\tint old_local = old_fn(OLD_FLAG) + o->old_member;

\told_take(&lock);
\treturn old_local + unused_fn(1);
}
"""


def test_windowed_roles_are_what_the_file_defines_each_name_as() -> None:
    """From the items around the names only: a prototype, a member, both kinds of macro;
    a function only called here (and a local variable) is not defined by the file."""
    names = ["old_fn", "old_member", "OLD_FLAG", "old_take", "old_local", "unused_fn"]
    roles = windowed_roles("drivers/x.c", ROLES_C, names)
    assert roles == {
        "old_fn": {"function"},
        "old_member": {"member"},
        "OLD_FLAG": {"macro"},
        "old_take": {"function-macro"},
    }
    whole = CSource.from_text(ROLES_C).roles()
    assert roles == {n: r for n, r in whole.items() if n in names}
    assert windowed_roles("Documentation/x.rst", ROLES_C, names) == {}


def test_an_edit_inside_one_body_reclassifies_only_its_statements() -> None:
    """A long function converted one call per patch: the window around an edit that stays
    inside one cleanly parsed body is the statements it touches (and one line around), not
    the whole function, and the references carried over around it still equal a fresh
    whole-file classification, lines moved by what the edit added."""
    calls = "".join(f"\tq{i} = kmemdup(p, {i}, GFP_KERNEL);\n" for i in range(40))
    tail = "static void *one(const void *p)\n{\n\treturn kmemdup(p, 1, GFP_KERNEL);\n}\n"
    text = f"static void many(const void *p)\n{{\n{calls}}}\n\n{tail}"
    names = ["kmemdup", "kmemdup_new"]
    src = CSource.from_text(text)
    refs = find_references("many.c", text, names, source=src)
    old_line = "\tq20 = kmemdup(p, 20, GFP_KERNEL);\n"
    new_text = text.replace(old_line, "\tq20 = kmemdup_new(p, 20,\n\t\t\t  GFP_KERNEL);\n")
    new = src.reparsed(new_text)
    assert new.changed is not None and not new.root.has_error
    lo, hi, _ = new.changed
    start, end = item_window(new, lo, hi)
    window = new.data[start:end].decode()
    assert "kmemdup_new" in window
    assert "static void many" not in window and window.count("\n") <= 6
    carried = refs_after_edit("many.c", refs, new, names, before_src=src)
    assert carried == find_references("many.c", new_text, names)
    assert [r.function for r in carried if r.symbol == "kmemdup_new"] == ["many"]

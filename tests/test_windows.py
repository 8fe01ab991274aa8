"""Windowed classification gives what the whole-file parse gives (model/windows.py).

Edits: random line edits of C text (including ones that open comments, braces and
strings, which change how far-away text parses), reparsed incrementally; the carried-over
references plus the re-classified window must equal `find_references` on the new text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from series_tool.model import CSource, find_references, refs_after_edit

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
    src = CSource.from_text(texts[0])
    refs = find_references(path, texts[0], SYMBOLS, source=src)
    for text in texts[1:]:
        new = src.reparsed(text)
        refs = refs_after_edit(path, refs, new, SYMBOLS, before_src=src)
        src = new
        assert refs == find_references(path, text, SYMBOLS)


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
def test_incremental_references_equal_whole_file_with_errors(
    edits: list[list[tuple[int, int, int]]],
) -> None:
    """The same on a file whose parse has ERROR nodes from the start (common in kernel
    C): references are carried over only where the function spans outside the window
    did not move."""
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

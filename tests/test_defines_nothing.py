"""`defines_nothing` skips the definition queries for calls in function bodies: it must
never say so of a name that `CSource._definitions` lists (a prototype, a #define, a
misparsed header inside an #ifdef, a loop macro read as a nested function...)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tree_sitter import Node

from series_tool.model.cparse import CSource, defines_nothing, leaves

TRICKY = """\
#define f(x) g(x)
int __must_check h(int);
static int a = k(1);
SYSCALL_DEFINE1(m, int, x)
{
	c(0);
}

static int d(int x)
{
	int local(int);
	n(1);
	x = o(2);
#ifdef CONFIG_X
	p(3)
	{
		q(4);
	}
#endif
	list_for_each_entry(r, s, t) {
		u = v(5);
		w(6);
	}
	if (y(7))
		z(8);
	struct foo *bar = kzalloc(sizeof(*bar), GFP_KERNEL);
	return e(9);
}

void tail(void)
{
	bar = kzalloc(1, 2
}
"""


def _identifiers(src: CSource) -> list[Node]:
    return [n for n in leaves(src.root) if n.type == "identifier"]


def _check(src: CSource) -> int:
    """Every identifier `defines_nothing` skips is listed by no definition; returns how
    many were skipped (the shortcut must be taken, or it saves nothing)."""
    skipped = 0
    for node in _identifiers(src):
        if defines_nothing(node):
            skipped += 1
            assert src.definition_kind_at(node.start_byte) is None, node.text
    return skipped


def test_no_definition_is_skipped_in_tricky_shapes() -> None:
    src = CSource.from_text(TRICKY)
    skipped = {n.text for n in _identifiers(src) if defines_nothing(n)}
    assert _check(src) >= 5
    # Calls in the body are skipped; names at file scope or in headers never are.
    assert {b"n", b"o", b"q", b"v", b"w", b"y", b"e", b"kzalloc"} <= skipped
    # File scope, a header read as a call (and its body), a prototype in a body, the
    # #ifdef'd header-like call, an ERROR: asked as before.
    assert not skipped & {b"f", b"g", b"h", b"k", b"SYSCALL_DEFINE1", b"c", b"local", b"p"}


@pytest.mark.kernel
def test_no_definition_is_skipped_in_kernel_files(kernel_repo: Path) -> None:
    paths = ["mm/memory.c", "kernel/fork.c", "include/linux/fortify-string.h", "fs/ext4/super.c"]
    skipped = 0
    for path in paths:
        text = subprocess.run(
            ["git", "-C", str(kernel_repo), "show", f"HEAD:{path}"],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        skipped += _check(CSource.from_text(text))
    assert skipped > 1000

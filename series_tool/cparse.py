"""C parsing with tree-sitter (tree-sitter-c): the only way this project reads C."""

from __future__ import annotations

from functools import cache

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Tree


@cache
def c_language() -> Language:
    """The tree-sitter C grammar (loaded once; it is immutable)."""
    return Language(tree_sitter_c.language())


def parse(source: bytes) -> Tree:
    """Parse C source bytes into a tree-sitter tree.

    A new Parser per call keeps this free of shared mutable state; creating one
    is cheap next to parsing.
    """
    return Parser(c_language()).parse(source)


def node_text(node: Node) -> str:
    """The source text of a node, decoded the way file contents are (surrogateescape)."""
    raw = node.text or b""
    return raw.decode("utf-8", "surrogateescape")

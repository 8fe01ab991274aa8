"""model: patches -> hunks -> C functions and references (tree-sitter-c) -> the migration.

The names below are the stage's interface; other stages import them from here.
"""

from .cparse import (
    MAX_LINE_BYTES,
    MAX_PARSE_BYTES,
    CSource,
    FunctionSpan,
    function_name_from_hint,
    node_text,
    parse,
    parse_limit,
)
from .hunkmap import defined_on_changed_lines, map_hunk, map_patch_without_tree
from .migration import (
    collect_defined,
    header_symbol,
    infer_migration,
    is_header,
    symbols_defined_by_series,
)
from .references import classify_c, count_kinds, enclosing_declaration, find_references, is_c_path
from .visibility import file_local_names, provides_api
from .words import alternation, has_word, word_pattern

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_PARSE_BYTES",
    "CSource",
    "FunctionSpan",
    "alternation",
    "classify_c",
    "collect_defined",
    "count_kinds",
    "defined_on_changed_lines",
    "enclosing_declaration",
    "file_local_names",
    "find_references",
    "function_name_from_hint",
    "has_word",
    "header_symbol",
    "infer_migration",
    "is_c_path",
    "is_header",
    "map_hunk",
    "map_patch_without_tree",
    "node_text",
    "parse",
    "parse_limit",
    "provides_api",
    "symbols_defined_by_series",
    "word_pattern",
]

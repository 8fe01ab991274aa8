"""model: patches -> hunks -> C functions and references (tree-sitter-c) -> the migration.

The names below are the stage's interface; other stages import them from here.
"""

from .cparse import CSource, FunctionSpan, function_name_from_hint, node_text, parse
from .hunkmap import defined_on_changed_lines, map_hunk, map_patch_without_tree
from .migration import collect_defined, infer_migration, symbols_defined_by_series
from .references import count_kinds, find_references, is_c_path
from .windows import item_window, refs_after_edit, windowed_references
from .words import alternation, has_word, word_pattern

__all__ = [
    "CSource",
    "FunctionSpan",
    "alternation",
    "collect_defined",
    "count_kinds",
    "defined_on_changed_lines",
    "find_references",
    "function_name_from_hint",
    "has_word",
    "infer_migration",
    "is_c_path",
    "item_window",
    "map_hunk",
    "map_patch_without_tree",
    "node_text",
    "parse",
    "refs_after_edit",
    "symbols_defined_by_series",
    "windowed_references",
    "word_pattern",
]

"""model: patches -> hunks -> C functions and references (tree-sitter-c) -> the migration.

The names below are the stage's interface; other stages import them from here.
"""

from .cparse import (
    MAX_LINE_BYTES,
    MAX_PARSE_BYTES,
    TOP_LEVEL_CONTAINERS,
    CSource,
    FunctionSpan,
    captures,
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
from .prototypes import (
    Prototype,
    call_arguments,
    member_types,
    parameter_types,
    prototypes,
    slot_of,
)
from .references import classify_c, count_kinds, enclosing_declaration, find_references, is_c_path
from .scope import (
    DefinitionSite,
    Scope,
    build_scope,
    definition_sites,
    is_global_header,
    shared_variables,
)
from .visibility import file_local_names, provides_api
from .windows import item_window, refs_after_edit, windowed_references
from .words import alternation, has_word, word_pattern

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_PARSE_BYTES",
    "TOP_LEVEL_CONTAINERS",
    "CSource",
    "DefinitionSite",
    "FunctionSpan",
    "Prototype",
    "Scope",
    "alternation",
    "build_scope",
    "call_arguments",
    "captures",
    "classify_c",
    "collect_defined",
    "count_kinds",
    "defined_on_changed_lines",
    "definition_sites",
    "enclosing_declaration",
    "file_local_names",
    "find_references",
    "function_name_from_hint",
    "has_word",
    "header_symbol",
    "infer_migration",
    "is_c_path",
    "is_global_header",
    "is_header",
    "item_window",
    "map_hunk",
    "map_patch_without_tree",
    "member_types",
    "node_text",
    "parameter_types",
    "parse",
    "parse_limit",
    "prototypes",
    "provides_api",
    "refs_after_edit",
    "shared_variables",
    "slot_of",
    "symbols_defined_by_series",
    "windowed_references",
    "word_pattern",
]

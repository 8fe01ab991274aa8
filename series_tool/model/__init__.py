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
    empty_tree,
    function_name_from_hint,
    node_text,
    parse,
    parse_limit,
)
from .hunkmap import (
    SideCache,
    body_opener,
    changes_undefined_code,
    defined_on_changed_lines,
    map_hunk,
    map_patch_without_tree,
    numbered_lines,
)
from .itemparse import Span, item_spans, line_starts, parse_items
from .members import MemberUse, lacks_member, member_uses, struct_bodies
from .members import includes as file_includes
from .migration import (
    collect_defined,
    header_symbol,
    infer_migration,
    is_header,
    symbols_defined_by_series,
)
from .protochanges import PrototypeChange, normalized_type, prototype_changes, same_type
from .prototypes import (
    Prototype,
    assignment_target,
    call_arguments,
    macro_alias,
    member_types,
    parameter_types,
    prototypes,
    slot_of,
)
from .references import (
    MACRO_ROLES,
    classify_c,
    count_kinds,
    enclosing_declaration,
    find_references,
    is_c_path,
)
from .scope import (
    DefinitionSite,
    Scope,
    build_scope,
    definition_sites,
    is_global_header,
    shared_variables,
)
from .visibility import file_local_names, offered_names, private_removed, provides_api
from .windows import item_window, refs_after_edit, windowed_references, windowed_roles
from .words import alternation, has_word, word_pattern, word_pattern_bytes

__all__ = [
    "MACRO_ROLES",
    "MAX_LINE_BYTES",
    "MAX_PARSE_BYTES",
    "TOP_LEVEL_CONTAINERS",
    "CSource",
    "DefinitionSite",
    "FunctionSpan",
    "MemberUse",
    "Prototype",
    "PrototypeChange",
    "Scope",
    "SideCache",
    "Span",
    "alternation",
    "assignment_target",
    "body_opener",
    "build_scope",
    "call_arguments",
    "captures",
    "changes_undefined_code",
    "classify_c",
    "collect_defined",
    "count_kinds",
    "defined_on_changed_lines",
    "definition_sites",
    "empty_tree",
    "enclosing_declaration",
    "file_includes",
    "file_local_names",
    "find_references",
    "function_name_from_hint",
    "has_word",
    "header_symbol",
    "infer_migration",
    "is_c_path",
    "is_global_header",
    "is_header",
    "item_spans",
    "item_window",
    "lacks_member",
    "line_starts",
    "macro_alias",
    "map_hunk",
    "map_patch_without_tree",
    "member_types",
    "member_uses",
    "node_text",
    "normalized_type",
    "numbered_lines",
    "offered_names",
    "parameter_types",
    "parse",
    "parse_items",
    "parse_limit",
    "private_removed",
    "prototype_changes",
    "prototypes",
    "provides_api",
    "refs_after_edit",
    "same_type",
    "shared_variables",
    "slot_of",
    "struct_bodies",
    "symbols_defined_by_series",
    "windowed_references",
    "windowed_roles",
    "word_pattern",
    "word_pattern_bytes",
]

"""rewrite: conversion patches for the callers a series missed (argument maps, variants, rules).

The names below are the stage's interface; other stages import them from here.
"""

from .check import CheckResult, changed_later, check_rewrite, mail_patch, replay_with_mails
from .cocci import semantic_patch
from .conversion import Conversion, calls_in, function_from_section, learn_conversion, prototypes_in
from .plan import RewritePlan, diffstat, patch_filename, plan_rewrite, unified_diff
from .rules import MigrationRule, default_rules, load_rules, parse_rules
from .variants import check_series_choices, choose_variant

__all__ = [
    "CheckResult",
    "Conversion",
    "MigrationRule",
    "RewritePlan",
    "calls_in",
    "changed_later",
    "check_rewrite",
    "check_series_choices",
    "choose_variant",
    "default_rules",
    "diffstat",
    "function_from_section",
    "learn_conversion",
    "load_rules",
    "mail_patch",
    "parse_rules",
    "patch_filename",
    "plan_rewrite",
    "prototypes_in",
    "replay_with_mails",
    "semantic_patch",
    "unified_diff",
]

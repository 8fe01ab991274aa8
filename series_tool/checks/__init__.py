"""checks: the analysis of a replayed series and the findings of verify and bisect-report.

The names below are the stage's interface; other stages import them from here.
"""

from .analysis import Analysis, ListRefs, Step, analyse
from .bisect import bisect_report
from .guards import arch_of, config_guards, makefile_configs, object_of, where_built
from .problems import leftover_definition, not_a_use, other_entity_macro
from .removal import ApiRemoval, api_removals, still_removed
from .signatures import prototype_misfits
from .verify import verify_report

__all__ = [
    "Analysis",
    "ApiRemoval",
    "ListRefs",
    "Step",
    "analyse",
    "api_removals",
    "arch_of",
    "bisect_report",
    "config_guards",
    "leftover_definition",
    "makefile_configs",
    "not_a_use",
    "object_of",
    "other_entity_macro",
    "prototype_misfits",
    "still_removed",
    "verify_report",
    "where_built",
]

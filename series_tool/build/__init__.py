"""build: build commands run per step in temporary worktrees (the only stage that writes a tree).

The names below are the stage's interface; other stages import them from here.
"""

from .kernel import build_findings, kernel_build
from .plan import KernelOptions, plan_objects
from .process import Interrupted, Runner
from .toolchains import host_arch, toolchain
from .tuxmake import TuxmakeSpec, tuxmake_build
from .tuxmake import check_spec as check_tuxmake_spec
from .tuxmake import parse_spec as parse_tuxmake_spec
from .tuxsuite import PlanRequest as TuxsuitePlanRequest
from .tuxsuite import check_request as check_tuxsuite_request
from .tuxsuite import make_plan as make_tuxsuite_plan
from .tuxsuite import read_results as read_tuxsuite_results
from .tuxsuite import tux_arch
from .worktrees import build_steps, remove_worktree, tree_bytes

__all__ = [
    "Interrupted",
    "KernelOptions",
    "Runner",
    "TuxmakeSpec",
    "TuxsuitePlanRequest",
    "build_findings",
    "build_steps",
    "check_tuxmake_spec",
    "check_tuxsuite_request",
    "host_arch",
    "kernel_build",
    "make_tuxsuite_plan",
    "parse_tuxmake_spec",
    "plan_objects",
    "read_tuxsuite_results",
    "remove_worktree",
    "toolchain",
    "tree_bytes",
    "tux_arch",
    "tuxmake_build",
]

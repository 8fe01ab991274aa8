"""build: build commands run per step in temporary worktrees (the only stage that writes a tree).

The names below are the stage's interface; other stages import them from here.
"""

from .kernel import build_findings, kernel_build
from .plan import KernelOptions, plan_objects
from .process import Interrupted, Runner
from .toolchains import host_arch, toolchain
from .worktrees import build_steps, remove_worktree, tree_bytes

__all__ = [
    "Interrupted",
    "KernelOptions",
    "Runner",
    "build_findings",
    "build_steps",
    "host_arch",
    "kernel_build",
    "plan_objects",
    "remove_worktree",
    "toolchain",
    "tree_bytes",
]

"""build: build commands run per step in temporary worktrees (the only stage that writes a tree).

The names below are the stage's interface; other stages import them from here.
"""

from .process import Interrupted, Runner
from .worktrees import build_steps, remove_worktree, tree_bytes

__all__ = [
    "Interrupted",
    "Runner",
    "build_steps",
    "remove_worktree",
    "tree_bytes",
]

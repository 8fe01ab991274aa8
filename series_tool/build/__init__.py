"""build: build commands run per step in temporary worktrees (the only stage that writes a tree).

The names below are the stage's interface; other stages import them from here.
"""

from .worktrees import build_steps

__all__ = [
    "build_steps",
]

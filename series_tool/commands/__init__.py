"""commands: each subcommand wires the stages together and picks the renderer.

The names below are the stage's interface; other stages import them from here.
"""

from .run import run_bisect, run_index, run_rewrite, run_show, run_verify
from .scan import run_scan

__all__ = [
    "run_bisect",
    "run_index",
    "run_rewrite",
    "run_scan",
    "run_show",
    "run_verify",
]

"""commands: each subcommand wires the stages together and picks the renderer.

The names below are the stage's interface; other stages import them from here. `scan`
loads on first use (module `__getattr__`): the other commands never need its modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .run import run_bisect, run_index, run_rewrite, run_show, run_verify

if TYPE_CHECKING:
    from .scan import run_scan

#: name -> the module of this package that defines it, imported when the name is asked.
_LAZY = {"run_scan": "scan"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "run_bisect",
    "run_index",
    "run_rewrite",
    "run_scan",
    "run_show",
    "run_verify",
]

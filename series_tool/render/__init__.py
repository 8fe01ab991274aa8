"""render: text (rich), JSON, Markdown, HTML and mail, every generated text from `templates/`.

The names below are the stage's interface; other stages import them from here. The
renderers load on first use (module `__getattr__`): rich and jinja2 cost start-up time
that a JSON report never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .jsonout import to_json, write_json

if TYPE_CHECKING:
    from .scantext import scan_text
    from .templating import render
    from .text import (
        bisect_text,
        console_for,
        from_template,
        rewrite_text,
        show_text,
        verify_text,
    )

#: name -> the module of this package that defines it, imported when the name is asked.
_LAZY = {
    "scan_text": "scantext",
    "render": "templating",
    "bisect_text": "text",
    "console_for": "text",
    "from_template": "text",
    "rewrite_text": "text",
    "show_text": "text",
    "verify_text": "text",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "bisect_text",
    "console_for",
    "from_template",
    "render",
    "rewrite_text",
    "scan_text",
    "show_text",
    "to_json",
    "verify_text",
    "write_json",
]

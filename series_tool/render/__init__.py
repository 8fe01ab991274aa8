"""render: text (rich), JSON, Markdown, HTML and mail, every generated text from `templates/`.

The names below are the stage's interface; other stages import them from here.
"""

from .scantext import scan_text
from .templating import render
from .text import (
    bisect_text,
    console_for,
    from_template,
    rewrite_text,
    show_text,
    to_json,
    verify_text,
)

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
]

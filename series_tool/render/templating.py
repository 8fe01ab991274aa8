"""jinja2 templates: every mail, patch and report the tool writes comes from `templates/`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2


def template_dir() -> Path:
    """Where the templates live: the source checkout's `templates/`, else the installed copy.

    pyproject maps the top-level `templates/` folder to the package `series_tool.templates`,
    so an installed wheel carries them inside the package.
    """
    package = Path(__file__).resolve().parents[1]
    for candidate in (package.parent / "templates", package / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("series-tool templates are missing from this installation")


@cache
def environment(kind: str) -> jinja2.Environment:
    """One environment per output kind; 'html' autoescapes, the others are plain text.

    Cached because building an Environment and compiling templates is the slow part;
    environments are immutable once set up.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=(kind == "html"),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def render(template_name: str, **context: Any) -> str:
    """Render `templates/<template_name>` with the given context."""
    kind = "html" if template_name.endswith(".html.j2") else "text"
    return environment(kind).get_template(template_name).render(**context)

"""Thousands of report lines printed in runs (render/text.py `_print_lines`) read exactly
as the same lines printed one by one: wrapping, tabs, trailing blanks, wide characters,
colour."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from series_tool.render.text import _print_lines

_PIECES = st.sampled_from(
    [
        "kzalloc",
        " ",
        "  ",
        "\t",
        "日本",
        "x" * 30,
        "a/b/c.c:12",
        "(",
        "[bold]",
        "é",
        "",
        "\x0c",
        "\u200b",
    ]
)
_LINES = st.lists(
    st.tuples(st.lists(_PIECES, max_size=12), st.sampled_from(["", "red", "yellow"])),
    max_size=12,
)


def _console(width: int, colour: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=colour,
        color_system="truecolor" if colour else None,
        highlight=False,
        soft_wrap=False,
        markup=False,
    )
    return console, buf


@settings(max_examples=200, deadline=None)
@given(_LINES, st.sampled_from([20, 40, 80, 200]), st.booleans())
def test_lines_in_runs_print_as_one_by_one(
    specs: list[tuple[list[str], str]], width: int, colour: bool
) -> None:
    def lines() -> list[Text]:
        out = []
        for pieces, style in specs:
            line = Text("  after patch 3: ")
            line.append("call", style=style)
            line.append("".join(pieces))
            out.append(line)
        return out

    one, one_buf = _console(width, colour)
    for line in lines():
        one.print(line)
    runs, runs_buf = _console(width, colour)
    _print_lines(runs, lines())
    assert runs_buf.getvalue() == one_buf.getvalue()

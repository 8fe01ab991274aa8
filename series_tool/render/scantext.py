"""The terminal summary of `series-tool scan` (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_STYLE = {"success": "green", "warning": "yellow", "fail": "bold red"}


def scan_text(console: Console, summary: dict[str, Any]) -> None:
    """A table of the series checked in this run, then one line of counts and times."""
    checked = summary["checked"]
    if checked:
        table = Table(title="API removal series checked", title_justify="left")
        table.add_column("verdict")
        table.add_column("series")
        table.add_column("result")
        for s in checked:
            table.add_row(
                Text(s["state"], style=_STYLE[s["state"]]),
                f"v{s['version']} {s['title']} ({s['patches']} patches)",
                s["description"],
            )
        console.print(table)
    for pull in summary.get("pulls", []):
        console.print(
            f"skipped a pull request (git request-pull) for {pull['pull']} "
            f"<{pull['message_id']}>: a merge to ask for, not patches to check"
        )
    times = ", ".join(f"{k} {v:.1f} s" for k, v in summary["seconds"].items())
    console.print(
        f"{summary['messages_read']} new messages read, {summary['series_found']} series "
        f"found, {summary['series_checked']} API removal series checked ({times}); "
        f"index: {summary['output']}/index.html"
    )

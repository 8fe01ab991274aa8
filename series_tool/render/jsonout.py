"""JSON reports: plain `json`, nothing else (a JSON run loads neither rich nor jinja2)."""

from __future__ import annotations

import json
from typing import Any, TextIO


def to_json(data: dict[str, Any]) -> str:
    """Stable JSON: keys in the order the report builds them, two-space indent."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_json(data: dict[str, Any], out: TextIO) -> None:
    """Write `to_json(data)` to `out` as it is encoded (`json.dump` writes piece by piece
    into the buffered stream): a report of a million references is never one string."""
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")

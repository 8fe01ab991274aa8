"""JSON reports: plain `json`, nothing else (a JSON run loads neither rich nor jinja2)."""

from __future__ import annotations

import json
from typing import Any, TextIO


def to_json(data: dict[str, Any]) -> str:
    """Stable JSON: keys in the order the report builds them, two-space indent."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


#: characters of JSON gathered before each write (the encoder yields tiny pieces)
_JSON_BATCH = 1 << 16


def write_json(data: dict[str, Any], out: TextIO, batch_size: int = _JSON_BATCH) -> None:
    """Write `to_json(data)` to `out` as it is encoded, a batch at a time: a report of a
    million references is never one string (nor a list of millions of pieces)."""
    batch: list[str] = []
    size = 0
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(data):
        batch.append(piece)
        size += len(piece)
        if size >= batch_size:
            out.write("".join(batch))
            batch.clear()
            size = 0
    batch.append("\n")
    out.write("".join(batch))

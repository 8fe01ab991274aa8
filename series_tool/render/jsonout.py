"""JSON reports: plain `json`, nothing else (a JSON run loads neither rich nor jinja2)."""

from __future__ import annotations

import json
from typing import Any


def to_json(data: dict[str, Any]) -> str:
    """Stable JSON: keys in the order the report builds them, two-space indent."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

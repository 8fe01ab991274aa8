"""What `scan` keeps in its output folder between runs, in two files.

``state.json`` is small and read by every run: the archive, the last commit read per
epoch, the next message number, the verdict on every series checked, and how many bytes
of ``records.jsonl`` are valid. ``records.jsonl`` holds one record (``MailRecord``) per
patch and cover mail ever read, one JSON object a line; it is large (tens of megabytes for
a 100,000-message archive), so it is read only when new mail arrived, and a run appends
to it instead of rewriting it.

The two are kept consistent by the byte count: records are appended first, then the
state naming the new length is replaced atomically. An interrupted run leaves records
past the recorded length; the next run cuts them off (their messages are read again,
since the state's heads did not move).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from series_tool.errors import BadInput
from series_tool.ingest import MailRecord

from .outputs import write_text

STATE_FILE = "state.json"
RECORDS_FILE = "records.jsonl"
#: 1: records inside state.json (read, then moved out on the next save); 2: records.jsonl
STATE_VERSION = 2


def new_state(archive: str, series: dict[str, Any]) -> dict[str, Any]:
    """The state of a scan starting over on ``archive`` (keeping verdicts ``series``)."""
    return {
        "archive": archive,
        "heads": {},
        "next_seq": 0,
        "records_bytes": 0,
        "records_count": 0,
        "series": series,
    }


def load_state(out_dir: str) -> dict[str, Any]:
    """The state of the previous run in ``out_dir`` (without the records), or an empty one.

    A version 1 state (records inside it) is accepted: its records are kept under
    ``"records"`` until :func:`save_records` moves them to their own file.
    """
    path = os.path.join(out_dir, STATE_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {"series": {}}
    except (OSError, ValueError) as exc:
        raise BadInput(
            path, f"unreadable scan state ({exc}); remove it or use another -o"
        ) from None
    if not isinstance(data, dict) or data.get("version") not in (1, STATE_VERSION):
        raise BadInput(path, "scan state of another format; remove it or use another -o")
    if data["version"] == 1:
        data.setdefault("records_bytes", 0)
        data["records_count"] = len(data.get("records", []))
    return data


def save_state(out_dir: str, state: dict[str, Any]) -> None:
    """Replace ``state.json`` (compact JSON) atomically."""
    state["version"] = STATE_VERSION
    write_text("-o", os.path.join(out_dir, STATE_FILE), json.dumps(state, separators=(",", ":")))


def load_records(out_dir: str, state: dict[str, Any]) -> list[MailRecord]:
    """Every record the state counts (the valid part of ``records.jsonl``)."""
    inline = state.get("records")
    if inline is not None:
        return [MailRecord.from_json(r) for r in inline]
    size = int(state.get("records_bytes", 0))
    if size == 0:
        return []
    path = os.path.join(out_dir, RECORDS_FILE)
    try:
        with open(path, "rb") as fh:
            data = fh.read(size)
    except OSError as exc:
        reason = f"unreadable scan records ({exc.strerror}); rerun with --all"
        raise BadInput(path, reason) from None
    if len(data) != size:
        raise BadInput(path, "scan records shorter than the state says; rerun with --all")
    try:
        return [MailRecord.from_json(json.loads(line)) for line in data.splitlines()]
    except (ValueError, TypeError) as exc:
        raise BadInput(path, f"unreadable scan records ({exc}); rerun with --all") from None


def save_records(out_dir: str, state: dict[str, Any], new: Iterable[MailRecord]) -> None:
    """Append ``new`` to ``records.jsonl`` (cut to its valid length first) and count them
    in ``state`` (saved afterwards by the caller). A version 1 state's inline records are
    written out first."""
    path = os.path.join(out_dir, RECORDS_FILE)
    inline = state.pop("records", None)
    lines = [json.dumps(r, separators=(",", ":")) for r in inline or []]
    lines += [json.dumps(r.to_json(), separators=(",", ":")) for r in new]
    start = 0 if inline is not None else int(state.get("records_bytes", 0))
    data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
    try:
        with open(path, "r+b" if os.path.exists(path) else "wb") as fh:
            fh.truncate(start)
            fh.seek(start)
            fh.write(data)
    except OSError as exc:
        raise BadInput("-o", f"cannot write {path}: {exc.strerror}") from None
    state["records_bytes"] = start + len(data)
    state["records_count"] = int(state.get("records_count", 0) if inline is None else 0) + len(
        lines
    )

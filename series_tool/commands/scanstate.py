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
from series_tool.ingest import MailRecord, ThreadEntry

from .outputs import write_text

#: where `scan` writes when no -o is given (and where --message-id looks for its index)
DEFAULT_SCAN_DIR = "series-tool-scan"
STATE_FILE = "state.json"
RECORDS_FILE = "records.jsonl"
#: the thread index: one row per message read (replies too), for --message-id --scan-dir
THREADS_FILE = "threads.jsonl"
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
        "threads_bytes": 0,
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
    data = _read_prefix(path, size)
    try:
        return [MailRecord.from_json(json.loads(line)) for line in data.splitlines()]
    except (ValueError, TypeError) as exc:
        raise BadInput(path, f"unreadable scan records ({exc}); rerun with --all") from None


def _append_lines(path: str, start: int, lines: list[str]) -> int:
    """Cut ``path`` to ``start`` bytes, append ``lines``; the new length."""
    data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
    try:
        with open(path, "r+b" if os.path.exists(path) else "wb") as fh:
            fh.truncate(start)
            fh.seek(start)
            fh.write(data)
    except OSError as exc:
        raise BadInput("-o", f"cannot write {path}: {exc.strerror}") from None
    return start + len(data)


def _read_prefix(path: str, size: int) -> bytes:
    """The first ``size`` bytes of ``path`` (the part a state vouches for)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(size)
    except OSError as exc:
        reason = f"unreadable scan data ({exc.strerror}); rerun with --all"
        raise BadInput(path, reason) from None
    if len(data) != size:
        raise BadInput(path, "scan data shorter than the state says; rerun with --all")
    return data


def save_threads(out_dir: str, state: dict[str, Any], new: Iterable[ThreadEntry]) -> None:
    """Append the thread index rows of the messages just read (see :func:`load_threads`).

    Only a state that has an index from its first message on keeps one (a state of the
    first format has none: an index of later messages alone would miss threads).
    """
    if "threads_bytes" not in state:
        return
    path = os.path.join(out_dir, THREADS_FILE)
    lines = [json.dumps(e.to_json(), separators=(",", ":")) for e in new]
    state["threads_bytes"] = _append_lines(path, int(state.get("threads_bytes", 0)), lines)


def load_threads(out_dir: str, archive: str) -> tuple[list[ThreadEntry], dict[str, str]] | None:
    """The thread index a scan of ``archive`` keeps in ``out_dir`` and the commits it
    covers, or None when that scan has none (a scan of another format, of an mbox).

    Raises BadInput when ``out_dir`` holds no scan, or a scan of another archive.
    """
    state_path = os.path.join(out_dir, STATE_FILE)
    if not os.path.exists(state_path):
        raise BadInput("--scan-dir", f"no scan state in {out_dir}")
    state = load_state(out_dir)
    if state.get("archive") != os.path.abspath(archive):
        raise BadInput("--scan-dir", f"{out_dir} holds a scan of {state.get('archive')}")
    size = state.get("threads_bytes")
    if not isinstance(size, int) or (size == 0 and state.get("heads")):
        return None
    data = _read_prefix(os.path.join(out_dir, THREADS_FILE), size) if size else b""
    try:
        rows = [ThreadEntry.from_json(json.loads(line)) for line in data.splitlines()]
    except (ValueError, TypeError, AssertionError) as exc:
        raise BadInput(out_dir, f"unreadable thread index ({exc}); rerun scan with --all") from None
    return rows, dict(state.get("heads", {}))


def save_records(out_dir: str, state: dict[str, Any], new: Iterable[MailRecord]) -> None:
    """Append ``new`` to ``records.jsonl`` (cut to its valid length first) and count them
    in ``state`` (saved afterwards by the caller). A version 1 state's inline records are
    written out first."""
    path = os.path.join(out_dir, RECORDS_FILE)
    inline = state.pop("records", None)
    lines = [json.dumps(r, separators=(",", ":")) for r in inline or []]
    lines += [json.dumps(r.to_json(), separators=(",", ":")) for r in new]
    start = 0 if inline is not None else int(state.get("records_bytes", 0))
    state["records_bytes"] = _append_lines(path, start, lines)
    before = 0 if inline is not None else int(state.get("records_count", 0))
    state["records_count"] = before + len(lines)

"""What `scan` writes in its output folder, and the state it keeps there between runs.

Layout of ``-o DIR``::

    state.json                 last commit read per epoch, verdicts (see scanstate)
    records.jsonl              one record per patch and cover mail read (see scanstate)
    index.html                 every series checked so far: verdict and links
    series/<slug>/report.json  scan verdict, verify and bisect-report JSON
    series/<slug>/check.json   a patchwork check (POST /api/patches/<id>/checks/)
    series/<slug>/reply.mbox   a reply to the cover letter, for git send-email (never sent)
    series/<slug>/report.html  the bisect-report page

Every text comes from ``templates/``; files are replaced atomically, so a scan that is
interrupted leaves the previous run's output readable.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import os
import re
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING, Any, Literal

from series_tool import __version__
from series_tool.errors import BadInput
from series_tool.ingest import CatalogSeries, parse_address
from series_tool.models import CODE_KINDS, Series

from .outputs import write_text

if TYPE_CHECKING:
    from series_tool.checks import ApiRemoval

CheckState = Literal["success", "warning", "fail"]
#: the most remaining callers a reply mail lists one by one
_MAIL_LIST_LIMIT = 40


def _slug(title: str, key: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return f"{words or 'series'}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def _headers(data: bytes | None) -> tuple[str | None, str | None]:
    """(From, list address) of a raw message; the list from List-Id ``<name.host>``."""
    if data is None:
        return None, None
    from series_tool.ingest import decode_words

    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    sender = decode_words(head["From"]) if head.get("From") else None
    value = str(head.get("List-Id") or "")
    start, end = value.rfind("<"), value.rfind(">")
    listaddr = None
    if 0 <= start < end:
        name, _, host = value[start + 1 : end].partition(".")
        if name and host:
            listaddr = f"{name}@{host}"
    return sender, listaddr


def _address(value: str) -> str:
    """A header-ready address: RFC 2047 for a non-ASCII name (git send-email takes it)."""
    name, addr = parse_address(value)
    return formataddr((name if name != addr else "", addr), charset="utf-8")


def _patch_name(failure: dict[str, Any]) -> str:
    """``patch 3``, or the subject of an unnumbered patch."""
    if failure.get("patch") is not None:
        return f"patch {failure['patch']}"
    return f'the patch "{failure.get("subject", "")}"'


def _does_not_apply(symbols: str, base: str | None, failure: dict[str, Any]) -> str:
    """The description of a series one patch of which does not apply to ``base``."""
    return (
        f"removes {symbols}; does not apply to {(base or '')[:12]}: "
        f"{_patch_name(failure)} fails, nothing after it was checked"
    )


#: verify's warnings that mean "some uses could not be judged": a series with one is
#: not called fine
_UNDECIDED_CODES = ("member-not-resolved", "grep-hit-unclassified")


def _undecided(verify: dict[str, Any]) -> str:
    """What verify could not judge (its undecided warnings, counted), or ''."""
    found = [f for f in verify.get("findings", []) if f.get("code") in _UNDECIDED_CODES]
    if not found:
        return ""
    first = found[0]["message"]
    return first if len(found) == 1 else f"{first} (and {len(found) - 1} more)"


def _missing_text(series: Series) -> str:
    """``patches 1, 2 of 4 are not in the archive (sent to other lists?)``."""
    numbers = ", ".join(str(n) for n in series.missing)
    total = f" of {series.total}" if series.total else ""
    if len(series.missing) == 1:
        return f"patch {numbers}{total} is not in the archive (sent to other lists?)"
    return f"patches {numbers}{total} are not in the archive (sent to other lists?)"


def _recipients(
    cs: CatalogSeries, first_raw: bytes | None, listaddr: str | None
) -> tuple[str, list[str]]:
    """To: the cover letter's sender (else the first patch's); Cc: the list."""
    sender, found_list = _headers(first_raw)
    first = cs.cover or cs.patches[0]
    to = _address(sender or f"{first.author_name} <{first.sender_email}>")
    return to, [a for a in [listaddr or found_list] if a]


@dataclass
class SeriesResult:
    """The verdict on one series and everything written for it."""

    key: str
    slug: str
    series: Series
    catalog: CatalogSeries
    removals: list[ApiRemoval]
    verify: dict[str, Any]
    bisect: dict[str, Any]
    state: CheckState
    description: str
    apply_failure: dict[str, Any] | None
    remaining: list[dict[str, Any]]
    unsafe: list[dict[str, Any]]
    to: str
    cc: list[str] = field(default_factory=list)
    #: why the series could not be checked (then verify and bisect are empty)
    unchecked_reason: str | None = None
    #: the tree when verify did not run (a series that does not apply)
    tree_info: dict[str, Any] | None = None

    @property
    def tree(self) -> dict[str, Any]:
        """The tree it was checked against (kind, path, base), as verify reports it."""
        tree: dict[str, Any] = (
            self.verify.get("tree") or self.tree_info or {"kind": None, "path": None, "base": None}
        )
        return tree

    @classmethod
    def not_applying(
        cls,
        cs: CatalogSeries,
        series: Series,
        removals: list[ApiRemoval],
        tree: dict[str, Any],
        failure: dict[str, Any],
        first_raw: bytes | None,
        listaddr: str | None,
    ) -> SeriesResult:
        """A series some patch of which does not apply to the tree: a warning naming it.

        Nothing after that patch can be judged, so verify and bisect-report (and the
        tree-wide grep they cost) are not run at all.
        """
        to, cc = _recipients(cs, first_raw, listaddr)
        symbols = ", ".join(r.symbol for r in removals)
        return cls(
            key=cs.key,
            slug=_slug(series.title, cs.key),
            series=series,
            catalog=cs,
            removals=removals,
            verify={},
            bisect={},
            state="warning",
            description=_does_not_apply(symbols, tree.get("base"), failure),
            apply_failure={**failure, "name": _patch_name(failure)},
            remaining=[],
            unsafe=[],
            to=to,
            cc=cc,
            tree_info=tree,
        )

    @classmethod
    def unchecked(
        cls,
        cs: CatalogSeries,
        series: Series,
        reason: str,
        first_raw: bytes | None,
        listaddr: str | None,
    ) -> SeriesResult:
        """A series selected but not checkable (its patches cannot be read, no time was
        left): a warning."""
        to, cc = _recipients(cs, first_raw, listaddr)
        return cls(
            key=cs.key,
            slug=_slug(series.title, cs.key),
            series=series,
            catalog=cs,
            removals=[],
            verify={},
            bisect={},
            state="warning",
            description=f"not checked: {reason}",
            apply_failure=None,
            remaining=[],
            unsafe=[],
            to=to,
            cc=cc,
            unchecked_reason=reason,
        )

    @classmethod
    def build(
        cls,
        cs: CatalogSeries,
        series: Series,
        removals: list[ApiRemoval],
        verify: dict[str, Any],
        bisect: dict[str, Any],
        first_raw: bytes | None,
        listaddr: str | None,
    ) -> SeriesResult:
        """Judge a checked series: success, warning (not checkable) or fail."""
        apply_failure = next((a for a in verify["apply"] if a["status"] == "failed"), None)
        if apply_failure is not None:
            p = series.patch(apply_failure["patch"]) if apply_failure["patch"] else None
            apply_failure = {**apply_failure, "subject": p.subject if p else ""}
            apply_failure["name"] = _patch_name(apply_failure)
        # Every code use counts (member accesses, #includes, uses as a type...): prose
        # naming the symbol does not break the build.
        remaining = [r for r in verify["remaining"] if r.get("kind") in CODE_KINDS]
        unsafe = [s for s in bisect["steps"] if not s["safe"]]
        symbols = ", ".join(r.symbol for r in removals)
        state: CheckState
        if verify["tree"]["kind"] == "series-only":
            state = "warning"
            description = f"removes {symbols}; not checked against a tree (series-only)"
        elif apply_failure is not None:
            state = "warning"
            description = _does_not_apply(symbols, verify["tree"].get("base"), apply_failure)
        elif verify["ok"] and bisect["ok"] and (undecided := _undecided(verify)):
            # Uses the analysis could not tell apart are not "no user remains".
            state = "warning"
            description = f"removes {symbols}; not decided: {undecided}"
        elif verify["ok"] and bisect["ok"]:
            state = "success"
            description = f"removes {symbols}; no user remains and every step is safe to bisect"
        elif not remaining and not unsafe and series.missing:
            # Only the gaps are wrong: a series cross-posted in part reaches a list
            # without the other subsystems' patches; what is here cannot be judged whole.
            state = "warning"
            description = f"removes {symbols}; not checked: {_missing_text(series)}"
        else:
            state = "fail"
            parts = []
            if remaining:
                where = sorted({f"{r['file']} {r['function'] or ''}".strip() for r in remaining})
                parts.append(
                    f"{len(remaining)} use(s) of removed API remain: "
                    + ", ".join(where[:3])
                    + (" ..." if len(where) > 3 else "")
                )
            if unsafe:
                parts.append("unsafe steps: " + ", ".join(f"patch {s['patch']}" for s in unsafe))
            if not parts:
                errors = [f for f in verify.get("findings", []) if f.get("severity") == "error"]
                first = errors[0]["message"] if errors else "verify reports errors"
                more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
                parts.append(first + more)
            if series.missing:
                parts.append(_missing_text(series))
            description = f"removes {symbols}; " + "; ".join(parts)
        to, cc = _recipients(cs, first_raw, listaddr)
        return cls(
            key=cs.key,
            slug=_slug(series.title, cs.key),
            series=series,
            catalog=cs,
            removals=removals,
            verify=verify,
            bisect=bisect,
            state=state,
            description=description,
            apply_failure=apply_failure,
            remaining=remaining,
            unsafe=unsafe,
            to=to,
            cc=cc,
        )

    @property
    def lead(self) -> Any:
        """The mail the series is answered at: the cover letter, else the first patch."""
        return self.series.cover or self.series.patches[0]

    def summary(self) -> dict[str, Any]:
        """The JSON summary line of this series (scan --format json, the index)."""
        return {
            "key": self.key,
            "seq": max(r.seq for r in self.catalog.members),
            "slug": self.slug,
            "title": self.series.title,
            "version": self.series.version,
            "patches": len(self.series.patches),
            "author": self.lead.author,
            "date": self.lead.date,
            "message_id": self.lead.message_id,
            "state": self.state,
            "description": self.description,
            "removes": [r.symbol for r in self.removals],
        }

    def check(self, url_base: str | None) -> dict[str, Any]:
        """The patchwork check, as ``POST /api/patches/<id>/checks/`` takes it."""
        url = f"{url_base.rstrip('/')}/series/{self.slug}/report.html" if url_base else None
        return {
            "state": self.state,
            "context": "series-tool",
            "description": self.description[:255],
            "target_url": url,
        }

    def reply(self) -> str:
        """The reply mail (mbox, for git send-email), from ``templates/scan-reply.mbox.j2``."""
        from series_tool.render import render

        lead = self.lead
        subject = lead.raw_subject
        if not re.match(r"(?i)re:", subject):
            subject = "Re: " + subject
        if not subject.isascii():
            subject = Header(subject, "utf-8").encode()
        return render(
            "scan-reply.mbox.j2",
            to=self.to,
            cc=self.cc,
            subject=subject,
            in_reply_to=lead.message_id,
            references=[*lead.references, lead.message_id],
            date=formatdate(localtime=False),
            result=self,
            limit=_MAIL_LIST_LIMIT,
            version=__version__,
        )


def write_series(out_dir: str, result: SeriesResult, url_base: str | None) -> dict[str, Any]:
    """Write a series' files; return its entry for the state (and the index)."""
    from series_tool.render import from_template, render, to_json

    folder = os.path.join(out_dir, "series", result.slug)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise BadInput("-o", f"cannot create {folder}: {exc.strerror}") from None
    report = {
        "scan": {
            **result.summary(),
            "apply_failure": result.apply_failure,
            "removals": [r.to_dict() for r in result.removals],
            "remaining": result.remaining,
            "unsafe_steps": [
                {"patch": s["patch"], "subject": s["subject"], "problems": s["problems"]}
                for s in result.unsafe
            ],
        },
        "verify": result.verify,
        "bisect": result.bisect,
    }
    files = {
        "report.json": to_json(report),
        "check.json": to_json(result.check(url_base)),
        "reply.mbox": result.reply(),
        "report.html": (
            from_template("bisect.html.j2", result.bisect)
            if result.bisect
            else render("scan-unchecked.html.j2", result=result)
        ),
    }
    for name, text in files.items():
        write_text("-o", os.path.join(folder, name), text)
    return {
        **result.summary(),
        "fingerprint": result.catalog.fingerprint(),
        "files": {name: f"series/{result.slug}/{name}" for name in files},
    }


def write_index(out_dir: str, entries: dict[str, dict[str, Any]]) -> None:
    """``index.html``: every series checked so far, newest first, with verdict and links."""
    from series_tool.render import render

    rows = sorted(entries.values(), key=lambda e: e.get("seq", 0), reverse=True)
    counts = {s: sum(1 for e in rows if e["state"] == s) for s in ("fail", "warning", "success")}
    page = render("scan-index.html.j2", rows=rows, counts=counts, version=__version__)
    write_text("-o", os.path.join(out_dir, "index.html"), page)

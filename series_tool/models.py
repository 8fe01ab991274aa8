"""Plain typed data passed between the pipeline stages.

ingest (mail -> Series) -> model (hunks -> call sites) -> replay -> checks -> render.
Every stage takes and returns these dataclasses; none of them does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

HunkLineKind = Literal[" ", "-", "+", "\\"]
ApplyStatus = Literal["clean", "offset", "fuzz", "failed", "unknown"]
RefKind = Literal[
    "call",
    "address",
    "macro-use",
    "constant",
    "member",
    "type",
    "include",
    "export",
    "declaration",
    "definition",
    "macro",
    "comment",
    "documentation",
    "string",
    "other",
]
Severity = Literal["error", "warning", "review", "info"]

#: Reference kinds that are code: a remaining one breaks the build (all but prose).
CODE_KINDS: frozenset[str] = frozenset(get_args(RefKind)) - {"comment", "documentation", "string"}

#: How each reference kind reads in a sentence ("... still has <phrase>").
KIND_PHRASES: dict[str, str] = {
    "call": "a call",
    "address": "an address use (the function used as a value)",
    "macro-use": "a use of the macro",
    "constant": "a use of the enumerator (a constant)",
    "member": "a member access or initializer",
    "type": "a use as a type",
    "include": "an #include",
    "export": "an EXPORT_SYMBOL line",
    "declaration": "a declaration",
    "definition": "a definition",
    "macro": "a #define",
    "comment": "a comment",
    "documentation": "documentation",
    "string": "a string",
    "other": "a code reference",
}


def kind_phrase(kind: str) -> str:
    """`kind` as a noun phrase for messages ("an #include", "a call")."""
    return KIND_PHRASES.get(kind, f"a {kind} reference")


# --------------------------------------------------------------------------- diffs


@dataclass
class HunkLine:
    """One line of a hunk body, without its leading marker and newline."""

    kind: HunkLineKind
    text: str
    source_line: int | None = None  # 1-based line in the pre-image (None for '+')
    target_line: int | None = None  # 1-based line in the post-image (None for '-')


@dataclass
class Hunk:
    """One `@@ -a,b +c,d @@ section` block."""

    source_start: int
    source_length: int
    target_start: int
    target_length: int
    section: str = ""  # git's function hint after the second @@
    lines: list[HunkLine] = field(default_factory=list)
    #: the raw body (marker + text per line, each ended by a newline) of a hunk in a file
    #: diff too large to model line by line (`FileDiff.unparsed`); `lines` is then empty
    body: str = ""

    @property
    def added(self) -> int:
        if self.body:
            return ("\n" + self.body).count("\n+")
        return sum(1 for ln in self.lines if ln.kind == "+")

    @property
    def removed(self) -> int:
        if self.body:
            return ("\n" + self.body).count("\n-")
        return sum(1 for ln in self.lines if ln.kind == "-")

    def preimage(self) -> list[str]:
        """Context and removed lines, in order (what must be found in the file)."""
        return [ln.text for ln in self.all_lines() if ln.kind in (" ", "-")]

    def postimage(self) -> list[str]:
        """Context and added lines, in order (what replaces the pre-image)."""
        return [ln.text for ln in self.all_lines() if ln.kind in (" ", "+")]

    def all_lines(self) -> list[HunkLine]:
        """`lines`, or for a hunk kept as raw text (`body`) its lines read from that text,
        numbered as unidiff numbers them (a line per object: costly on a huge hunk)."""
        if not self.body:
            return self.lines
        out: list[HunkLine] = []
        src, tgt = self.source_start, self.target_start
        for raw in self.body.split("\n")[:-1]:
            kind, text = raw[:1] or " ", raw[1:]
            if kind == " ":
                out.append(HunkLine(" ", text, src, tgt))
                src, tgt = src + 1, tgt + 1
            elif kind == "-":
                out.append(HunkLine("-", text, src, None))
                src += 1
            elif kind == "+":
                out.append(HunkLine("+", text, None, tgt))
                tgt += 1
            else:
                out.append(HunkLine("\\", text))
        return out


@dataclass
class FileDiff:
    """The change to one file inside one patch."""

    path: str  # repository-relative path (target side, or source side for a deletion)
    source_path: str | None  # None for a new file
    target_path: str | None  # None for a deleted file
    is_new: bool = False
    is_deleted: bool = False
    is_rename: bool = False
    is_binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)
    #: why this file's hunks are kept as raw text (`Hunk.body`) and not modelled line by
    #: line (a diff over the per-file limit); None for an ordinary file diff
    unparsed: str | None = None

    @property
    def added(self) -> int:
        return sum(h.added for h in self.hunks)

    @property
    def removed(self) -> int:
        return sum(h.removed for h in self.hunks)


# --------------------------------------------------------------------------- mail


@dataclass
class Trailer:
    name: str  # canonical capitalisation, e.g. "Reviewed-by"
    value: str
    from_reply: bool = False
    reply_message_id: str | None = None  # the reply that carried it, when from_reply

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "from_reply": self.from_reply}


@dataclass
class Patch:
    """One mail of a series: a numbered patch, an unnumbered one, or the cover (number 0)."""

    number: int | None  # M of [PATCH M/T]; 0 for a cover letter; None when unnumbered
    total: int | None  # T of [PATCH M/T]
    version: int  # N of vN, 1 when absent
    subject: str  # without [PATCH ...] tags and Re:
    raw_subject: str  # decoded, unfolded Subject header
    prefixes: list[str]  # tags inside the brackets, e.g. ["PATCH", "net-next", "v3", "2/7"]
    message_id: str  # without angle brackets
    in_reply_to: str | None
    references: list[str]
    author: str  # "Name <email>" after any in-body From:
    author_name: str
    author_email: str
    date: str  # as in the header (or in-body Date:)
    commit_message: str  # body above the '---' / diff, in-body headers consumed
    trailers: list[Trailer] = field(default_factory=list)
    diff_text: str = ""  # everything from the first diff header on
    files: list[FileDiff] = field(default_factory=list)
    base_commit: str | None = None
    prerequisite_patch_ids: list[str] = field(default_factory=list)
    error: str | None = None  # what is wrong with this patch's diff, if anything
    source_index: int = 0  # 0-based position of the message in the source
    #: the whole decoded body (a cover's shortlog and diffstat may sit below a '---')
    body: str = ""

    @property
    def insertions(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.removed for f in self.files)

    @property
    def label(self) -> str:
        """How to name this patch in messages: 'patch 5' or the Message-Id."""
        return f"patch {self.number}" if self.number is not None else f"<{self.message_id}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "total": self.total,
            "version": self.version,
            "subject": self.subject,
            "message_id": self.message_id,
            "author": self.author,
            "date": self.date,
            "files": [f.path for f in self.files],
            "insertions": self.insertions,
            "deletions": self.deletions,
            "trailers": [t.to_dict() for t in self.trailers],
            "base_commit": self.base_commit,
            "prerequisite_patch_ids": list(self.prerequisite_patch_ids),
            "error": self.error,
        }


@dataclass
class Series:
    """One version of one patch series, patches ordered by number."""

    version: int
    title: str
    total: int | None
    cover: Patch | None
    patches: list[Patch]
    missing: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)  # numbers seen more than once
    base_commit: str | None = None
    problems: list[str] = field(default_factory=list)  # grouping remarks for people
    source: str = ""  # the file or '-' it came from
    #: net (files, insertions, deletions) from base to tip, as the cover's diffstat counts
    diffstat: tuple[int, int, int] | None = None

    def patch(self, number: int) -> Patch | None:
        for p in self.patches:
            if p.number == number:
                return p
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "title": self.title,
            "cover": self.cover.to_dict() if self.cover else None,
            "total": self.total,
            "patches": [p.to_dict() for p in self.patches],
            "missing": list(self.missing),
            "duplicates": list(self.duplicates),
            "base_commit": self.base_commit,
            "problems": list(self.problems),
            "diffstat": (
                dict(zip(("files", "insertions", "deletions"), self.diffstat, strict=True))
                if self.diffstat
                else None
            ),
        }


@dataclass
class SeriesSummary:
    """Another series or version found in the same source (for `others`)."""

    version: int
    title: str
    total: int | None
    numbers: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "title": self.title,
            "total": self.total,
            "numbers": list(self.numbers),
        }


@dataclass
class Ingested:
    """What ingest returns: the chosen series and the others found beside it."""

    series: Series
    others: list[SeriesSummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"series": self.series.to_dict(), "others": [o.to_dict() for o in self.others]}


# --------------------------------------------------------------------------- C references


@dataclass(frozen=True)
class Reference:
    """One whole-word occurrence of a symbol in a file, classified."""

    file: str
    line: int  # 1-based
    symbol: str
    kind: RefKind
    function: str | None  # enclosing C function, if any
    text: str  # the whole line, stripped of its newline

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "symbol": self.symbol,
            "kind": self.kind,
            "text": self.text,
        }


@dataclass(frozen=True)
class CallSite:
    """A call of a symbol found on a hunk line."""

    symbol: str
    line: int  # 1-based line in the pre-image ('-') or post-image ('+')
    side: Literal["-", "+"]
    function: str | None
    text: str


@dataclass
class HunkMap:
    """What one hunk touches: enclosing functions and the calls on changed lines."""

    patch: int | None
    file: str
    hunk_index: int
    functions: list[str]
    removed_calls: list[CallSite] = field(default_factory=list)
    added_calls: list[CallSite] = field(default_factory=list)
    defined_removed: list[str] = field(default_factory=list)  # defs/decls/macros on '-' lines
    defined_added: list[str] = field(default_factory=list)  # defs/decls/macros on '+' lines
    #: what each name defined on a changed line is (cparse.ROLES), both sides together
    roles: dict[str, set[str]] = field(default_factory=dict)
    #: every name on '-' / '+' lines, classified (symbol = the name; function = the
    #: enclosing function, or outside functions the enclosing declaration)
    removed_names: list[Reference] = field(default_factory=list)
    added_names: list[Reference] = field(default_factory=list)


@dataclass
class Migration:
    """old symbols -> new symbols, with the patches that introduce and remove them."""

    old: list[str]
    new: list[str]
    introduced_in: dict[str, int | None] = field(default_factory=dict)
    removed_in: dict[str, int | None] = field(default_factory=dict)
    inferred: bool = True  # False when --old/--new were given
    #: every symbol the series removes for good (old API or not) -> the patch removing it;
    #: all of them are checked for references left behind
    removed: dict[str, int | None] = field(default_factory=dict)
    #: every symbol the series introduces (new API or not) -> the patch introducing it
    introduced: dict[str, int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": list(self.old),
            "new": list(self.new),
            # Only symbols the series really introduces / removes are listed.
            "introduced_in": {k: v for k, v in self.introduced_in.items() if v is not None},
            "removed_in": {k: v for k, v in self.removed_in.items() if v is not None},
            "removed": dict(self.removed),
            "introduced": dict(self.introduced),
        }


# --------------------------------------------------------------------------- replay


@dataclass
class HunkResult:
    file: str
    hunk_index: int
    status: ApplyStatus
    offset: int = 0
    fuzz: int = 0
    message: str = ""


@dataclass
class ApplyResult:
    """How one patch applied to the snapshot before it."""

    patch: int | None
    status: ApplyStatus  # the worst of its hunks
    hunks: list[HunkResult] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"patch": self.patch, "status": self.status}


@dataclass
class Finding:
    severity: Severity
    code: str
    message: str
    patch: int | None = None
    file: str | None = None
    line: int | None = None
    function: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "patch": self.patch,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "message": self.message,
        }

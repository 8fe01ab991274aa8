"""Prove a rewrite: replay base + series with the generated mails inserted where rewrite
says to apply them (in memory, the project's replay), and look at what is left.

Also decides which remaining references are the series' own: a site whose line a later
patch of the series changes is converted by the series, never by a generated mail (a mail
touching it would make that patch fail to apply).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from series_tool.ingest import parse_diff
from series_tool.model import find_references
from series_tool.models import CODE_KINDS, Patch, Reference
from series_tool.replay import Replay, Tree, replay, split_lines


def changed_later(
    refs: Sequence[Reference],
    read_then: Callable[[str], str | None],
    read_end: Callable[[str], str | None],
) -> tuple[list[Reference], list[Reference]]:
    """Split `refs` (read at one step) into (missed, converted by a later patch).

    A reference whose line is not kept unchanged between `read_then` and `read_end` (the
    series' last step) is touched by a later patch of the series: the series converts it.
    Lines are matched with difflib, so the lines later hunks add or remove elsewhere in the
    file do not matter.
    """
    kept: dict[str, set[int]] = {}
    missed: list[Reference] = []
    later: list[Reference] = []
    for ref in refs:
        if ref.file not in kept:
            then, end = read_then(ref.file), read_end(ref.file)
            if then is None or end is None or then == end:
                kept[ref.file] = set(range(1, len(split_lines(then or "")) + 1))
                if end is None and then is not None:
                    kept[ref.file] = set()  # the series deletes the file
            else:
                matcher = difflib.SequenceMatcher(
                    None, split_lines(then), split_lines(end), autojunk=False
                )
                same: set[int] = set()
                for tag, i1, i2, _, _ in matcher.get_opcodes():
                    if tag == "equal":
                        same.update(range(i1 + 1, i2 + 1))
                kept[ref.file] = same
        (missed if ref.line in kept[ref.file] else later).append(ref)
    return missed, later


def mail_patch(number: int, subject: str, diff: str, author: str) -> Patch:
    """A generated mail as the replay's Patch (its diff through the project's parser)."""
    return Patch(
        number=number,
        total=None,
        version=1,
        subject=subject,
        raw_subject=subject,
        prefixes=["PATCH"],
        message_id=f"generated-{number}",
        in_reply_to=None,
        references=[],
        author=author,
        author_name=author,
        author_email="",
        date="",
        commit_message="",
        diff_text=diff,
        files=parse_diff(diff, subject),
    )


def replay_with_mails(
    series: Sequence[Patch], mails: Sequence[Patch], at: int, tree: Tree
) -> tuple[list[Patch], Replay]:
    """The series with `mails` inserted before its patch at list position `at`, replayed.

    The seam for `rewrite --check --build`: each step's `read` gives the file set a build
    would see (touched files from the overlay, the rest from the tree).
    """
    patches = [*series[:at], *mails, *series[at:]]
    return patches, replay(patches, tree)


@dataclass
class CheckResult:
    """What `rewrite --check` found."""

    ok: bool
    insert_before: int | None  # the series' patch number the mails go before (None: the end)
    steps: list[dict[str, Any]] = field(default_factory=list)
    remaining: list[Reference] = field(default_factory=list)  # at the removal step
    note: str = ""
    #: the series with the mails inserted, and its replay (what `--build` builds)
    patches: list[Patch] = field(default_factory=list, repr=False)
    replayed: Replay | None = field(default=None, repr=False)
    #: list position of the first mail in `patches`, and how many there are
    at: int = 0
    mails: int = 0
    #: `--build`: the base tree's build (None: not built)
    base_build: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "insert_before": self.insert_before,
            "steps": list(self.steps),
            "remaining": [r.to_dict() for r in self.remaining],
            "note": self.note,
        }
        if self.base_build is not None:
            out["base_build"] = self.base_build
        return out

    def build_indices(self) -> list[int]:
        """The replay steps (0 = base, k = after `patches[k-1]`) a build must try: the
        base, after each generated mail, after the removal and at the end."""
        end = len(self.patches)
        wanted = {0, *range(self.at + 1, self.at + self.mails + 1), end}
        if self.at + self.mails + 1 <= end:
            wanted.add(self.at + self.mails + 1)
        return sorted(wanted)

    def add_builds(self, builds: dict[int, dict[str, Any]]) -> None:
        """Record `--build` results (step index -> build_steps' result) per step, and fail
        the check when a step with the mails does not build (or the base does not, so the
        builds prove nothing)."""
        self.base_build = builds.get(0, {"status": "not run"})
        broken: list[str] = []
        for index, result in sorted(builds.items()):
            if index == 0:
                continue
            step = self.steps[index - 1]
            step["build"] = result
            if result.get("status") != "passed":
                label = step["generated"] if step["patch"] is None else None
                broken.append(f"'{label}'" if label else f"patch {step['patch']}")
        notes = [self.note] if self.note else []
        if self.base_build.get("status") != "passed":
            self.ok = False
            notes.append(
                f"the base tree does not build ({self.base_build.get('status')}): the builds "
                "prove nothing"
            )
        if broken:
            self.ok = False
            notes.append(f"the build fails after {', '.join(broken)}")
        self.note = "; ".join(notes)


def check_rewrite(
    series: Sequence[Patch],
    mails: Sequence[Patch],
    at: int,
    tree: Tree,
    old: Collection[str],
    removal_refs: Sequence[Reference],
    misfits: Sequence[Reference] = (),
) -> CheckResult:
    """Replay with the mails before `series[at]` and check every patch applies and no code
    reference to `old` remains once the patch at `at` (the removal) has landed.

    `removal_refs` are the references at the removal step without the mails (the analysis'
    own); files the mails change are looked at again in the new replay. `misfits` are the
    uses that no longer fit a prototype the series changes in place: no mail converts
    them, so each that a mail does not touch is still there and fails the check.
    """
    patches, rep = replay_with_mails(series, mails, at, tree)
    generated = {id(m) for m in mails}
    steps = []
    for st in rep.steps:
        steps.append(
            {
                "patch": st.patch.number if id(st.patch) not in generated else None,
                "generated": st.patch.subject if id(st.patch) in generated else None,
                "status": st.apply.status,
                "message": st.apply.message,
            }
        )
    failed = [s for s in steps if s["status"] in ("failed", "unknown")]
    insert_before = series[at].number if at < len(series) else None
    removal_index = at + len(mails)  # list position of the removal patch in `patches`
    changed = {fd.path for m in mails for fd in m.files}
    remaining = [r for r in removal_refs if r.file not in changed and r.symbol in old]
    if removal_index < len(rep.steps):
        read = rep.steps[removal_index].read
    elif rep.steps:
        read = rep.steps[-1].read
    else:
        read = tree.read
    for path in sorted(changed):
        text = read(path)
        if text:
            remaining.extend(find_references(path, text, sorted(old)))
    code_left = [r for r in remaining if r.kind in CODE_KINDS]
    misfit_left = [r for r in misfits if r.file not in changed]
    remaining.extend(misfit_left)
    notes = []
    if failed:
        where = ", ".join(
            f"patch {s['patch']}" if s["patch"] is not None else f"'{s['generated']}'"
            for s in failed
        )
        notes.append(
            f"no insertion point works: with the mails before patch {insert_before}, "
            f"{where} no longer applies"
        )
    if code_left:
        notes.append(
            f"{len(code_left)} code reference(s) to the old API remain at the removal step"
        )
    if misfit_left:
        notes.append(
            f"{len(misfit_left)} use(s) that no longer fit a prototype the series changes in "
            "place remain (not converted)"
        )
    return CheckResult(
        ok=not failed and not code_left and not misfit_left,
        insert_before=insert_before,
        steps=steps,
        remaining=remaining,
        note="; ".join(notes),
        patches=patches,
        replayed=rep,
        at=at,
        mails=len(mails),
    )

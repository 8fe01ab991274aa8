"""Plan and generate conversion patches for the callers a series missed.

Pure: reads files only through `read(path)` and returns mails as text; the CLI writes them.
One patch per caller function, in file order, each made against the file as left by the
previous patch so that `git am` applies them in sequence before the removal patch.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Node, Tree

from series_tool import __version__
from series_tool.ingest import parse_diff
from series_tool.model import node_text, parse, word_pattern
from series_tool.models import Migration, Reference, Series, kind_phrase
from series_tool.replay import split_lines

from .contract import site_contract
from .conversion import Conversion, VariantConversion, c_declaration, learn_conversion
from .ctree import apply_edits, error_count, parse_text, top_level_functions, walk
from .learn import learn_rule, roles_rule
from .rules import Rules, default_rules
from .scope import visible_names
from .variants import (
    Choice,
    Disagreement,
    check_series_choices,
    choose_variant,
    enclosing_function,
    find_calls,
    function_name,
)


@dataclass
class ConversionRecord:
    """One converted call site."""

    file: str
    function: str
    line: int
    old: str
    new: str
    reason: str
    needs_review: list[str] = field(default_factory=list)
    patch_file: str = ""
    #: the items of `needs_review` the tool is not sure of: they make it a review item
    unsure: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "function": self.function,
            "line": self.line,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "needs_review": list(self.needs_review),
            "unsure": list(self.unsure),
            "patch_file": self.patch_file,
        }


@dataclass
class GeneratedPatch:
    """One git-format-patch mail."""

    filename: str
    subject: str
    mail: str
    files: list[str]
    diff: str = ""  # the diff alone (what `rewrite --check` replays)


@dataclass
class RewritePlan:
    """Everything `rewrite` would write."""

    conversions: list[ConversionRecord] = field(default_factory=list)
    patches: list[GeneratedPatch] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    not_handled: list[tuple[Reference, str]] = field(default_factory=list)
    #: call sites left alone because only a person can decide (a parameter, a condition)
    review: list[tuple[Reference, str]] = field(default_factory=list)
    conversion: dict[str, Conversion] = field(default_factory=dict)
    #: comment/documentation lines renamed along (pure renames only), with their patch
    text_updates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversions": [c.to_dict() for c in self.conversions],
            "text_updates": list(self.text_updates),
            "disagreements": [d.to_dict() for d in self.disagreements],
            "not_handled": [{**r.to_dict(), "why": why} for r, why in self.not_handled],
            "needs_review": [{**r.to_dict(), "why": why} for r, why in self.review],
            "summary": {
                "generated": len(self.conversions),
                "generated_to_review": len(self.reviewed_conversions()),
                "not_generated_to_review": len(self.review),
                "not_handled": len(self.not_handled),
            },
        }

    def reviewed_conversions(self) -> list[ConversionRecord]:
        """The generated conversions the tool is not sure of (a variant the series does not
        confirm, a use of the result it could not follow, a parameter with nowhere to go):
        generated, and review items all the same (they count in the exit status). A
        rules file's checklist for every writer or reader site alone does not make one."""
        return [c for c in self.conversions if c.unsure]


# --------------------------------------------------------------------------- subjects


def _subject_prefix(subject: str) -> str:
    """'mm: filemap: foo() use bar()' -> 'mm: filemap:' (everything up to the last ': ')."""
    head, sep, _ = subject.rpartition(": ")
    return head + ":" if sep else ""


def path_prefix(path: str) -> str:
    """Kernel-style prefix from the path: arch/arm/... -> 'arm:', drivers/soc/x/... -> 'soc: x:'."""
    parts = PurePosixPath(path).parts[:-1]
    if len(parts) >= 2 and parts[0] == "arch":
        return parts[1] + ":"
    if len(parts) >= 2 and parts[0] == "drivers":
        return ": ".join(parts[1:3]) + ":"
    return parts[0] + ":" if parts else ""


def prefix_for(series: Series, path: str, history: Callable[[str], list[str]] | None = None) -> str:
    """The subject prefix for `path`, as a careful human picks it: the most common prefix
    of the file's own history (`history(path)` -> recent subjects), else the series' own
    for patches touching the same directory, else one made from the path."""
    if history is not None:
        past = [pre for subject in history(path) if (pre := _subject_prefix(subject))]
        if past:
            return Counter(past).most_common(1)[0][0]
    folder = PurePosixPath(path).parent
    near = [
        prefix
        for patch in series.patches
        if (prefix := _subject_prefix(patch.subject))
        for fd in patch.files
        if PurePosixPath(fd.path).parent == folder
    ]
    if near:
        return Counter(near).most_common(1)[0][0]
    return path_prefix(path)


def patch_filename(number: int, subject: str) -> str:
    """git format-patch's name: 0001-subject-with-dashes.patch (at most 52 subject chars)."""
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", subject).strip("-.")
    return f"{number:04d}-{slug[:52].rstrip('-.')}.patch"


# --------------------------------------------------------------------------- C edits


def _breaks_parse(data: bytes, new: bytes, fn: Node, edits: list[tuple[int, int, bytes]]) -> bool:
    """Do the edits add syntax errors? The edited function is parsed on its own before and
    after (fresh parses of a few lines: the incremental parse of the whole file may recover
    from the file's other errors differently); edits outside it compare the whole file."""
    start, end = fn.start_byte, fn.end_byte
    if all(start <= s and e <= end for s, e, _ in edits):
        grown = sum(len(text) - (e - s) for s, e, text in edits)
        before, after = data[start:end], new[start : end + grown]
    else:
        before, after = data, new
    return error_count(parse(after).root_node) > error_count(parse(before).root_node)


def _line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


def _line_end(data: bytes, offset: int) -> int:
    end = data.find(b"\n", offset)
    return len(data) if end < 0 else end + 1


def _indent(data: bytes, offset: int) -> bytes:
    start = _line_start(data, offset)
    line = data[start:offset]
    return line[: len(line) - len(line.lstrip(b" \t"))]


def _common_block(nodes: list[Node]) -> Node | None:
    """Innermost compound_statement containing every node."""
    chains = []
    for n in nodes:
        chain = []
        cur: Node | None = n.parent
        while cur is not None:
            if cur.type == "compound_statement":
                chain.append(cur)
            cur = cur.parent
        chains.append(chain)
    for block in chains[0]:
        if all(any(b.id == block.id for b in c) for c in chains[1:]):
            return block
    return None


def _declaration_edit(data: bytes, block: Node, decl: str) -> tuple[int, int, bytes]:
    """Insert `decl;` after the block's leading declarations, with the block's indentation."""
    kids = [k for k in block.named_children if k.type != "comment"]
    last = None
    for k in kids:
        if k.type == "declaration":
            last = k
        elif not _declaring_macro(k):
            break
    if last is not None:
        at = _line_end(data, last.end_byte)
        return at, at, _indent(data, last.start_byte) + decl.encode() + b";\n"
    # No declarations: open the block with one, then a blank line (kernel style).
    at = _line_end(data, block.start_byte)
    first = block.named_children[0] if block.named_children else None
    indent = _indent(data, first.start_byte) if first else _indent(data, block.start_byte) + b"\t"
    nxt = data[at : _line_end(data, at)]
    blank = b"" if nxt.strip() == b"" else b"\n"
    return at, at, indent + decl.encode() + b";\n" + blank


def _declaring_macro(node: Node) -> bool:
    """`DEFINE_FOO(x);`: an all-caps macro call among the declarations (a kernel idiom)."""
    call = node.named_children[0] if node.type == "expression_statement" else None
    if call is None or call.type != "call_expression":
        return False
    fn = call.child_by_field_name("function")
    name = node_text(fn) if fn is not None else ""
    return fn is not None and fn.type == "identifier" and name.isupper()


def _identifiers(fn: Node) -> set[str]:
    return {node_text(n) for n in walk(fn) if n.type == "identifier"}


def _arg_edits(
    data: bytes, call: Node, vc: VariantConversion, names: dict[str, str]
) -> list[tuple[int, int, bytes]] | None:
    """Edits turning the call's callee and arguments into the new variant's."""
    callee = call.child_by_field_name("function")
    args_node = call.child_by_field_name("arguments")
    if callee is None or args_node is None:
        return None
    args = [a for a in args_node.named_children if a.type != "comment"]
    new_args = vc.new_args([node_text(a) for a in args], names)
    if new_args is None:
        return None
    edits = [(callee.start_byte, callee.end_byte, vc.new.encode())]
    order = [s.old_index for s in vc.slots if s.old_index is not None]
    if order != list(range(len(args))):
        # Reordered or dropped arguments: rebuild the list on one line.
        text = "(" + ", ".join(new_args) + ")"
        return [*edits, (args_node.start_byte, args_node.end_byte, text.encode())]
    # Same order: insert the extras in place so the caller's line breaks survive.
    for j, slot in enumerate(vc.slots):
        if slot.old_index is not None:
            continue
        value = new_args[j].encode()
        following = next((s.old_index for s in vc.slots[j:] if s.old_index is not None), None)
        if following is not None:
            at = args[following].start_byte
            edits.append((at, at, value + b", "))
        elif args:
            edits.append((args[-1].end_byte, args[-1].end_byte, b", " + value))
        else:
            edits.append((args_node.start_byte + 1, args_node.start_byte + 1, value))
    return edits


# --------------------------------------------------------------------------- diffs


def _hint(lines: list[str], before: int) -> str:
    """git's default function hint: the last line before the hunk starting with [A-Za-z_$]."""
    for i in range(min(before, len(lines)) - 1, -1, -1):
        if lines[i][:1].isalpha() or lines[i][:1] in "_$":
            return " " + lines[i].rstrip("\n")[:80].rstrip()
    return ""


#: The start numbers of a hunk header ("-12,7" and "+12,8").
_HUNK = re.compile(r"([-+])(\d+)")


def unified_diff(path: str, old: str, new: str) -> str:
    """A git-style diff of one file, made in memory with difflib."""
    # LF only: str.splitlines would also split at a form feed or \x1c inside a C line.
    a, b = split_lines(old), split_lines(new)
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in _diff_lines(path, a, b):
        if line.startswith("@@"):
            start = int(line.split()[1][1:].split(",")[0])
            line = line.rstrip("\n") + _hint(a, start - 1) + "\n"
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def _diff_lines(path: str, a: list[str], b: list[str]) -> list[str]:
    """difflib's unified diff of a and b (3 lines of context).

    difflib compares whole files slowly and the edits touch a few lines of a big file, so
    only the changed stretch and some context is compared, the hunk numbers shifted back.
    Where repeated lines let difflib place a change so that a hunk would lose context at
    the cut, the whole files are compared instead (a short context would tell git the
    hunk sits at the start or end of the file)."""
    lo = _common_run(a, b, min(len(a), len(b)), from_end=False)
    tail = _common_run(a, b, min(len(a), len(b)) - lo, from_end=True)
    lo, tail = max(0, lo - 6), max(0, tail - 6)
    names = (f"a/{path}", f"b/{path}")
    if lo == 0 and tail == 0:
        return list(difflib.unified_diff(a, b, *names, n=3))
    lines = list(difflib.unified_diff(a[lo : len(a) - tail], b[lo : len(b) - tail], *names, n=3))
    hunks = [i for i, ln in enumerate(lines) if ln.startswith("@@")]
    if hunks:
        body = lines[hunks[0] + 1 :]
        leading = next((i for i, ln in enumerate(body) if ln[:1] != " "), len(body))
        trailing = next((i for i, ln in enumerate(reversed(body)) if ln[:1] != " "), len(body))
        if (lo and leading < 3) or (tail and trailing < 3):
            return list(difflib.unified_diff(a, b, *names, n=3))
    return [
        _HUNK.sub(lambda m: f"{m[1]}{int(m[2]) + lo}", ln, count=2) if ln.startswith("@@") else ln
        for ln in lines
    ]


def _common_run(a: list[str], b: list[str], limit: int, from_end: bool) -> int:
    """How many lines (at most `limit`) `a` and `b` share at their start, or their end.

    A binary search over slice comparisons (C-speed) instead of a Python loop over every
    line: a one-line edit of a 6,000-line file takes a dozen comparisons."""
    lo, hi = 0, limit  # the answer is in [lo, hi]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        same = a[len(a) - mid :] == b[len(b) - mid :] if from_end else a[:mid] == b[:mid]
        if same:
            lo = mid
        else:
            hi = mid - 1
    return lo


def diffstat(path: str, diff: str) -> str:
    """`git format-patch`'s diffstat for a one-file diff (counted by the diff parser, which
    knows a removed "--i;" line from a file header)."""
    files = parse_diff(diff, path)
    plus = sum(f.added for f in files)
    minus = sum(f.removed for f in files)
    ins = f", {plus} insertion{'s' if plus != 1 else ''}(+)" if plus else ""
    dels = f", {minus} deletion{'s' if minus != 1 else ''}(-)" if minus else ""
    return f" {path} | {plus + minus} {'+' * plus}{'-' * minus}\n 1 file changed{ins}{dels}\n"


# --------------------------------------------------------------------------- planning


@dataclass
class _Site:
    ref: Reference
    ordinal: int  # which call of the old symbol in the function, in order
    choice: Choice | None = None
    vc: VariantConversion | None = None


def _ordinal(text: str, ref: Reference, tree: Tree) -> tuple[str, int] | None:
    """(function, index among the calls of ref.symbol in it) for the call at ref.line
    (`tree` is the parse of `text`)."""
    calls = find_calls(tree.root_node, ref.symbol)
    for call in calls:
        fn = call.child_by_field_name("function")
        if fn is not None and fn.start_point[0] + 1 == ref.line:
            owner = enclosing_function(call)
            if owner is None:
                return None
            name = function_name(owner) or ""
            same = [c for c in calls if enclosing_function(c) == owner]
            return name, next(i for i, c in enumerate(same) if c.id == call.id)
    return None


def _message(func: str, sites: list[_Site], extra_notes: list[str]) -> str:
    paras: list[str] = []
    for new in dict.fromkeys(s.vc.new for s in sites if s.vc):
        mine = [s for s in sites if s.vc and s.vc.new == new and s.choice]
        reasons = "; ".join(dict.fromkeys(s.choice.reason for s in mine if s.choice))
        old = mine[0].ref.symbol
        paras.append(f"In {func}(), {reasons}, so convert the call of {old}() to using {new}().")
        extras = mine[0].vc.extras if mine[0].vc else []
        for slot in extras:
            if slot.local:
                extra = c_declaration(slot.param.type, slot.param.name)
                paras.append(
                    f"{new}() takes an extra {extra}: pass the "
                    f"address of a new local, as the series' own conversions do."
                )
    review = list(dict.fromkeys(r for s in sites if s.choice for r in s.choice.needs_review))
    review += extra_notes
    text = "\n\n".join(textwrap.fill(p, 72) for p in paras)
    if review:
        items = "\n".join(
            textwrap.fill(r, 72, initial_indent="- ", subsequent_indent="  ") for r in review
        )
        text += "\n\nNeeds review:\n" + items
    text += "\n\nGenerated by series-tool rewrite from the series' own conversions."
    return text


def plan_rewrite(
    series: Series,
    migration: Migration,
    remaining: list[Reference],
    read: Callable[[str], str | None],
    rules: Rules | None,
    author: str,
    date: str,
    history: Callable[[str], list[str]] | None = None,
    base_read: Callable[[str], str | None] | None = None,
) -> RewritePlan:
    """Plan conversion patches for the `remaining` calls of old symbols (no files written).

    `read(path)` gives a file as it is just before the removal patch; `rules` None means the
    rules shipped with the package. `history(path)` gives the file's recent commit subjects
    (for the subject prefix); `base_read(path)` the file before the series, where the
    series' own conversions are checked (default: `read`).
    """
    rules = rules if rules is not None else default_rules()
    plan = RewritePlan(conversion=learn_conversion(series, migration, read))
    rules = _with_learned_rules(series, migration, rules, plan.conversion, base_read or read)
    plan.disagreements = check_series_choices(series, migration, base_read or read, rules)
    groups: dict[tuple[str, str], list[_Site]] = {}
    originals: dict[str, str] = {}
    trees: dict[str, Tree] = {}  # parse of each file's current text, kept along the edits
    texts: list[Reference] = []  # comments and documentation, renamed along when possible
    for ref in sorted(remaining, key=lambda r: (r.file, r.line)):
        if ref.kind in ("comment", "documentation") and _renamed_to(plan, ref.symbol):
            texts.append(ref)
            continue
        # A function-like macro's use is rewritten like a call (a call node in the code).
        if ref.kind not in ("call", "macro-use") or ref.symbol not in migration.old:
            what = kind_phrase(ref.kind)
            plan.not_handled.append((ref, f"{what}, not a call: only calls are converted"))
            continue
        text = originals.get(ref.file)
        if text is None:
            text = read(ref.file)
            if text is None:
                plan.not_handled.append((ref, "the file cannot be read"))
                continue
            originals[ref.file] = text
            trees[ref.file] = parse_text(text)
        where = _ordinal(text, ref, trees[ref.file])
        if where is None:
            plan.not_handled.append((ref, "no call of it inside a function on that line"))
            continue
        groups.setdefault((ref.file, where[0]), []).append(_Site(ref, where[1]))
    current = dict(originals)
    number = 0
    for (path, func), sites in groups.items():
        result = _convert_function(
            plan, series, migration, rules, path, func, sites, current, trees
        )
        if result is None:
            continue
        new_text, notes = result
        number += 1
        prefix = prefix_for(series, path, history)
        news = list(dict.fromkeys(s.vc.new for s in sites if s.vc))
        subject = f"{prefix} {func}() use {', '.join(n + '()' for n in news)}".strip()
        body = _message(func, sites, notes)
        filename = _add_mail(
            plan, number, subject, body, path, current[path], new_text, author, date
        )
        current[path] = new_text
        for s in sites:
            if s.choice and s.vc:
                plan.conversions.append(
                    ConversionRecord(
                        file=path,
                        function=func,
                        line=s.ref.line,
                        old=s.ref.symbol,
                        new=s.vc.new,
                        reason=s.choice.reason,
                        needs_review=[*s.choice.needs_review, *notes],
                        patch_file=filename,
                        unsure=[*s.choice.doubts, *notes],
                    )
                )
    _rename_in_text(plan, series, texts, read, current, history, author, date, number)
    return plan


def _add_mail(
    plan: RewritePlan,
    number: int,
    subject: str,
    body: str,
    path: str,
    before: str,
    after: str,
    author: str,
    date: str,
) -> str:
    """Render one format-patch mail changing `path` from `before` to `after`; add it to
    the plan and return its file name."""
    filename = patch_filename(number, subject)
    diff = unified_diff(path, before, after)
    # No commit exists: the From line's id is a hash of what the mail carries.
    sha = hashlib.sha1((subject + diff).encode("utf-8", "surrogateescape")).hexdigest()
    # Templates load only when a mail is made (start-up stays light).
    from series_tool.render import render

    mail = render(
        "conversion-patch.mbox.j2",
        sha=sha,
        author=author,
        date=date,
        subject=subject,
        body=body,
        diffstat=diffstat(path, diff),
        diff=diff,
        version=__version__,
    )
    plan.patches.append(GeneratedPatch(filename, subject, mail, [path], diff))
    return filename


def _renamed_to(plan: RewritePlan, old: str) -> str | None:
    """The one new name of a pure rename (same parameters), else None: only then can a
    comment or a document be updated without a person deciding which variant it means."""
    conv = plan.conversion.get(old)
    if conv is None or len(conv.variants) != 1:
        return None
    (vc,) = conv.variants.values()
    return vc.new if vc.pure_rename else None


def _rename_in_text(
    plan: RewritePlan,
    series: Series,
    refs: list[Reference],
    read: Callable[[str], str | None],
    current: dict[str, str],
    history: Callable[[str], list[str]] | None,
    author: str,
    date: str,
    number: int,
) -> None:
    """One patch per file renaming the old name in the comments/documentation lines left."""
    by_file: dict[str, list[Reference]] = {}
    for ref in refs:
        by_file.setdefault(ref.file, []).append(ref)
    for path, mine in by_file.items():
        before = current.get(path)
        if before is None:
            before = read(path)
        if before is None:
            plan.not_handled.extend((r, "the file cannot be read") for r in mine)
            continue
        lines = split_lines(before)
        renames: dict[str, str] = {}
        for ref in mine:
            new = _renamed_to(plan, ref.symbol)
            pattern = word_pattern([ref.symbol])
            line = lines[ref.line - 1] if 0 < ref.line <= len(lines) else ""
            if new is None or not pattern.search(line):
                plan.not_handled.append((ref, "the line no longer names it"))
                continue
            lines[ref.line - 1] = pattern.sub(new, line)
            renames[ref.symbol] = new
        after = "".join(lines)
        if after == before:
            continue
        number += 1
        what = "documentation" if mine[0].kind == "documentation" else "comments"
        names = ", ".join(f"{n}()" for n in dict.fromkeys(renames.values()))
        subject = f"{prefix_for(series, path, history)} refer to {names} in {what}".strip()
        olds = ", ".join(f"{o}()" for o in renames)
        body = "\n".join(
            textwrap.wrap(
                f"The {what} of {path} still name {olds}, which this series removes; "
                f"name {names} instead, as the code now does.",
                72,
            )
        )
        body += "\n\nGenerated by series-tool rewrite."
        filename = _add_mail(plan, number, subject, body, path, before, after, author, date)
        current[path] = after
        plan.text_updates.extend(
            {
                "file": path,
                "line": r.line,
                "kind": r.kind,
                "old": r.symbol,
                "new": renames[r.symbol],
                "patch_file": filename,
            }
            for r in mine
            if r.symbol in renames
        )


def _with_learned_rules(
    series: Series,
    migration: Migration,
    rules: Rules,
    conversions: dict[str, Conversion],
    read: Callable[[str], str | None],
) -> Rules:
    """`rules`, plus a rule learned from the series for each split no rule covers."""
    learned = []
    for old, conv in conversions.items():
        if len(conv.variants) < 2 or rules.for_migration(old, migration.new) is not None:
            continue
        proto = conv.old_proto
        ops = rules.operations_for(proto.pointee if proto else None)
        if ops is not None:
            rule = roles_rule(series, migration, conv, ops, read)
        else:
            rule = learn_rule(series, migration, conv, read)
        if rule is not None:
            learned.append(rule)
    if not learned:
        return rules
    return Rules(
        (*rules.migrations, *learned),
        f"{rules.source} + learned from the series",
        rules.operations,
    )


def _visible(root: Node, fn: Node, cache: dict[str, set[str]]) -> set[str]:
    if "names" not in cache:
        cache["names"] = visible_names(root, fn)
    return cache["names"]


def _convert_function(
    plan: RewritePlan,
    series: Series,
    migration: Migration,
    rules: Rules,
    path: str,
    func: str,
    sites: list[_Site],
    current: dict[str, str],
    trees: dict[str, Tree],
) -> tuple[str, list[str]] | None:
    """Edit every site of one function in the current text; None (and not_handled) on failure.

    `trees[path]` is the parse of `current[path]`; on success it becomes the parse of
    the returned text (each file is parsed once per edit, not once per question)."""
    original = plan.conversion
    notes: list[str] = []
    data = current[path].encode("utf-8", "surrogateescape")
    tree = trees.get(path) or parse(data)
    fn_nodes = [n for n in top_level_functions(tree.root_node) if function_name(n) == func]
    if not fn_nodes:  # a definition error recovery put somewhere else: look everywhere
        fn_nodes = [
            n
            for n in walk(tree.root_node)
            if n.type == "function_definition" and function_name(n) == func
        ]
    if not fn_nodes:
        for s in sites:
            plan.not_handled.append((s.ref, f"function {func}() not found after earlier patches"))
        return None
    fn = fn_nodes[0]
    calls: dict[str, list[Node]] = {}
    for s in sites:
        calls.setdefault(s.ref.symbol, find_calls(fn, s.ref.symbol))
    edits: list[tuple[int, int, bytes]] = []
    visible: dict[str, set[str]] = {}  # names the function can use, computed once if needed
    wanted: dict[str, list[Node]] = {}  # learned local -> calls needing it
    local_types: dict[str, str] = {}
    ok: list[_Site] = []
    for s in sites:
        conv = original.get(s.ref.symbol)
        rule = rules.for_migration(s.ref.symbol, migration.new)
        candidates = conv.related() if conv else []
        if conv is None or not candidates or s.ordinal >= len(calls[s.ref.symbol]):
            why = "; ".join(conv.problems) if conv and conv.problems else "nothing learned"
            plan.not_handled.append((s.ref, f"no conversion learned for {s.ref.symbol}(): {why}"))
            continue
        if rule is not None:
            candidates = [v for v in rule.variants if v in conv.variants] or candidates
        text = current[path]
        call = calls[s.ref.symbol][s.ordinal]
        line = (call.child_by_field_name("function") or call).start_point[0] + 1
        s.choice = choose_variant(text, path, line, s.ref.symbol, candidates, rule, tree)
        if not s.choice.decided:
            plan.review.append((s.ref, s.choice.reason))
            s.choice = None
            continue
        s.vc = conv.variants[s.choice.variant]
        if unsure := s.vc.unsure():
            plan.review.append((s.ref, "; ".join(unsure)))
            s.choice, s.vc = None, None
            continue
        unknown = sorted(
            name
            for slot in s.vc.slots
            for name in slot.names
            if name not in _visible(tree.root_node, fn, visible)
        )
        if unknown:
            plan.review.append(
                (
                    s.ref,
                    f"{s.vc.new}() would be passed {', '.join('`' + n + '`' for n in unknown)}, "
                    f"which {func}() cannot see; not generated",
                )
            )
            s.choice, s.vc = None, None
            continue
        if s.vc.result is not None:
            contract = site_contract(call, s.vc.result)
            if contract.review is not None:
                plan.review.append((s.ref, contract.review))
                s.choice, s.vc = None, None
                continue
            edits.extend(contract.edits)
            if contract.note:
                s.choice = replace(s.choice, reason=f"{s.choice.reason}; {contract.note}")
        if s.vc.dropped:
            notes.append(
                f"{s.vc.new}() has no parameter for {', '.join(p.name for p in s.vc.dropped)}"
                f" of {s.ref.symbol}(): check nothing is lost ({path}:{s.ref.line})"
            )
        if s.vc.pure_rename and not s.vc.result and (more := s.vc.series_changed_more()):
            notes.append(
                f"the series' own conversions to {s.vc.new}() also changed "
                f"{'; '.join('`' + m + '`' for m in more[:3])}: check whether {func}() "
                f"({path}:{s.ref.line}) needs the same (e.g. a changed return value)"
            )
        for slot in s.vc.extras:
            if slot.local and slot.local_type:
                wanted.setdefault(slot.local, []).append(call)
                local_types[slot.local] = slot.local_type
        ok.append(s)
    taken = _identifiers(fn)
    names: dict[str, str] = {}
    for local, nodes in wanted.items():
        name, n = local, 2
        while name in taken:
            name, n = f"{local}{n}", n + 1
        taken.add(name)
        names[local] = name
        block = _common_block(nodes)
        if block is None:
            continue
        edits.append(_declaration_edit(data, block, f"{local_types[local]} {name}"))
    for s in ok:
        if s.vc is None:
            continue
        call = calls[s.ref.symbol][s.ordinal]
        arg_edits = _arg_edits(data, call, s.vc, names)
        if arg_edits is None:
            plan.not_handled.append(
                (s.ref, f"no value known for an extra argument of {s.vc.new}()")
            )
            s.choice = None
            continue
        edits.extend(arg_edits)
    if not any(s.choice for s in sites):
        return None
    new, new_tree = apply_edits(data, tree, edits)
    if _breaks_parse(data, new, fn, edits):
        for s in sites:
            plan.not_handled.append((s.ref, "the rewritten function does not parse; left alone"))
            s.choice = None
        return None
    trees[path] = new_tree
    return new.decode("utf-8", "surrogateescape"), list(dict.fromkeys(notes))

"""Generate a tree-wide rename series from the kernel tree at run time (never committed data).

For a symbol OLD and N patches: patch 1 introduces NEW as an alias (`#define NEW OLD`, put
before the top-level item that first provides OLD in a header), patches 2..N-1 convert the
other files' occurrences line by line (spread evenly over the patches, in path and line
order), and patch N renames OLD in the files that provide it and drops the alias: OLD is
removed, every caller is converted. The commits are made with `git fast-import` in a
throw-away bare clone that borrows the kernel's objects (`--shared`); the mbox is
`git format-patch --stdout --base` of them and is cached by (tree, symbol, N) in
$XDG_CACHE_HOME/series-tool/bench (the kernel repository itself is never written).

Usage: python benchmarks/series_gen.py SYMBOL PATCHES [-o OUT.mbox]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import ROOT, kernel_repo_or_reason

sys.path.insert(0, str(ROOT))

from series_tool.model import find_references, is_c_path, parse

PROVIDERS = ("definition", "declaration", "macro")
IDENT = b"Bench Author <bench@example.com> 1700000000 +0000"


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, check=True, capture_output=True
    ).stdout


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "series-tool" / "bench"


def _item_start(text: str, line: int) -> int:
    """First line (1-based) of the top-level C item holding `line` (tree-sitter)."""
    data = text.encode("utf-8", "surrogateescape")
    offset = len("\n".join(text.split("\n")[: line - 1]).encode("utf-8", "surrogateescape"))
    node = parse(data).root_node.descendant_for_byte_range(offset + 1, offset + 1)
    containers = {"translation_unit", "preproc_if", "preproc_ifdef", "preproc_else"}
    while node is not None and node.parent is not None and node.parent.type not in containers:
        node = node.parent
    return line if node is None else node.start_point.row + 1


def generate(repo: Path, old: str, patches: int, out: Path) -> Path:
    """Write the N-patch rename series of `old` for `repo`'s HEAD to `out`; return it."""
    new = f"{old}_renamed"
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(old)}(?![A-Za-z0-9_])")
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    files = _git(repo, "grep", "-l", "-w", "-I", old, head, "--").decode().split()
    files = [f.split(":", 1)[1] for f in files]
    texts = {
        f: _git(repo, "cat-file", "blob", f"{head}:{f}").decode("utf-8", "surrogateescape")
        for f in files
    }
    providers: dict[str, int] = {}
    for f in files:
        if is_c_path(f):
            refs = [r for r in find_references(f, texts[f], [old]) if r.kind in PROVIDERS]
            if refs:
                providers[f] = refs[0].line
    header = next((f for f in sorted(providers) if f.endswith(".h")), None)
    if header is None:
        raise SystemExit(f"no header provides {old}")
    lines = [
        (f, i)
        for f in sorted(files)
        if f not in providers
        for i, ln in enumerate(texts[f].split("\n"), 1)
        if word.search(ln)
    ]
    middle = max(1, min(patches - 2, len(lines)))
    chunks: list[list[tuple[str, int]]] = [
        lines[k * len(lines) // middle : (k + 1) * len(lines) // middle] for k in range(middle)
    ]

    stream: list[bytes] = []
    mark = 0

    def commit(subject: str, changed: dict[str, str]) -> None:
        nonlocal mark
        mark += 1
        msg = f"{subject}\n\nGenerated rename of {old} to {new}.\n".encode()
        stream.append(b"commit refs/heads/gen\n")
        stream.append(b"author " + IDENT + b"\ncommitter " + IDENT + b"\n")
        stream.append(b"data %d\n%s\n" % (len(msg), msg))
        if mark == 1:
            stream.append(f"from {head}\n".encode())
        for path, text in changed.items():
            data = text.encode("utf-8", "surrogateescape")
            stream.append(f"M 100644 inline {path}\n".encode())
            stream.append(b"data %d\n%s\n" % (len(data), data))

    cur = dict(texts)
    at = _item_start(cur[header], providers[header])
    hl = cur[header].split("\n")
    alias = f"#define {new} {old}"
    cur[header] = "\n".join([*hl[: at - 1], alias, *hl[at - 1 :]])
    commit(f"introduce {new}()", {header: cur[header]})
    for k, chunk in enumerate(chunks):
        changed: dict[str, str] = {}
        for f, i in chunk:
            fl = changed.get(f, cur[f]).split("\n")
            fl[i - 1] = word.sub(new, fl[i - 1])
            changed[f] = "\n".join(fl)
        cur.update(changed)
        if changed:
            commit(f"convert {old} callers, part {k + 1}", changed)
    final: dict[str, str] = {}
    for f in providers:
        kept = [ln for ln in cur[f].split("\n") if ln != alias]
        final[f] = word.sub(new, "\n".join(kept))
    commit(f"remove {old}()", final)

    with tempfile.TemporaryDirectory(prefix="series-gen-") as tmp:
        bare = Path(tmp) / "k.git"
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--shared", str(repo), str(bare)],
            check=True,
            capture_output=True,
        )
        _git(bare, "fast-import", "--quiet", stdin=b"".join(stream))
        mbox = _git(
            bare, "format-patch", "--stdout", "--numbered", f"--base={head}", f"{head}..gen"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".tmp")
    tmp_out.write_bytes(mbox)
    tmp_out.replace(out)
    return out


def series(repo: Path, old: str, patches: int) -> Path:
    """The cached mbox for (repo HEAD, old, patches), generated when absent."""
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    out = _cache_dir() / f"{head[:12]}-{old}-{patches}.mbox"
    return out if out.exists() else generate(repo, old, patches, out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("symbol")
    ap.add_argument("patches", type=int)
    ap.add_argument("-o", "--output", type=Path)
    args = ap.parse_args()
    repo, reason = kernel_repo_or_reason()
    if repo is None:
        print(f"skipped: {reason}")
        return 0
    path = (
        generate(repo, args.symbol, args.patches, args.output)
        if args.output
        else series(repo, args.symbol, args.patches)
    )
    print(path)
    return 0


if __name__ == "__main__":
    shutil.which("git") or sys.exit("git is required")
    sys.exit(main())

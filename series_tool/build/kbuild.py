"""kbuild knowledge: which CONFIG_ options build an object, and a configuration that has them.

Makefiles and Kconfig files are make and Kconfig syntax, not C: their few rules needed
here are read line by line. kconfiglib (14.1) cannot parse the 6.12 tree (`modules`), so
the configuration is made by kbuild itself: defconfig (or --kconfig), `scripts/config
--enable`, `make olddefconfig`, then the .config says which options stuck; for those that
did not, the `depends on` of their Kconfig entry (and the `if` blocks around it) are
enabled too, for a few rounds. Whatever still does not stick is reported with its reason.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from series_tool.checks import object_of

from .process import Runner
from .toolchains import Toolchain

_CONFIG = re.compile(r"\bCONFIG_([A-Za-z0-9_]+)")
_SYMBOL = re.compile(r"^[A-Za-z0-9_]+$")
_ENTRY_END = re.compile(
    r"^\s*(config|menuconfig|choice|endchoice|menu|endmenu|if|endif|source|comment)\b"
)
_ENTRY_START = re.compile(r"^\s*(config|menuconfig)\s+([A-Za-z0-9_]+)\s*$")
_PROMPT = re.compile(r'^(bool|tristate|string|hex|int|prompt)\s+"')
ROUNDS = 4


def _lhs_configs(lines: list[str], word: str) -> tuple[list[str], list[str]]:
    """(CONFIG_ options, composite object names) of the `x += ... word ...` lines."""
    configs: list[str] = []
    composites: list[str] = []
    pattern = re.compile(rf"(^|\s){re.escape(word)}(\s|$)")
    for line in lines:
        if "+=" not in line and ":=" not in line:
            continue
        lhs, _, rhs = line.partition("+=") if "+=" in line else line.partition(":=")
        if not pattern.search(rhs):
            continue
        configs.extend(c for c in _CONFIG.findall(lhs) if c not in configs)
        name = lhs.strip().split("-$(")[0].removesuffix("-y").removesuffix("-objs")
        if not name.startswith(("obj", "lib", "core", "drivers")) and _SYMBOL.match(name):
            composites.append(name)
    return configs, composites


class Makefiles:
    """The kbuild rules of one tree version (`read`), each directory's Kbuild/Makefile
    read once however many objects ask about it."""

    def __init__(self, read: Callable[[str], str | None]) -> None:
        self.read = read
        self._lines: dict[str, list[str]] = {}

    def lines(self, directory: str) -> list[str]:
        """The rule lines of a directory's Kbuild/Makefile, continuations joined."""
        if directory not in self._lines:
            out: list[str] = []
            for name in ("Kbuild", "Makefile"):
                text = self.read(posixpath.join(directory, name) if directory else name)
                if text:
                    out.extend(text.replace("\\\n", " ").splitlines())
            self._lines[directory] = out
        return self._lines[directory]

    def configs(self, path: str) -> list[str]:
        """CONFIG_ options (without the prefix) kbuild needs to build `path`'s object: its
        own `obj-$(CONFIG_X)` rule, the rule of a composite object it is part of, and the
        rules that descend into each directory above it (`obj-$(CONFIG_IIO) += iio/`)."""
        directory = posixpath.dirname(path)
        wanted: list[str] = []
        lines = self.lines(directory)
        todo = [posixpath.basename(object_of(path))]
        done: set[str] = set()
        while todo:
            obj = todo.pop()
            if obj in done or len(done) > 8:
                continue
            done.add(obj)
            configs, composites = _lhs_configs(lines, obj)
            wanted.extend(c for c in configs if c not in wanted)
            todo.extend(f"{c}.o" for c in composites)
        while directory:
            parent, name = posixpath.split(directory)
            configs, _ = _lhs_configs(self.lines(parent), f"{name}/")
            wanted.extend(c for c in configs if c not in wanted)
            directory = parent
        return wanted

    def builds(self, path: str) -> bool:
        """Whether the directory's Makefile names `path`'s object at all (a .c file that
        is #included elsewhere, or a host tool's, is not a target of its own)."""
        obj = posixpath.basename(object_of(path))
        pattern = re.compile(rf"(^|[\s=]){re.escape(obj)}(\s|$)")
        return any(pattern.search(line) for line in self.lines(posixpath.dirname(path)))


def object_configs(path: str, read: Callable[[str], str | None]) -> list[str]:
    """`Makefiles(read).configs(path)`, for one object."""
    return Makefiles(read).configs(path)


def is_kbuild_object(path: str, read: Callable[[str], str | None]) -> bool:
    """`Makefiles(read).builds(path)`, for one object."""
    return Makefiles(read).builds(path)


def read_config(path: Path) -> dict[str, str]:
    """A .config's set options: NAME (no prefix) -> y, m or a value."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            name, _, value = line.partition("=")
            out[name.removeprefix("CONFIG_")] = value
    return out


def _grep_kconfig(tree: Path, pattern: str) -> list[str]:
    """`file:line:text` hits of an extended regex in the tree's Kconfig files."""
    res = subprocess.run(
        ["git", "-C", str(tree), "grep", "-n", "-E", pattern, "--", "*Kconfig*"],
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return res.stdout.splitlines()


@dataclass
class Entry:
    """What a Kconfig entry needs: its `depends on` lines and the `if` blocks around it."""

    where: str
    depends: list[str] = field(default_factory=list)
    prompt: bool = False  # a user can set it; a hidden one is only `select`ed
    selected_by: list[str] = field(default_factory=list)


def kconfig_entries(tree: Path, names: list[str]) -> dict[str, Entry]:
    """The Kconfig entries of `names` in the tree (through git grep, then the files)."""
    if not names:
        return {}
    alternation = "|".join(re.escape(n) for n in names)
    pattern = rf"^\s*(menu)?config ({alternation})\s*$"
    out: dict[str, Entry] = {}
    for hit in _grep_kconfig(tree, pattern):
        file, lineno, text = hit.split(":", 2)
        name = text.split()[-1]
        lines = (tree / file).read_text(errors="replace").replace("\\\n", " ").splitlines()
        start = int(lineno) - 1
        entry = out.setdefault(name, Entry(f"{file}:{lineno}"))
        ifs: list[str] = []
        for line in lines[:start]:
            stripped = line.strip()
            if stripped.startswith("if "):
                ifs.append(stripped[3:].split("#")[0].strip())
            elif stripped.startswith("endif") and ifs:
                ifs.pop()
        entry.depends.extend(ifs)
        for line in lines[start + 1 :]:
            if _ENTRY_END.match(line):
                break
            stripped = line.strip()
            if stripped in ("help", "---help---"):
                break  # the help text may say "depends on" too
            if stripped.startswith("depends on "):
                entry.depends.append(stripped[len("depends on ") :].split("#")[0].strip())
            elif _PROMPT.match(stripped):
                entry.prompt = True
    hidden = [n for n, e in out.items() if not e.prompt]
    for name, selector in _selectors(tree, hidden):
        out[name].selected_by.append(selector)
    return out


def _selectors(tree: Path, names: list[str]) -> list[tuple[str, str]]:
    """(hidden symbol, the config entry that selects it) pairs."""
    if not names:
        return []
    alternation = "|".join(re.escape(n) for n in names)
    hits = _grep_kconfig(tree, rf"^\s*select ({alternation})\b")
    out: list[tuple[str, str]] = []
    cache: dict[str, list[str]] = {}
    for hit in hits:
        file, lineno, text = hit.split(":", 2)
        name = text.split()[1]
        lines = cache.setdefault(file, (tree / file).read_text(errors="replace").splitlines())
        for line in reversed(lines[: int(lineno) - 1]):
            m = _ENTRY_START.match(line)
            if m:
                out.append((name, m[2]))
                break
    return out


def positive_symbols(expression: str) -> list[str]:
    """Symbols an `A && (B || C) && !D` dependency wants on: A, B, C (never D; y/m/n are
    values, not symbols)."""
    out: list[str] = []
    for conjunct in expression.split("&&"):
        for alt in conjunct.split("||"):
            token = alt.strip().strip("()").strip()
            token = token.split("=")[0].strip() if "=" in token and "!=" not in token else token
            if _SYMBOL.match(token) and token not in ("y", "m", "n") and token not in out:
                out.append(token)
    return out


@dataclass
class Configured:
    """One architecture's build folder and what its configuration holds."""

    toolchain: Toolchain
    outdir: Path
    ok: bool
    enabled: set[str]
    failed: dict[str, str]  # option -> why it could not be enabled
    log: Path
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def make_argv(tc: Toolchain, outdir: Path, jobs: int, *targets: str) -> list[str]:
    """`make O=DIR ARCH=... CROSS_COMPILE=... -jN targets` (quiet, keep going)."""
    return ["make", f"O={outdir}", *tc.make_vars(), f"-j{jobs}", "-k", *targets]


def configure(
    runner: Runner,
    tree: Path,
    tc: Toolchain,
    outdir: Path,
    kconfig: str,
    wanted: list[str],
    jobs: int,
    env: dict[str, str],
    log: Path,
) -> Configured:
    """Make `outdir`'s .config: the base config, then `wanted` with their dependencies,
    then `make prepare`. `kconfig` is a kbuild target (defconfig, allmodconfig...) or
    the path of a config file."""
    outdir.mkdir(parents=True, exist_ok=True)
    seconds = cpu = 0.0

    def make(*targets: str) -> bool:
        nonlocal seconds, cpu
        done = runner.run(make_argv(tc, outdir, jobs, *targets), tree, log, env)
        seconds += done.seconds
        cpu += done.cpu_seconds
        return done.code == 0

    source = Path(kconfig)
    if source.is_file():
        (outdir / ".config").write_bytes(source.read_bytes())
        base_ok = make("olddefconfig")
    else:
        base_ok = make(kconfig)
    if not base_ok:
        return Configured(tc, outdir, False, set(), {}, log, seconds, cpu)
    have = read_config(outdir / ".config")
    enable = [w for w in wanted if w not in have]
    tried: set[str] = set()
    entries: dict[str, Entry] = {}
    for _ in range(ROUNDS):
        todo = [w for w in enable if w not in tried]
        if not todo:
            break
        tried.update(todo)
        args = [a for w in enable for a in ("--enable", w)]
        runner.run(["scripts/config", "--file", str(outdir / ".config"), *args], tree, log, env)
        make("olddefconfig")
        have = read_config(outdir / ".config")
        missing = [w for w in enable if w not in have]
        if not missing:
            break
        entries.update(kconfig_entries(tree, [m for m in missing if m not in entries]))
        for m in missing:
            entry = entries.get(m)
            if entry is not None and not entry.prompt:
                # Hidden: only a `select` sets it; enable the first entry selecting it.
                for sel in entry.selected_by[:1]:
                    if sel not in enable:
                        enable.append(sel)
            for dep in (
                d for e in [entries.get(m)] if e for x in e.depends for d in positive_symbols(x)
            ):
                if dep not in enable and dep not in have:
                    enable.append(dep)
    have = read_config(outdir / ".config")
    failed: dict[str, str] = {}
    for w in wanted:
        if w in have:
            continue
        entry = entries.get(w)
        if entry is None:
            failed[w] = "no Kconfig entry for this architecture"
        elif not entry.prompt and not entry.selected_by:
            failed[w] = "hidden (no prompt) and nothing selects it"
        else:
            unmet = [d for x in entry.depends for d in positive_symbols(x) if d not in have]
            deps = " && ".join(f"({d})" for d in entry.depends) or "none"
            why = f"depends on {deps}"
            failed[w] = why + (f"; not set: {', '.join(unmet)}" if unmet else "")
    ok = make("prepare")
    return Configured(tc, outdir, ok, set(have), failed, log, seconds, cpu)

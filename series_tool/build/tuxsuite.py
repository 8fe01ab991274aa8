"""TuxSuite, Linaro's cloud build service: a plan of one build per step x architecture,
and a finished plan's results read back into the per-step report.

TuxSuite builds git commits it can fetch, so each step becomes a commit on a branch the
user names. series-tool never pushes and never writes the user's repository: the commits
are made in a private repository that borrows the user's objects (git alternates), and
the branch leaves it as a git bundle next to the plan. The maintainer fetches the bundle
into their repository, pushes the branch where TuxSuite can read it, and submits the plan
(`tuxsuite plan submit --json-out results.json plan.yaml`); `--tuxsuite-results` reads
that JSON (the builds' status as the client writes it) and, when the builds' logs were
downloaded (`--download --output-dir DIR`, one DIR/<uid>/build.log each), gcc's
diagnostics from them, into the same report as `--build kernel`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from series_tool.checks import Analysis, Step
from series_tool.errors import BadInput

from .diagnostics import parse_log
from .ledger import Ledger, step_result

#: kbuild ARCH -> TuxSuite's (and tuxmake's) target_arch, where they differ.
TUX_ARCHES = {"x86": "x86_64"}
#: What the client accepts as git_repo (tuxsuite.build.Build.is_supported_git_url).
_GIT_URL = re.compile(r"^(git://|https?://)\S+$")
_BUILD_NAME = re.compile(r"^(?P<branch>.+)/step-(?P<index>\d+)/(?P<arch>[A-Za-z0-9_]+)$")


def tux_arch(kbuild_arch: str) -> str:
    """TuxSuite's name for a kbuild architecture (x86 -> x86_64)."""
    return TUX_ARCHES.get(kbuild_arch, kbuild_arch)


@dataclass
class PlanRequest:
    """What `--tuxsuite-plan FILE` was asked for."""

    plan: Path
    branch: str
    git_repo: str
    arches: list[str]  # TuxSuite target_arch names
    toolchain: str = "gcc"
    kconfig: str = "defconfig"
    bundle: Path = field(init=False)

    def __post_init__(self) -> None:
        self.bundle = self.plan.with_suffix(".bundle")


def check_request(req: PlanRequest) -> None:
    """Bad options as the client would refuse them, before any work."""
    if not _GIT_URL.match(req.git_repo):
        raise BadInput(
            "--tuxsuite-git-repo",
            f"{req.git_repo!r}: TuxSuite fetches git://, http:// or https:// URLs only",
        )
    ok = subprocess.run(
        ["git", "check-ref-format", "--branch", req.branch],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if ok.returncode != 0:
        raise BadInput("--tuxsuite-branch", f"{req.branch!r} is not a valid branch name")
    if os.sep in req.kconfig or os.path.exists(req.kconfig):
        raise BadInput(
            "--kconfig",
            "TuxSuite builds from a kbuild target or a URL, not a local file: "
            f"{req.kconfig} (publish it and pass its URL)",
        )


def build_name(branch: str, index: int, arch: str) -> str:
    """The name each build of the plan carries, which the results are matched by."""
    return f"{branch}/step-{index}/{arch}"


def _git(git_dir: Path, *args: str, env: dict[str, str] | None = None, data: bytes = b"") -> str:
    res = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args],
        input=data,
        capture_output=True,
        env=env,
        check=False,
    )
    if res.returncode != 0:
        message = res.stderr.decode(errors="replace").strip().splitlines()
        raise BadInput("--tuxsuite-plan", f"git {args[0]}: {message[-1] if message else '?'}")
    return res.stdout.decode(errors="replace").strip()


def _identity(st: Step) -> dict[str, str]:
    """The patch's author and date, for author and committer: the same series gives the
    same commits (and the same shas) on every run."""
    assert st.patch is not None
    p = st.patch
    try:
        date = parsedate_to_datetime(p.date).isoformat() if p.date else "1970-01-01T00:00:00Z"
    except (TypeError, ValueError):
        date = "1970-01-01T00:00:00Z"
    name = p.author_name or "series-tool"
    email = p.author_email or "series-tool@localhost"
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": date,
    }


def step_commits(an: Analysis, work: Path, req: PlanRequest | None = None) -> list[dict[str, Any]]:
    """One commit per step on top of the base, made in a private repository under `work`
    that reads the user's objects through alternates and writes only its own; with `req`,
    its branch is written to `req.bundle`. (step index, patch number, sha) of each."""
    if an.tree.kind != "git" or an.tree.path is None or an.tree.base is None:
        raise BadInput("--tuxsuite-plan", "needs a git repository (--repo) to make the commits")
    common = subprocess.run(
        ["git", "-C", an.tree.path, "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    repo = work / "steps.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    (repo / "objects" / "info" / "alternates").write_text(str(Path(common) / "objects") + "\n")
    env = {**os.environ, "GIT_INDEX_FILE": str(work / "index")}
    base = an.tree.base
    _git(repo, "read-tree", base, env=env)
    modes = {}
    paths = an.touched()
    listing = _git(repo, "ls-tree", base, "--", *paths) if paths else ""
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        modes[path] = meta.split()[0]
    parent = base
    out: list[dict[str, Any]] = []
    for st in an.steps[1:]:
        assert st.patch is not None
        read = an.read_at(st.index)
        for path in paths:
            text = read(path)
            if text is None:
                _git(repo, "update-index", "--force-remove", "--", path, env=env)
                continue
            blob = _git(
                repo,
                "hash-object",
                "-w",
                "--stdin",
                env=env,
                data=text.encode("utf-8", "surrogateescape"),
            )
            mode = modes.get(path, "100644")
            _git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
        tree = _git(repo, "write-tree", env=env)
        message = st.patch.subject + "\n\n" + st.patch.commit_message.strip() + "\n"
        parent = _git(
            repo,
            "commit-tree",
            tree,
            "-p",
            parent,
            "-F",
            "-",
            env={**env, **_identity(st)},
            data=message.encode("utf-8", "surrogateescape"),
        )
        out.append({"step": st.index, "patch": st.patch.number, "sha": parent})
    if req is not None:
        _git(repo, "update-ref", f"refs/heads/{req.branch}", parent)
        _git(repo, "bundle", "create", str(req.bundle.resolve()), req.branch, f"^{base}")
    return out


def plan_data(an: Analysis, req: PlanRequest, commits: list[dict[str, Any]]) -> dict[str, Any]:
    """What the plan template renders: the base and every step, each for every architecture."""
    shas = [{"step": 0, "patch": None, "sha": an.tree.base}, *commits]
    jobs = []
    for c in shas:
        jobs.append(
            {
                "name": f"step-{c['step']}" + (f" (patch {c['patch']})" if c["patch"] else ""),
                "builds": [
                    {
                        "build_name": build_name(req.branch, c["step"], arch),
                        "target_arch": arch,
                        "toolchain": req.toolchain,
                        "kconfig": req.kconfig,
                        "git_repo": req.git_repo,
                        "git_sha": c["sha"],
                    }
                    for arch in req.arches
                ],
            }
        )
    series = an.series
    cover = series.cover.subject if series.cover is not None else None
    title = cover or (series.patches[0].subject if series.patches else "series")
    return {
        "name": f"series-tool {req.branch}",
        "description": f"{title}: the base and {len(commits)} steps",
        "jobs": jobs,
    }


def make_plan(an: Analysis, req: PlanRequest) -> dict[str, Any]:
    """Make the steps' commits and write their bundle (`req.bundle`); what the plan
    template renders, with the commits and the commands to run next."""
    with tempfile.TemporaryDirectory(prefix="series-tool-tuxsuite-") as work:
        commits = step_commits(an, Path(work), req)
    data = plan_data(an, req, commits)
    return {
        **data,
        "plan": str(req.plan),
        "bundle": str(req.bundle),
        "branch": req.branch,
        "commits": commits,
        "commands": commands(req, an.series.source or "SERIES"),
    }


def commands(req: PlanRequest, source: str, results: str = "results.json") -> list[str]:
    """What the maintainer runs: fetch the branch into their repository, push it, submit
    the plan (downloading the logs, for gcc's diagnostics), read the results back."""
    q = shlex.quote
    branch = q(req.branch)
    return [
        f"git fetch {q(str(req.bundle))} {branch}:{branch}",
        f"git push {q(req.git_repo)} {branch}",
        f"tuxsuite plan submit --json-out {results} --download --output-dir tuxsuite-logs "
        f"{q(str(req.plan))}",
        f"series-tool bisect-report {q(source)} --tuxsuite-results {results} "
        "--tuxsuite-logs tuxsuite-logs",
    ]


def _results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(errors="replace"))
    except OSError as exc:
        raise BadInput("--tuxsuite-results", f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        where = f"{path}: not JSON ({exc.msg}, line {exc.lineno})"
        raise BadInput("--tuxsuite-results", where) from None
    builds = data.get("builds") if isinstance(data, dict) else None
    if not isinstance(builds, dict):
        raise BadInput(
            "--tuxsuite-results",
            f'{path}: no "builds" object (write it with tuxsuite plan submit/get --json-out)',
        )
    return builds


def read_results(an: Analysis, path: Path, logs: Path | None = None) -> dict[str, Any]:
    """A finished plan's builds, matched to the steps by their build_name, into the
    shape of `kernel_build` (per-step results in "steps")."""
    builds = _results(path)
    expected = _expected_shas(an)
    per_step: dict[int, dict[str, dict[str, Any]]] = {}
    foreign = 0
    other_commits: list[str] = []
    for uid, b in sorted(builds.items()):
        m = _BUILD_NAME.match(str(b.get("build_name") or "")) if isinstance(b, dict) else None
        if m is None or int(m["index"]) >= len(an.steps):
            foreign += 1
            continue
        index = int(m["index"])
        if expected is not None and b.get("git_sha") != expected[index]:
            # Another version of the series, or another base: not this step's tree.
            other_commits.append(f"{b.get('build_name')} built {b.get('git_sha')}")
            continue
        per_step.setdefault(index, {})[m["arch"]] = {**b, "uid": b.get("uid", uid)}
    if not per_step:
        why = f" ({other_commits[0]}, not this series' commit)" if other_commits else ""
        raise BadInput(
            "--tuxsuite-results",
            f"{path}: none of its {len(builds)} builds is a step of this series{why}",
        )
    ledger = Ledger(an)
    results: dict[int, dict[str, Any]] = {}
    not_built: list[dict[str, Any]] = []
    base_failed: set[str] = set()
    for st in an.steps:
        mine = per_step.get(st.index, {})
        if not mine:
            not_built.append(
                {"file": "(whole tree)", "arch": "*", "reason": f"no build of step {st.index}"}
            )
        rows: list[dict[str, Any]] = []
        built: dict[str, list[str]] = {}
        seconds = 0.0
        per_arch: dict[str, float] = {}
        failed = False
        notes: list[str] = []
        for arch, b in sorted(mine.items()):
            state, result = b.get("state"), b.get("result")
            if state != "finished" or result not in ("pass", "fail"):
                # Still running, canceled, or an infrastructure error: no evidence.
                notes.append(f"{arch}: {b.get('status_message') or state or '?'} ({result})")
                continue
            built[arch] = [str(b["uid"])]
            duration = b.get("duration")
            if isinstance(duration, int | float):
                seconds += duration
                per_arch[arch] = float(duration)
            log = logs / str(b["uid"]) / "build.log" if logs is not None else None
            if log is not None and log.is_file():
                text = log.read_text(errors="replace")
                rows.extend(ledger.rows(st, arch, text, _roots(text, an.tree.exists)))
            if result == "fail":
                if st.index == 0:
                    base_failed.add(arch)
                elif arch not in base_failed:
                    failed = True
        result_ = step_result(st.index, rows, built, seconds, per_arch, failed=failed)
        result_["tuxsuite"] = {
            arch: {
                k: b.get(k)
                for k in ("uid", "result", "errors_count", "warnings_count", "download_url")
            }
            for arch, b in sorted(mine.items())
        }
        if notes:
            result_["note"] = "; ".join(notes)
        results[st.index] = result_
    config = {
        "arch": ", ".join(sorted({a for per in per_step.values() for a in per})),
        "tool": "tuxsuite",
        "kconfig": ", ".join(
            sorted({_kconfig(b) for per in per_step.values() for b in per.values()})
        ),
        "ok": True,
        "enabled": [],
        "not_enabled": {},
        "seconds": 0.0,
        "log_tail": "",
    }
    return {
        "steps": results,
        "configurations": [config],
        "not_built": not_built,
        "why": {},
        "foreign_builds": foreign,
        "other_commits": other_commits,
        "commits_checked": expected is not None,
    }


def _expected_shas(an: Analysis) -> list[str] | None:
    """The commit each step's build must have built: the base, then the commits
    `--tuxsuite-plan` makes (the same series and base give the same shas). None when the
    tree is not a git repository (nothing to check against)."""
    if an.tree.kind != "git" or an.tree.base is None:
        return None
    with tempfile.TemporaryDirectory(prefix="series-tool-tuxsuite-") as work:
        commits = step_commits(an, Path(work))
    return [an.tree.base, *(c["sha"] for c in commits)]


def _kconfig(b: dict[str, Any]) -> str:
    k = b.get("kconfig")
    return "+".join(map(str, k)) if isinstance(k, list) else str(k)


def _roots(text: str, exists: Callable[[str], bool]) -> tuple[str, ...]:
    """The folders TuxSuite's build tree sat in, from gcc's absolute paths: the prefix
    whose removal leaves a file of the tree (so diagnostics name files as the series does)."""
    roots: set[str] = set()
    for d in parse_log(text):
        if not d.file.startswith("/") or any(d.file.startswith(r) for r in roots):
            continue
        parts = d.file.split("/")
        for i in range(1, len(parts) - 1):
            if exists("/".join(parts[i:])):
                roots.add("/".join(parts[:i]) + "/")
                break
    return tuple(sorted(roots, key=len, reverse=True))

"""`series-tool scan` on small public-inbox repositories built in temporary folders.

The archives hold real series written with `git format-patch` against a small C tree
(an API removal done right, one that misses a caller, one removing a static helper, one
that removes nothing) mixed with review replies; the kernel tests add the real pte-nolock
series from the shared corpus and check them against the 6.12 tree.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import GIT_ENV, git, make_git_repo
from inbox import append_messages, messages_of, reply

from series_tool.cli import main
from series_tool.ingest import quick_reply, read_archive, split_mbox

TREE = {
    "include/api.h": "int old_get(int x);\nint new_get(int x);\n#define OLD_MAX 4\n",
    "lib/api.c": (
        '#include "api.h"\n\nint old_get(int x)\n{\n\treturn x + 1;\n}\n\n'
        "int new_get(int x)\n{\n\treturn x + 1;\n}\n"
    ),
    "drivers/a.c": '#include "api.h"\n\nint a_probe(int v)\n{\n\treturn old_get(v);\n}\n',
    "drivers/b.c": '#include "api.h"\n\nint b_probe(int v)\n{\n\treturn old_get(v) * 2;\n}\n',
    "drivers/c.c": (
        "static int helper(int v)\n{\n\treturn v;\n}\n\n"
        "int c_probe(int v)\n{\n\treturn helper(v);\n}\n"
    ),
}


def _as(who: str, repo: Path, *args: str) -> str:
    """git as `who` (author and committer: format-patch takes the cover's From from both)."""
    name, addr = who[:-1].split(" <")
    env = {**os.environ, **GIT_ENV}
    for role in ("AUTHOR", "COMMITTER"):
        env |= {f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": addr}
    proc = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return proc.stdout.decode()


def _edit(repo: Path, path: str, old: str, new: str | None, subject: str, who: str) -> None:
    """Replace `old` by `new` in `path` and commit; `new` None deletes the file."""
    f = repo / path
    if new is None:
        _as(who, repo, "rm", "-q", path)
        _as(who, repo, "commit", "-q", "-m", subject)
        return
    f.write_text(f.read_text().replace(old, new))
    _as(who, repo, "commit", "-q", "-a", "-m", subject)


def _series(
    tree: Path,
    tmp: Path,
    name: str,
    edits: list[tuple[str, str, str | None, str]],
    who: str,
    cover: str,
    version: int = 1,
    unsent: tuple[tuple[str, str, str | None, str], ...] = (),
) -> list[bytes]:
    """Mails of a series made of `edits` (path, old, new, subject) on top of `tree`
    (and on top of `unsent` commits the series is built on but does not carry)."""
    work = tmp / f"work-{name}"
    git(tmp, "clone", "-q", str(tree), str(work))
    for path, old, new, subject in [*unsent, *edits]:
        _edit(work, path, old, new, subject, who)
    args = ["format-patch", "--stdout", "--thread", f"-{len(edits)}"]
    if len(edits) > 1:
        args.append("--cover-letter")
    if version > 1:
        args.append(f"-v{version}")
    out = _as(who, work, *args, "--add-header=List-Id: <list.example.org>")
    fixed = []
    for m in split_mbox(out.encode()):
        # Message-Ids unique per series: format-patch derives them from the clock.
        head, body = m.decode().split("\n\n", 1)
        head = head.replace("*** SUBJECT HERE ***", cover)
        for field in ("Message-Id: <", "In-Reply-To: <", "References: <"):
            head = head.replace(field, f"{field}{name}.")
        body = body.replace("*** BLURB HERE ***", "The series.")
        fixed.append((head + "\n\n" + body).encode())
    return fixed


@pytest.fixture
def c_tree(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path, TREE, "tree")


ALICE = "Alice Dev <alice@example.org>"
BOB = "Bob Hacker <bob@example.org>"
CAROL = "Carol Clean <carol@example.org>"


def good_series(tree: Path, tmp: Path) -> list[bytes]:
    return _series(
        tree,
        tmp,
        "good",
        [
            ("drivers/a.c", "old_get(v)", "new_get(v)", "a: use new_get()"),
            ("drivers/b.c", "old_get(v)", "new_get(v)", "b: use new_get()"),
            ("include/api.h", "int old_get(int x);\n", "", "api: remove old_get() declaration"),
            (
                "lib/api.c",
                "int old_get(int x)\n{\n\treturn x + 1;\n}\n\n",
                "",
                "api: remove old_get()",
            ),
        ],
        ALICE,
        "remove old_get()",
    )


def missed_series(tree: Path, tmp: Path, version: int = 1) -> list[bytes]:
    edits = [("drivers/a.c", "old_get(v)", "new_get(v)", "a: use new_get()")]
    if version > 1:
        edits.append(("drivers/b.c", "old_get(v)", "new_get(v)", "b: use new_get()"))
    edits.append(
        ("include/api.h", "#define OLD_MAX 4\n", "", "api: drop OLD_MAX"),
    )
    edits.append(
        ("include/api.h", "int old_get(int x);\n", "", "api: drop old_get()"),
    )
    if version > 1:
        body = "int old_get(int x)\n{\n\treturn x + 1;\n}\n\n"
        edits.append(("lib/api.c", body, "", "api: drop old_get() body"))
    return _series(tree, tmp, f"missed{version}", edits, BOB, "drop old_get", version)


def static_series(tree: Path, tmp: Path) -> list[bytes]:
    return _series(
        tree,
        tmp,
        "static",
        [
            (
                "drivers/c.c",
                "static int helper(int v)\n{\n\treturn v;\n}\n\n",
                "",
                "c: fold helper() into c_probe()",
            ),
            ("drivers/c.c", "return helper(v);", "return v;", "c: return v"),
        ],
        CAROL,
        "c cleanups",
    )


def plain_series(tree: Path, tmp: Path) -> list[bytes]:
    return _series(
        tree,
        tmp,
        "plain",
        [("lib/api.c", "return x + 1;\n}\n\nint new", "return x + 2;\n}\n\nint new", "fix")],
        CAROL,
        "",
    )


def _id(mail: bytes) -> str:
    return str(email.message_from_bytes(mail)["Message-Id"]).strip("<>")


def _subject(mail: bytes) -> str:
    return str(email.message_from_bytes(mail)["Subject"])


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["scan", *argv, "--format", "json", "-q"])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


@pytest.fixture
def inbox(tmp_path: Path, c_tree: Path) -> tuple[Path, dict[str, list[bytes]]]:
    good = good_series(c_tree, tmp_path)
    missed = missed_series(c_tree, tmp_path)
    static = static_series(c_tree, tmp_path)
    plain = plain_series(c_tree, tmp_path)
    traffic = [
        *good[:2],
        reply(_id(good[1]), _subject(good[1]), 1, "Reviewed-by: R <r@example.org>\n"),
        *static,
        *good[2:],
        *plain,
        *missed,
        reply(_id(missed[0]), _subject(missed[0]), 2),
        reply("unknown@example.org", "unrelated question", 3, "Any idea?\n"),
    ]
    repo = tmp_path / "inbox" / "git" / "0.git"
    append_messages(repo, traffic)
    return tmp_path / "inbox", {"good": good, "missed": missed, "static": static, "plain": plain}


def test_finds_removal_series_only(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, mails = inbox
    out = tmp_path / "out"
    code, rep = scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    by_title = {s["title"]: s for s in rep["checked"]}
    assert set(by_title) == {"remove old_get()", "drop old_get"}, by_title
    assert by_title["remove old_get()"]["state"] == "success"
    assert by_title["remove old_get()"]["removes"] == ["old_get"]
    missed = by_title["drop old_get"]
    assert missed["state"] == "fail"
    assert "drivers/b.c b_probe" in missed["description"]
    # Everything the series removes that the tree had is old API (issue 8), OLD_MAX too,
    # whether or not the series converts a use of it.
    assert missed["removes"] == ["OLD_MAX", "old_get"]
    assert code == 1
    assert rep["messages_read"] == sum(len(m) for m in mails.values()) + 3
    # Files per series, linked from the index.
    index = (out / "index.html").read_text()
    for s in rep["checked"]:
        folder = out / "series" / s["slug"]
        check = json.loads((folder / "check.json").read_text())
        assert check["context"] == "series-tool" and check["state"] == s["state"]
        assert check["target_url"] is None
        report = json.loads((folder / "report.json").read_text())
        assert report["verify"]["ok"] == (s["state"] == "success")
        assert f"series/{s['slug']}/report.html" in index
        assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "c cleanups" not in index and "helper" not in index


def test_reply_mail_headers(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, mails = inbox
    out = tmp_path / "out"
    scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    cover = email.message_from_bytes(mails["missed"][0])
    slug = next(p for p in (out / "series").iterdir() if p.name.startswith("drop-old-get"))
    raw = (slug / "reply.mbox").read_bytes()
    assert raw.startswith(b"From ")
    msg = email.message_from_bytes(raw.split(b"\n", 1)[1], policy=email.policy.default)
    assert msg["To"] == BOB
    assert msg["Cc"] == "list@example.org"
    assert msg["Subject"] == "Re: " + cover["Subject"].replace("\n", "")
    assert msg["In-Reply-To"] == cover["Message-Id"]
    assert msg["References"].split()[-1] == cover["Message-Id"]
    body = msg.get_content()
    assert "drivers/b.c:5 in b_probe(): old_get" in body
    assert "patch 3" in body  # the unsafe step (old_get dropped while b.c calls it)
    assert "> " not in body  # quotes nothing


def test_incremental_checks_only_new_series(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, _ = inbox
    out = tmp_path / "out"
    scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    state = json.loads((out / "state.json").read_text())
    head = git(archive / "git" / "0.git", "rev-parse", "HEAD").strip()
    assert state["heads"] == {"0": head}
    # Nothing new: nothing read, nothing checked.
    code, rep = scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    assert (rep["messages_read"], rep["series_checked"]) == (0, 0)
    # v2 of the missed series (now complete) and a reply to the good one arrive.
    v2 = missed_series(c_tree, tmp_path, version=2)
    good_cover = inbox[1]["good"][0]
    append_messages(
        archive / "git" / "0.git", [reply(_id(good_cover), _subject(good_cover), 9), *v2]
    )
    code, rep = scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    assert rep["messages_read"] == len(v2) + 1
    assert [(s["title"], s["version"], s["state"]) for s in rep["checked"]] == [
        ("drop old_get", 2, "success")
    ]
    assert code == 0
    # The index lists both series, the second at its new verdict.
    index = (out / "index.html").read_text()
    assert index.count('class="badge success">success</span></td>') == 2


def test_records_live_in_their_own_file(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, mails = inbox
    out = tmp_path / "out"
    scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    state = json.loads((out / "state.json").read_text())
    assert "records" not in state
    records = (out / "records.jsonl").read_bytes()
    assert state["records_bytes"] == len(records)
    # Every patch and cover, no reply: one JSON object a line.
    lines = records.splitlines()
    assert len(lines) == state["records_count"] == sum(len(m) for m in mails.values())
    assert all(json.loads(line)["message_id"] for line in lines)
    # A run interrupted after appending left a partial line past the recorded length:
    # the next run with new mail cuts it off before appending.
    with open(out / "records.jsonl", "ab") as fh:
        fh.write(b'{"seq": 99, "trunc')
    v2 = missed_series(c_tree, tmp_path, version=2)
    append_messages(archive / "git" / "0.git", v2)
    _, rep = scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    assert [(s["title"], s["version"]) for s in rep["checked"]] == [("drop old_get", 2)]
    after = (out / "records.jsonl").read_bytes()
    assert after.startswith(records) and len(after.splitlines()) == len(lines) + len(v2)
    # A state of the first format (records inside it) is read, and moved out on save.
    state = json.loads((out / "state.json").read_text())
    old = {**state, "version": 1, "records": [json.loads(x) for x in after.splitlines()]}
    (out / "state.json").write_text(json.dumps(old))
    (out / "records.jsonl").unlink()
    append_messages(archive / "git" / "0.git", [reply(_id(v2[0]), _subject(v2[0]), 7)])
    _, rep = scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    assert rep["messages_read"] == 1 and rep["records"] == len(after.splitlines())
    assert (out / "records.jsonl").read_bytes() == after
    assert "records" not in json.loads((out / "state.json").read_text())


def test_message_id_takes_the_thread(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, capsys
) -> None:
    archive, mails = inbox
    patch2 = _id(mails["missed"][2])
    code = main(["show", "--message-id", patch2, "--archive", str(archive), "--format", "json"])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0
    assert shown["series"]["title"] == "drop old_get"
    assert [p["number"] for p in shown["series"]["patches"]] == [1, 2, 3]
    assert shown["others"] == []  # only this thread, not the rest of the archive
    code = main(
        [
            "verify",
            "--message-id",
            f"<{patch2}>",
            "--archive",
            str(archive),
            "--repo",
            str(c_tree),
            "--format",
            "json",
        ]
    )
    rep = json.loads(capsys.readouterr().out)
    assert code == 1 and not rep["ok"]
    assert {r["file"] for r in rep["remaining"] if r["kind"] == "call"} == {"drivers/b.c"}


def test_message_id_with_the_scan_thread_index(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, mails = inbox
    out = tmp_path / "out"
    scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    # Every message has a row, replies included.
    rows = (out / "threads.jsonl").read_text().splitlines()
    assert len(rows) == sum(len(m) for m in mails.values()) + 3
    # A review arrives after the scan: read from the archive, not from the index.
    patch2 = mails["missed"][2]
    review = reply(_id(patch2), _subject(patch2), 8, "Reviewed-by: Late Reviewer <late@x.org>\n")
    append_messages(archive / "git" / "0.git", [review])
    shown = []
    for extra in ([], ["--scan-dir", str(out)]):
        argv = ["show", "--message-id", _id(patch2), "--archive", str(archive)]
        assert main([*argv, *extra, "--format", "json"]) == 0
        shown.append(json.loads(capsys.readouterr().out))
    assert shown[0] == shown[1]
    assert shown[1]["series"]["title"] == "drop old_get"
    assert "Late Reviewer" in json.dumps(shown[1])
    # The index of another archive is refused, in one line.
    other = tmp_path / "other.git"
    append_messages(other, [reply("a@b", "x", 1)])
    argv = ["show", "--message-id", _id(patch2), "--archive", str(other), "--scan-dir", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scan-dir" in err[0]


def test_message_id_finds_the_default_scan_dir(
    inbox: tuple[Path, dict[str, list[bytes]]],
    c_tree: Path,
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive, mails = inbox
    patch2 = mails["missed"][2]
    review = reply(_id(patch2), _subject(patch2), 8, "Reviewed-by: Late Reviewer <late@x.org>\n")
    append_messages(archive / "git" / "0.git", [review])
    monkeypatch.chdir(tmp_path)
    scan(capsys, str(archive), "--repo", str(c_tree))  # into ./series-tool-scan
    argv = ["show", "--message-id", _id(patch2), "--archive", str(archive), "--format", "json"]
    assert main(argv) == 0
    assert "Late Reviewer" in capsys.readouterr().out
    # The index is what answers: a row edited to answer another message (same length)
    # takes the review out of the thread.
    index = tmp_path / "series-tool-scan" / "threads.jsonl"
    text = index.read_text()
    row = next(line for line in text.splitlines() if "reply-8@example.org" in line)
    index.write_text(text.replace(row, row.replace(_id(patch2), "x" * len(_id(patch2)))))
    assert main(argv) == 0
    assert "Late Reviewer" not in capsys.readouterr().out


def test_message_id_bad_input(
    inbox: tuple[Path, dict[str, list[bytes]]], capsys: pytest.CaptureFixture[str]
) -> None:
    archive, _ = inbox
    assert main(["show", "--message-id", "nope@x", "--archive", str(archive)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no message <nope@x>" in err[0]
    assert main(["show", "--message-id", "nope@x"]) == 2
    assert "--archive" in capsys.readouterr().err
    assert main(["show"]) == 2
    assert main(["show", "x.mbox", "--message-id", "a@b", "--archive", str(archive)]) == 2


def test_mbox_archive_and_non_bare_clone(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, mails = inbox
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(archive / "git" / "0.git"), str(clone))
    _, rep = scan(capsys, str(clone), "--repo", str(c_tree), "-o", str(tmp_path / "o1"))
    assert {s["title"] for s in rep["checked"]} == {"remove old_get()", "drop old_get"}
    mbox = tmp_path / "all.mbox"
    mbox.write_bytes(b"".join(b"From x@y Mon Sep 17 00:00:00 2001\n" + m for m in mails["good"]))
    _, rep = scan(capsys, str(mbox), "--repo", str(c_tree), "-o", str(tmp_path / "o2"))
    assert [s["state"] for s in rep["checked"]] == ["success"]


def test_reader_reads_commits_in_order(tmp_path: Path) -> None:
    repo = tmp_path / "r.git"
    msgs = [reply(f"p{i}@x", f"s{i}", i) for i in range(5)]
    append_messages(repo, msgs[:3])
    append_messages(repo, msgs[3:])
    got = list(read_archive(str(repo)))
    assert [m.data for m in got] == msgs
    commits = git(repo, "rev-list", "--reverse", "HEAD").split()
    assert [m.commit for m in got] == commits
    later = list(read_archive(str(repo), after={"": commits[2]}))
    assert [m.data for m in later] == msgs[3:]
    assert all(quick_reply(m) for m in msgs)


def test_bad_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "none"), "-o", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["scan", str(tmp_path), "--since", "yesterday", "-o", str(tmp_path / "o")]) == 2
    assert "--since" in capsys.readouterr().err


# ------------------------------------------------------------------- the real series


@pytest.mark.kernel
def test_kernel_pte_nolock(kernel_repo: Path, corpus: Path, tmp_path: Path, capsys) -> None:
    v4 = messages_of(corpus / "pte-nolock" / "v4.mbox")
    clk = messages_of(corpus / "clk-bulk-get-all-enabled" / "v4.mbox")
    archive = tmp_path / "full.git"
    append_messages(archive, [*clk, *v4, reply(_id(v4[0]), _subject(v4[0]), 1)])
    code, rep = scan(capsys, str(archive), "--repo", str(kernel_repo), "-o", str(tmp_path / "a"))
    pte = [s for s in rep["checked"] if "pte_offset_map" in s["title"]]
    assert [(s["version"], s["state"]) for s in pte] == [(4, "success")]
    assert "pte_offset_map_nolock" in pte[0]["removes"]
    # Without patch 05 (arm's adjust_pte), the removal leaves a caller behind.
    minus = tmp_path / "minus.git"
    append_messages(minus, [m for i, m in enumerate(v4) if i != 5])
    code, rep = scan(capsys, str(minus), "--repo", str(kernel_repo), "-o", str(tmp_path / "b"))
    (s,) = rep["checked"]
    assert s["state"] == "fail" and code == 1
    assert "arch/arm/mm/fault-armv.c adjust_pte" in s["description"]


def test_since_reads_only_later_commits(tmp_path: Path, capsys) -> None:
    repo = tmp_path / "r.git"
    append_messages(repo, [reply("a@x", "old", 1)])  # Date: 2024-12-02 -> commit date
    _, rep = scan(capsys, str(repo), "--since", "2030-01-01", "-o", str(tmp_path / "o1"))
    assert rep["messages_read"] == 0
    _, rep = scan(capsys, str(repo), "--since", "2024-12-01", "-o", str(tmp_path / "o2"))
    assert rep["messages_read"] == 1


def test_worker_processes_read_a_bigger_archive(
    c_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Enough mail for the worker pool: it must finish (the workers are forked before the
    # cat-file pipe opens, or git would never see the pipe's end) and agree with one process.
    good = good_series(c_tree, tmp_path)
    chatter = [reply(f"t{i}@x", f"topic {i}", i) for i in range(2100)]
    repo = tmp_path / "big.git"
    append_messages(repo, [*chatter[:1000], *good, *chatter[1000:]])
    _, two = scan(capsys, str(repo), "--repo", str(c_tree), "-o", str(tmp_path / "a"))
    _, one = scan(
        capsys, str(repo), "--repo", str(c_tree), "-o", str(tmp_path / "b"), "--jobs", "1"
    )
    assert two["messages_read"] == one["messages_read"] == 2100 + len(good)
    assert [s["state"] for s in two["checked"]] == [s["state"] for s in one["checked"]]
    assert [s["title"] for s in two["checked"]] == ["remove old_get()"]


def test_series_that_does_not_apply_is_a_warning(
    c_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Built on a commit the tree does not have: patch 2's context is not in the tree.
    mails = _series(
        c_tree,
        tmp_path,
        "elsewhere",
        [
            ("drivers/a.c", "old_get(v)", "new_get(v)", "a: use new_get()"),
            ("drivers/b.c", "old_get(v) * 3", "new_get(v) * 3", "b: use new_get()"),
            ("include/api.h", "int old_get(int x);\n", "", "api: remove old_get()"),
        ],
        ALICE,
        "remove old_get elsewhere",
        unsent=(("drivers/b.c", "old_get(v) * 2", "old_get(v) * 3", "b: triple"),),
    )
    repo = tmp_path / "e.git"
    append_messages(repo, mails)
    code, rep = scan(capsys, str(repo), "--repo", str(c_tree), "-o", str(tmp_path / "o"))
    (s,) = rep["checked"]
    assert s["state"] == "warning" and code == 0
    assert "does not apply" in s["description"] and "patch 2 fails" in s["description"]
    folder = tmp_path / "o" / "series" / s["slug"]
    assert 'Patch 2 ("b: use new_get()")' in (folder / "reply.mbox").read_text()
    assert "does not apply" in (folder / "report.html").read_text()


def test_series_over_budget_is_not_checked_and_said_so(
    inbox: tuple[Path, dict[str, list[bytes]]], c_tree: Path, tmp_path: Path, capsys
) -> None:
    archive, _ = inbox
    out = tmp_path / "out"
    code, rep = scan(
        capsys, str(archive), "--repo", str(c_tree), "-o", str(out), "--budget", "0.001"
    )
    # No time to check anything: every candidate is a warning saying so, none an OK.
    assert rep["checked"] and code == 0
    for s in rep["checked"]:
        assert s["state"] == "warning", s
        assert s["description"].startswith("not checked: over budget"), s
        check = json.loads((out / "series" / s["slug"] / "check.json").read_text())
        assert check["state"] == "warning"
    # With time, the next run that sees new mail checks them again.
    append_messages(archive / "git" / "0.git", [reply("x@y", "unrelated", 5)])
    code, rep = scan(capsys, str(archive), "--repo", str(c_tree), "-o", str(out))
    states = {s["title"]: s["state"] for s in rep["checked"]}
    assert states == {"remove old_get()": "success", "drop old_get": "fail"}
    assert code == 1
    assert main(["scan", str(archive), "-o", str(out), "--budget", "0"]) == 2
    assert "--budget" in capsys.readouterr().err


def test_series_with_patches_missing_from_the_archive(
    c_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A series that reached this list in part (patch 3 of 5, OLD_MAX's removal, is
    # elsewhere): nothing wrong in what is here, but it cannot be judged whole.
    v2 = missed_series(c_tree, tmp_path, version=2)
    repo = tmp_path / "part.git"
    append_messages(repo, [m for i, m in enumerate(v2) if i != 3])
    code, rep = scan(capsys, str(repo), "--repo", str(c_tree), "-o", str(tmp_path / "o"))
    (s,) = rep["checked"]
    assert (s["state"], code) == ("warning", 0)
    assert s["description"] == (
        "removes old_get; not checked: patch 3 of 5 is not in the archive (sent to other lists?)"
    )
    # Without patches 1 and 2 as well, b.c's and a.c's calls remain: that is a fail, and
    # the gaps are named with it.
    good = good_series(c_tree, tmp_path)
    repo = tmp_path / "part2.git"
    append_messages(repo, [good[0], *good[3:]])
    code, rep = scan(capsys, str(repo), "--repo", str(c_tree), "-o", str(tmp_path / "o2"))
    (s,) = rep["checked"]
    assert (s["state"], code) == ("fail", 1)
    assert s["description"].endswith(
        "patches 1, 2 of 4 are not in the archive (sent to other lists?)"
    )

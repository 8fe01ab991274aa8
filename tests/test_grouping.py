"""grouping on real `git format-patch` output (threaded, deep, unthreaded) and edge cases."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from series_tool.ingest import ingest

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "A U Thor",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "A U Thor",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=ENV, check=True, capture_output=True
    ).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("g") / "repo"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    (r / "f.c").write_text("".join(f"line {i}\n" for i in range(20)))
    _git(r, "add", "f.c")
    _git(r, "commit", "-q", "-m", "base")
    for n in range(1, 4):
        text = (r / "f.c").read_text().replace(f"line {n * 5}\n", f"changed {n * 5}\n")
        (r / "f.c").write_text(text)
        _git(
            r,
            "commit",
            "-q",
            "-am",
            f"change {n}\n\nBody {n}.\n\nSigned-off-by: A U Thor <author@example.com>",
        )
    return r


def _series(repo: Path, tmp_path: Path, *opts: str) -> Path:
    out = tmp_path / "s.mbox"
    out.write_bytes(_git(repo, "format-patch", "--stdout", *opts, "HEAD~3"))
    return out


@pytest.mark.parametrize(
    "opts",
    [
        (),  # unthreaded: grouped by author, version and total
        ("--thread=shallow", "--cover-letter"),
        ("--thread=deep",),
        ("--thread", "-v3", "--subject-prefix=PATCH net-next"),
        ("--thread", "--rfc", "--base=HEAD~3"),
        ("--thread", "--subject-prefix=PATCHv2"),
        ("--thread", "--cover-letter", "--subject-prefix=RFC PATCHv3"),
    ],
)
def test_format_patch_flavours(repo: Path, tmp_path: Path, opts: tuple[str, ...]) -> None:
    r = ingest(str(_series(repo, tmp_path, *opts)))
    s = r.series
    assert [p.number for p in s.patches] == [1, 2, 3] and not r.others
    assert [p.subject for p in s.patches] == ["change 1", "change 2", "change 3"]
    assert [p.insertions for p in s.patches] == [1, 1, 1]
    assert s.patches[0].commit_message.startswith("Body 1.")
    assert (s.cover is not None) == ("--cover-letter" in opts)
    expected_version = 1
    for opt in opts:
        if opt == "-v3" or opt.endswith("PATCHv3"):
            expected_version = 3
        elif opt.endswith("PATCHv2"):
            expected_version = 2
    assert s.version == expected_version
    if "--base=HEAD~3" in opts:
        base = _git(repo, "rev-parse", "HEAD~3").decode().strip()
        # git writes the base block into the first message only (here patch 1).
        assert s.base_commit == base and s.patches[0].base_commit == base


def test_directory_of_patches(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _git(repo, "format-patch", "-q", "--cover-letter", "-o", str(out), "HEAD~3")
    s = ingest(str(out)).series
    assert [p.number for p in s.patches] == [1, 2, 3] and s.cover is not None


def _mail(mid: str, subject: str, body: str, irt: str | None = None, frm: str = "a@x.org") -> bytes:
    head = f"From: Someone <{frm}>\nSubject: {subject}\nMessage-Id: <{mid}>\n"
    if irt:
        head += f"In-Reply-To: <{irt}>\nReferences: <{irt}>\n"
    return (f"From x Mon Sep 17 00:00:00 2001\n{head}\n{body}\n").encode()


DIFF = "---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"


def test_totals_disagree_missing_and_unnumbered(tmp_path: Path) -> None:
    f = tmp_path / "m.mbox"
    f.write_bytes(
        _mail("c", "[PATCH 0/3] cover", "Cover.")
        + _mail("p1", "[PATCH 1/3] one", "One.\n" + DIFF, "c")
        + _mail("p3", "[PATCH 3/4] three", "Three.\n" + DIFF, "c")
        + _mail(
            "r1", "Re: [PATCH 1/3] one", "> quoted\nReviewed-by: R <r@x.org>\n", "p1", "r@x.org"
        )
        + _mail("r2", "[PATCH 1/3] one", "Acked-by: Q <q@x.org>\n", "r1", "q@x.org")
    )
    s = ingest(str(f)).series
    assert [p.number for p in s.patches] == [1, 3] and s.missing == [2]
    assert any(p.startswith("totals disagree") for p in s.problems)
    p1 = s.patch(1)
    assert p1 is not None
    got = [(t.name, t.value, t.reply_message_id) for t in p1.trailers if t.from_reply]
    assert got == [("Reviewed-by", "R <r@x.org>", "r1"), ("Acked-by", "Q <q@x.org>", "r2")]


def test_unthreaded_series_with_several_authors_is_one_series(tmp_path: Path) -> None:
    """`git format-patch --stdout` of commits by three people: one series, nothing missing."""
    r = tmp_path / "multi"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    (r / "f.c").write_text("".join(f"line {i}\n" for i in range(30)))
    _git(r, "add", "f.c")
    _git(r, "commit", "-q", "-m", "base")
    for n, who in enumerate(["Ann <ann@a.example>", "Bob <bob@b.example>", "Cy <cy@c.example>"], 1):
        text = (r / "f.c").read_text().replace(f"line {n * 7}\n", f"changed {n * 7}\n")
        (r / "f.c").write_text(text)
        _git(r, "commit", "-q", "-a", "-m", f"change {n}", f"--author={who}")
    mbox = tmp_path / "multi.mbox"
    mbox.write_bytes(_git(r, "format-patch", "--stdout", "HEAD~3"))
    got = ingest(str(mbox))
    assert [p.number for p in got.series.patches] == [1, 2, 3]
    assert [p.author_name for p in got.series.patches] == ["Ann", "Bob", "Cy"]
    assert got.series.missing == [] and got.others == []


def test_two_unthreaded_series_from_two_people_stay_apart(tmp_path: Path) -> None:
    """Same shape, colliding numbers: two series, each complete."""
    r = tmp_path / "two"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    (r / "f.c").write_text("".join(f"line {i}\n" for i in range(30)))
    _git(r, "add", "f.c")
    _git(r, "commit", "-q", "-m", "base")
    chunks = []
    for who, lines in (("Ann <ann@a.example>", (3, 9)), ("Bob <bob@b.example>", (15, 21))):
        _git(r, "checkout", "-q", "-B", who.split()[0], "main")
        for n in lines:
            text = (r / "f.c").read_text().replace(f"line {n}\n", f"changed {n}\n")
            (r / "f.c").write_text(text)
            _git(r, "commit", "-q", "-a", "-m", f"change {n}", f"--author={who}")
        chunks.append(_git(r, "format-patch", "--stdout", "main"))
    mbox = tmp_path / "two.mbox"
    mbox.write_bytes(b"".join(chunks))
    got = ingest(str(mbox))
    assert len(got.series.patches) == 2 and got.series.missing == []
    assert len({p.author_name for p in got.series.patches}) == 1
    assert [o.numbers for o in got.others] == [[1, 2]]


def test_cover_letter_base_and_prerequisites(repo: Path, tmp_path: Path) -> None:
    """format-patch --cover-letter --base: the cover (no '---') ends with the base block."""
    mbox = tmp_path / "c.mbox"
    mbox.write_bytes(
        _git(repo, "format-patch", "--stdout", "--cover-letter", "--base=HEAD~3", "HEAD~1")
    )
    s = ingest(str(mbox)).series
    base = _git(repo, "rev-parse", "HEAD~3").decode().strip()
    prereqs = []
    for rev in ("HEAD~2", "HEAD~1"):
        shown = _git(repo, "show", rev)
        out = subprocess.run(
            ["git", "patch-id", "--stable"], input=shown, capture_output=True, check=True
        ).stdout
        prereqs.append(out.decode().split()[0])
    assert s.cover is not None and s.base_commit == base
    assert s.cover.base_commit == base
    assert sorted(s.cover.prerequisite_patch_ids) == sorted(prereqs)
    assert "base-commit" not in s.cover.commit_message


def _patch_files(repo: Path, tmp_path: Path, *opts: str) -> list[bytes]:
    """The mails of `git format-patch --thread -o DIR HEAD~3`, in order."""
    out = tmp_path / "fp"
    _git(repo, "format-patch", "-q", "--thread", *opts, "-o", str(out), "HEAD~3")
    return [f.read_bytes() for f in sorted(out.iterdir())]


def _as_reply(mail: bytes, marker: str, new_id: str, threaded_to: str | None) -> bytes:
    """A reviewer's reply carrying the same diff: 'marker [PATCH ...]', new Message-Id."""
    head, sep, body = mail.partition(b"\n\n")
    lines = [
        ln
        for ln in head.split(b"\n")
        if not ln.lower().startswith((b"message-id:", b"in-reply-to:", b"references:"))
    ]
    lines = [
        ln.replace(b"Subject: ", f"Subject: {marker} ".encode(), 1)
        if ln.startswith(b"Subject:")
        else ln
        for ln in lines
    ]
    lines.append(f"Message-Id: <{new_id}>".encode())
    if threaded_to:
        lines.append(f"In-Reply-To: <{threaded_to}>".encode())
    return b"\n".join(lines) + sep + body


def _message_id(mail: bytes) -> str:
    for ln in mail.split(b"\n"):
        if ln.lower().startswith(b"message-id:"):
            return ln.split(b"<", 1)[1].split(b">", 1)[0].decode()
    raise AssertionError("no Message-Id")


@pytest.mark.parametrize("marker", ["Re:", "RE:", "Aw:", "Sv:", "re: Re:"])
@pytest.mark.parametrize("threaded", [True, False])
def test_reply_with_a_diff_is_not_a_patch(
    repo: Path, tmp_path: Path, marker: str, threaded: bool
) -> None:
    """A reviewer's suggested diff ('Re: [PATCH 2/3]') never replaces or fills patch 2."""
    mails = _patch_files(repo, tmp_path)
    p2_id = _message_id(mails[1])
    reply = _as_reply(mails[1], marker, "suggestion@x", p2_id if threaded else None)
    mbox = tmp_path / "with-reply.mbox"
    mbox.write_bytes(b"".join([mails[0], mails[1], reply, mails[2]]))
    got = ingest(str(mbox))
    assert [p.number for p in got.series.patches] == [1, 2, 3]
    assert got.series.patches[1].message_id == p2_id
    assert got.series.duplicates == [] and got.others == []
    # Without the real patch 2, it is missing: the reply does not stand in for it.
    mbox.write_bytes(b"".join([mails[0], reply, mails[2]]))
    got = ingest(str(mbox))
    assert [p.number for p in got.series.patches] == [1, 3]
    assert got.series.missing == [2] and got.others == []


def _retag(mail: bytes, old: str, new: str) -> bytes:
    head, sep, body = mail.partition(b"\n\n")
    assert old.encode() in head
    return head.replace(old.encode(), new.encode(), 1) + sep + body


def test_mis_tagged_patch_in_the_thread_does_not_become_the_newest(
    repo: Path, tmp_path: Path
) -> None:
    """v2 (cover + 3) whose 3/3 says v3: v2 is chosen, 3/3 fills its gap, with a note."""
    mails = _patch_files(repo, tmp_path, "-v2", "--cover-letter")
    mails[3] = _retag(mails[3], "[PATCH v2 3/3]", "[PATCH v3 3/3]")
    mbox = tmp_path / "mis.mbox"
    mbox.write_bytes(b"".join(mails))
    got = ingest(str(mbox))
    s = got.series
    assert s.version == 2 and s.cover is not None and got.others == []
    assert [(p.number, p.version) for p in s.patches] == [(1, 2), (2, 2), (3, 3)]
    assert s.missing == [] and any("tagged v3" in p for p in s.problems)
    # --version still selects exactly the version asked for.
    assert [p.number for p in ingest(str(mbox), version=3).series.patches] == [3]
    assert ingest(str(mbox), version=2).series.missing == [3]


def test_partial_reroll_in_reply_is_the_newest_with_the_rest_from_before(
    repo: Path, tmp_path: Path
) -> None:
    """A lone 'v3 2/3' answering v2's 2/3 is v3, with 1/3 and 3/3 taken from v2 (as b4
    does; issue 12), and the output says which patches came from v2."""
    mails = _patch_files(repo, tmp_path, "-v2", "--cover-letter")
    reroll = _as_reply(mails[2], "", "reroll@x", _message_id(mails[2]))
    reroll = _retag(reroll, "[PATCH v2 2/3]", "[PATCH v3 2/3]")
    mbox = tmp_path / "reroll.mbox"
    mbox.write_bytes(b"".join([*mails, reroll]))
    for version in (None, 3):
        got = ingest(str(mbox), version=version)
        s = got.series
        assert s.version == 3 and [p.number for p in s.patches] == [1, 2, 3] and not s.missing
        assert [p.message_id for p in s.patches] == [
            _message_id(mails[1]),
            "reroll@x",
            _message_id(mails[3]),
        ]
        # v2's cover comes along (as in b4: replies to it hold for the reroll too).
        assert s.cover is not None and s.cover.message_id == _message_id(mails[0])
        assert s.title == "*** SUBJECT HERE ***"
        taken = [p for p in s.problems if "taken from v2" in p]
        assert len(taken) == 3 and all("partial reroll" in p for p in taken)
        assert any("patch 1 taken" in p for p in taken) and any("patch 3 taken" in p for p in taken)
        assert [(o.version, o.numbers) for o in got.others] == [(2, [1, 2, 3])]
    # v2 as it was sent is still there.
    s = ingest(str(mbox), version=2).series
    assert s.patches[1].message_id == _message_id(mails[2])


def test_series_whose_patches_do_not_compose(tmp_path: Path) -> None:
    """Patch 2 of 3 missing: patch 3's hunk reaches past the 1-line file patch 1 created.

    The series is still read (and `show` exits 0): no net diffstat, and the reason why.
    """
    import sys

    r = tmp_path / "r"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    _git(r, "commit", "-q", "--allow-empty", "-m", "base")
    steps = ["a\n", "a\nb\nc\n", "a\nB\nc\n"]
    for n, text in enumerate(steps, 1):
        (r / "foo.c").write_text(text)
        _git(r, "add", "foo.c")
        _git(r, "commit", "-q", "-m", f"step {n}")
    out = tmp_path / "fp"
    _git(r, "format-patch", "-q", "--thread", "--cover-letter", "-o", str(out), "HEAD~3")
    files = sorted(out.iterdir())
    mbox = tmp_path / "gap.mbox"
    mbox.write_bytes(b"".join(f.read_bytes() for f in files if not f.name.startswith("0002")))
    s = ingest(str(mbox)).series
    assert [p.number for p in s.patches] == [1, 3] and s.missing == [2]
    assert s.diffstat is None
    assert any(
        p.startswith("no net diffstat: patch 3: hunk @@ -1,3 @@ of foo.c") for p in s.problems
    )
    res = subprocess.run(
        [sys.executable, "-m", "series_tool.cli", "show", str(mbox)], capture_output=True, text=True
    )
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr


def _shortstat(repo: Path, rev_range: str) -> tuple[int, int, int]:
    """(files, insertions, deletions) from `git diff --shortstat -M` (what covers show)."""
    import re

    text = _git(repo, "diff", "--shortstat", "-M", rev_range).decode()
    m = re.search(
        r"(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?)?", text
    )
    assert m, text
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


def test_net_diffstat_counts_renames_and_mode_changes(tmp_path: Path) -> None:
    """A pure rename and a mode change are files in git's --stat: the net diffstat agrees."""
    r = tmp_path / "r"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    for name in ("old.c", "run.sh", "edit.c", "gone.c"):
        (r / name).write_text("".join(f"{name} {i}\n" for i in range(8)))
    (r / "empty.txt").write_text("")
    _git(r, "add", ".")
    _git(r, "commit", "-q", "-m", "base")
    _git(r, "mv", "old.c", "new.c")
    _git(r, "commit", "-q", "-m", "pure rename")
    (r / "run.sh").chmod(0o755)
    _git(r, "commit", "-q", "-am", "mode change")
    (r / "edit.c").write_text((r / "edit.c").read_text().replace("edit.c 3\n", "edited\n"))
    _git(r, "rm", "-q", "gone.c")
    (r / "made.txt").write_text("")
    _git(r, "add", "-A")
    _git(r, "commit", "-q", "-am", "edit, delete, create empty")
    _git(r, "mv", "new.c", "newer.c")
    _git(r, "commit", "-q", "-m", "rename again")
    mbox = tmp_path / "s.mbox"
    mbox.write_bytes(_git(r, "format-patch", "--stdout", "--thread", "--cover-letter", "HEAD~4"))
    s = ingest(str(mbox)).series
    assert s.problems == [] and all(p.error is None for p in s.patches)
    # old.c => newer.c, run.sh, edit.c, gone.c, made.txt
    assert s.diffstat == _shortstat(r, "HEAD~4..HEAD") == (5, 1, 9)


def test_patch_directory_with_stray_files(repo: Path, tmp_path: Path) -> None:
    """NOTES/README beside `git format-patch -o` output are skipped with a note."""
    from series_tool.errors import BadInput

    out = tmp_path / "out"
    _git(repo, "format-patch", "-q", "--cover-letter", "-o", str(out), "HEAD~3")
    (out / "NOTES").write_text("remember to cc the list\nand run checkpatch\n")
    (out / "README").write_text("")
    s = ingest(str(out)).series
    assert [p.number for p in s.patches] == [1, 2, 3] and s.cover is not None
    assert f"skipped {out}/NOTES: not a mail message (no headers)" in s.problems
    assert f"skipped {out}/README: empty input" in s.problems
    only = tmp_path / "only-notes"
    only.mkdir()
    (only / "NOTES").write_text("no patch here\n")
    with pytest.raises(BadInput, match="no mail files"):
        ingest(str(only))

"""patchwork fixtures: [covers, patches, replies] counts and series sizes from EXPECTED.md."""

from __future__ import annotations

import pytest
from kernel import CORPUS

from series_tool.errors import BadInput
from series_tool.ingest import grouping, ingest, parse_mails

PW = CORPUS / "peer" / "patchwork"
pytestmark = pytest.mark.skipif(not PW.is_dir(), reason="../shared/corpus is absent")

# fixture: ([C, P, R], [(version, patches, covers) per series in order of appearance])
SERIES = {
    "base-single-patch": ([0, 1, 0], [(1, 1, 0)]),
    "base-cover-letter": ([1, 2, 0], [(1, 2, 1)]),
    "base-no-cover-letter": ([0, 2, 0], [(1, 2, 0)]),
    "base-out-of-order": ([1, 2, 0], [(1, 2, 1)]),
    "base-extra-patches": ([1, 3, 0], [(1, 3, 1)]),
    "base-no-references": ([0, 2, 0], [(2, 2, 0)]),
    "bugs-mixed-versions": ([0, 2, 0], [(1, 1, 0), (2, 1, 0)]),
    "bugs-multiple-content-types": ([0, 1, 1], [(1, 1, 0)]),
    "bugs-nocover": ([0, 4, 0], [(1, 2, 0), (2, 2, 0)]),
    "bugs-unnumbered": ([1, 2, 0], [(1, 1, 1), (1, 1, 0)]),
    "mercurial-cover-letter": ([1, 2, 0], [(1, 2, 1)]),
    "revision-basic": ([2, 4, 0], [(1, 2, 1), (2, 2, 1)]),
    "revision-threaded-to-single-patch": ([0, 2, 0], [(1, 1, 0), (2, 1, 0)]),
    "revision-threaded-to-cover": ([2, 4, 0], [(1, 2, 1), (2, 2, 1)]),
    "revision-out-of-order": ([2, 4, 0], [(1, 2, 1), (2, 2, 1)]),
    "revision-no-cover-letter": ([1, 4, 0], [(1, 2, 1), (2, 2, 0)]),
    "revision-unlabeled": ([2, 4, 0], [(1, 2, 1), (1, 2, 1)]),
    "dependency-base-patch": ([1, 2, 0], [(1, 2, 1)]),
}


@pytest.mark.parametrize("name", sorted(SERIES))
def test_series_fixture(name: str) -> None:
    counts, sizes = SERIES[name]
    mails = parse_mails(str(PW / "series" / f"{name}.mbox"))
    cls = grouping.classify(mails)
    assert [len(cls.covers), len(cls.patches), len(cls.replies)] == counts
    groups = grouping.group(mails, cls)
    got = [(g.version, len(g.patches), int(g.cover is not None)) for g in groups]
    assert sorted(got) == sorted(sizes)


def test_names_totals_and_completeness() -> None:
    s = ingest(str(PW / "series" / "base-cover-letter.mbox")).series
    assert s.title == "A sample series" and s.total == 2 and not s.missing
    s = ingest(str(PW / "series" / "base-no-cover-letter.mbox")).series
    assert s.title == s.patches[0].subject and "no cover letter" in s.problems
    s = ingest(str(PW / "series" / "base-extra-patches.mbox")).series
    assert [p.number for p in s.patches] == [1, 2, 3] and s.total == 2
    assert any("beyond the total" in p for p in s.problems)
    s = ingest(str(PW / "series" / "base-no-references.mbox")).series
    assert s.version == 2 and [p.number for p in s.patches] == [1, 2]
    r = ingest(str(PW / "series" / "bugs-unnumbered.mbox"))
    assert [p.number for p in r.series.patches] == [1] and r.series.missing == [2]
    assert [o.numbers for o in r.others] == [[]]
    r = ingest(str(PW / "series" / "revision-unlabeled.mbox"))
    assert r.series.version == 1 and len(r.others) == 1  # the resend stays separate
    s = ingest(str(PW / "series" / "mercurial-cover-letter.mbox")).series
    assert s.title == "Sample Mercurial patches" and s.total == 2


def test_newest_version_and_selection() -> None:
    r = ingest(str(PW / "series" / "revision-basic.mbox"))
    assert r.series.version == 2 and [o.version for o in r.others] == [1]
    assert ingest(str(PW / "series" / "revision-basic.mbox"), version=1).series.version == 1
    with pytest.raises(BadInput, match=r"no version 3 .*found v1, v2"):
        ingest(str(PW / "series" / "revision-basic.mbox"), version=3)


MAIL_WITH_DIFF = {
    "0007-cvs-format-diff": "bfd/elf-bfd.h",
    "0010-invalid-charset": None,
    "0012-invalid-header-char": None,
    "0013-with-utf8-body": "MAINTAINERS",
    "0015-with-invalid-utf8-headers": "MAINTAINERS",
    "0016-no-subject": None,
    "0019-multipart-patch": "patchwork/parser.py",
    "0021-git-empty-new-file": "banana",
    "0025-git-add-binary-file": "pixel.bmp",
    "0027-git-modify-binary-file": "pixel.bmp",
}


@pytest.mark.parametrize("name", sorted(MAIL_WITH_DIFF))
def test_single_mail_has_one_patch_with_message(name: str) -> None:
    s = ingest(str(PW / "mail" / f"{name}.mbox")).series
    (p,) = s.patches
    assert p.files and p.error is None
    assert p.commit_message or name == "0025-git-add-binary-file"
    assert "<div" not in p.commit_message and "<div" not in p.diff_text
    if MAIL_WITH_DIFF[name]:
        assert p.files[0].path == MAIL_WITH_DIFF[name]


def test_mail_specifics() -> None:
    (p,) = ingest(str(PW / "mail" / "0007-cvs-format-diff.mbox")).series.patches
    assert p.diff_text.startswith("Index")
    (p,) = ingest(str(PW / "mail" / "0008-git-rename.mbox")).series.patches
    assert p.diff_text.count("\nrename from ") == 2 and p.diff_text.count("\nrename to ") == 2
    assert all(f.is_rename and not f.hunks for f in p.files)
    for name, order in (
        ("0025-git-add-binary-file", ("142", "0")),
        ("0027-git-modify-binary-file", ("0", "142")),
    ):
        (p,) = ingest(str(PW / "mail" / f"{name}.mbox")).series.patches
        assert p.diff_text.startswith("diff --git pixel.bmp pixel.bmp")
        assert "GIT binary patch\n" in p.diff_text
        assert p.diff_text.index(f"literal {order[0]}\n") < p.diff_text.index(
            f"literal {order[1]}\n"
        )
        assert p.files[0].is_binary
    (p,) = ingest(str(PW / "mail" / "0013-with-utf8-body.mbox")).series.patches
    assert p.author_name == "Rafał Miłecki"


PULLS = {
    "0001-git-pull-request": "git://git.kernel.org/pub/scm/linux/kernel/git/benh/powerpc.git next",
    "0003-git-pull-request-with-diff": "git://git.kernel.org/pub/scm/linux/kernel/git/tip/"
    "linux-2.6-tip.git x86-fixes-for-linus",
    "0004-git-pull-request-git+ssh": "git+ssh://git.kernel.org/pub/scm/linux/kernel/git/benh/"
    "powerpc.git next",
    "0006-git-pull-request-http": "http://git.kernel.org/pub/scm/linux/kernel/git/benh/"
    "powerpc.git next",
    "0023-git-pull-request-newline-in-url": "https://git.kernel.org/pub/scm/linux/kernel/git/"
    "matthias.bgg/linux.git/ tags/v5.4-next-soc",
    "0024-git-pull-request-trailing-space": "git://git.kernel.org/pub/scm/linux/kernel/git/"
    "nsekhar/linux-davinci.git tags/davinci-for-v5.6/soc",
}


@pytest.mark.parametrize("name", sorted(PULLS))
def test_pull_requests_are_recognised_not_patches(name: str) -> None:
    """URL and branch as patchwork's pull_url; with or without a diff, not a patch: one
    line saying so (issue 12; before, "no patch found", or the pull's diff as a patch)."""
    (m,) = parse_mails(str(PW / "mail" / f"{name}.mbox"))
    assert m.pull is not None
    assert f"{m.pull.url} {m.pull.branch}" == PULLS[name]
    with pytest.raises(BadInput, match="a pull request \\(git request-pull\\) for ") as exc:
        ingest(str(PW / "mail" / f"{name}.mbox"))
    assert PULLS[name] in exc.value.message and "nothing to check" in exc.value.message


@pytest.mark.parametrize("path", sorted((PW / "fuzz").glob("*.mbox")) if PW.is_dir() else [])
def test_fuzzed_mails_never_crash(path: object) -> None:
    try:
        r = ingest(str(path))
    except BadInput as exc:
        assert exc.message
    else:
        assert r.series.patches


@pytest.mark.parametrize("name", ["0001-add-line", "0002-utf-8"])
def test_inline_and_attached_patch_extracted_exactly(name: str) -> None:
    patch = (PW / "patches" / f"{name}.patch").read_text(encoding="utf-8")
    head = "From: A <a@example.com>\nSubject: [PATCH] s\nMIME-Version: 1.0\n"
    inline = head + "Content-Type: text/plain; charset=utf-8\n\nComment.\n\n" + patch
    signed = inline + "-- \nsig\n"
    attached = (
        head
        + 'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        + "Comment.\n--b\nContent-Type: text/x-diff; charset=utf-8\n\n"
        + patch
        + "--b--\n"
    )
    from series_tool.ingest import parse_mail

    for text in (inline, signed, attached):
        m = parse_mail(text.encode("utf-8"))
        assert m.diff_text == patch
        assert m.commit_message == "Comment."

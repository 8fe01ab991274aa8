"""git's t4252 mails and sample mboxes through the whole ingest path."""

from __future__ import annotations

import pytest
from kernel import CORPUS

from series_tool.ingest import ingest, parse_mails

GIT = CORPUS / "peer" / "git"
pytestmark = pytest.mark.skipif(not GIT.is_dir(), reason="../shared/corpus is absent")

T4252 = {
    "am-test-1-1": ("Three", "file-1", 1),
    "am-test-1-2": ("Six", "file-2", 1),
    "am-test-2-1": ("Three", "file-1", 1),
    "am-test-2-2": ("Six", "file-2", 1),
    "am-test-3-1": ("Three", "junk/file-1", 1),
    "am-test-3-2": ("Six", "junk/file-2", 1),
    "am-test-4-1": ("Three", "junk/file-1", 1),
    "am-test-4-2": ("Six", "junk/file-2", 1),
    "am-test-5-1": ("Six", "junk/file-2", 1),
    "am-test-5-2": ("Six", "file-5", 1),
    "am-test-6-1": ("Huh", "file-2", 2),
}


@pytest.mark.parametrize("name", sorted(T4252))
def test_t4252_mnemonic_prefix_mails(name: str) -> None:
    subject, path, hunks = T4252[name]
    (p,) = ingest(str(GIT / "t4252" / name)).series.patches
    assert p.author == "A U Thor <au.thor@example.com>"
    assert p.subject == subject
    # EXPECTED.md: one file per diff, under the i/ w/ prefixes (stripped).
    assert [f.path for f in p.files] == [path] and len(p.files[0].hunks) == hunks
    # The non-RFC Date header, verbatim (as git mailinfo reports it).
    assert p.date == "Thu Dec 4 16:00:00 2008 -0800"
    assert p.error is None and p.number is None and p.version == 1


def test_am_test_5_2_new_file() -> None:
    (p,) = ingest(str(GIT / "t4252" / "am-test-5-2")).series.patches
    new = next(f for f in p.files if f.path == "file-5")
    assert new.is_new and new.source_path is None


def test_sample_mbox_counts() -> None:
    mails = parse_mails(str(GIT / "t5100" / "sample.mbox"))
    assert len(mails) == 18
    assert sum(m.has_diff for m in mails) == 15  # 0007, 0008 and 0013 carry no diff


def test_mboxrd_bodies() -> None:
    mails = parse_mails(str(GIT / "t5100" / "sample.mboxrd"))
    assert [m.info.number for m in mails] == [None, 2]
    expect = (GIT / "t5100" / "0001mboxrd").read_text().strip("\n")
    assert mails[0].commit_message == expect

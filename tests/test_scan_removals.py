"""`scan` selects series that remove a struct member, an enumerator, a typedef, a global
variable or a whole header, and nothing else (issue 12).

A small C tree with a long struct and a long enum (so that the hunks removing a member or
an enumerator do not show the `struct ... {` line: only git's hunk hint names it), a
header others include, and the same kinds of names kept private to a .c file. Each
series is written with `git format-patch` and archived with review replies and a pull
request as ordinary traffic.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_git_repo
from inbox import append_messages, reply
from test_scan import ALICE, BOB, CAROL, _id, _series, _subject, scan

_MEMBERS = "".join(f"\tint m{i};\n" for i in range(10))
_MORE = "".join(f"\tint n{i};\n" for i in range(10))
_STATES = "".join(f"\tDEV_S{i},\n" for i in range(8))

TREE = {
    "include/dev.h": (
        "#ifndef DEV_H\n#define DEV_H\n"
        f"struct dev_ops {{\n{_MEMBERS}\tint legacy_flag;\n{_MORE}}};\n\n"
        f"enum dev_state {{\n{_STATES}\tDEV_OLD,\n{_STATES.replace('S', 'T')}}};\n\n"
        "typedef int old_handle_t;\nextern int old_counter;\n#endif\n"
    ),
    "include/old.h": "#ifndef OLD_H\n#define OLD_H\nstruct old_thing {\n\tint x;\n};\n#endif\n",
    "include/unused.h": (
        "#ifndef UNUSED_H\n#define UNUSED_H\nstruct nobody {\n\tint y;\n};\n#endif\n"
    ),
    "lib/dev.c": (
        '#include "dev.h"\n\nint old_counter;\n\nint dev_count(void)\n{\n\treturn old_counter;\n}\n'
    ),
    "drivers/d.c": (
        '#include "dev.h"\n#include "old.h"\n\n'
        "int d_probe(struct dev_ops *ops)\n{\n\treturn ops->legacy_flag + DEV_OLD;\n}\n"
    ),
    "drivers/e.c": (
        '#include "dev.h"\n\n'
        "int e_probe(struct dev_ops *ops)\n{\n"
        "\told_handle_t h = 0;\n\treturn ops->legacy_flag + h;\n}\n"
    ),
    "drivers/p.c": (
        f"struct priv {{\n{_MEMBERS}\tint spare;\n{_MORE}}};\n\n"
        f"enum p_mode {{\n{_STATES}\tP_OLD,\n{_STATES.replace('DEV', 'P')}}};\n\n"
        "int p_probe(struct priv *p)\n{\n\treturn p->m0;\n}\n"
    ),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path, TREE, "tree")


def _member(tree: Path, tmp: Path, complete: bool) -> list[bytes]:
    edits: list[tuple[str, str, str | None, str]] = [
        ("drivers/d.c", "ops->legacy_flag + ", "", "d: stop using legacy_flag"),
    ]
    if complete:
        edits.append(("drivers/e.c", "ops->legacy_flag + h", "h", "e: stop using legacy_flag"))
    edits.append(("include/dev.h", "\tint legacy_flag;\n", "", "dev: remove legacy_flag"))
    name = "member" if complete else "member-missed"
    return _series(tree, tmp, name, edits, ALICE, f"drop dev_ops.legacy_flag ({name})")


def _header(tree: Path, tmp: Path) -> list[bytes]:
    edits: list[tuple[str, str, str | None, str]] = [
        ("drivers/d.c", '#include "old.h"\n', "", "d: do not include old.h"),
        ("include/old.h", "", None, "remove old.h"),
    ]
    return _series(tree, tmp, "header", edits, BOB, "remove old.h")


def _header_misordered(tree: Path, tmp: Path) -> list[bytes]:
    edits: list[tuple[str, str, str | None, str]] = [
        ("include/old.h", "", None, "remove old.h"),
        ("drivers/d.c", '#include "old.h"\n', "", "d: do not include old.h"),
    ]
    return _series(tree, tmp, "header-early", edits, BOB, "remove old.h early")


def _enum_typedef_global(tree: Path, tmp: Path) -> list[bytes]:
    edits: list[tuple[str, str, str | None, str]] = [
        ("drivers/d.c", " + DEV_OLD", "", "d: no DEV_OLD"),
        ("include/dev.h", "\tDEV_OLD,\n", "", "dev: drop DEV_OLD"),
        ("drivers/e.c", "\told_handle_t h = 0;\n", "\tint h = 0;\n", "e: plain int"),
        ("include/dev.h", "typedef int old_handle_t;\n", "", "dev: drop old_handle_t"),
        ("lib/dev.c", "return old_counter;", "return 0;", "dev: stop counting"),
        ("include/dev.h", "extern int old_counter;\n", "", "dev: no old_counter declaration"),
        ("lib/dev.c", "int old_counter;\n\n", "", "dev: no old_counter"),
    ]
    return _series(tree, tmp, "enum", edits, CAROL, "dev: drop DEV_OLD, old_handle_t, old_counter")


def _private(tree: Path, tmp: Path) -> list[bytes]:
    """Removes only what nobody else can see, or what nobody includes."""
    edits: list[tuple[str, str, str | None, str]] = [
        ("drivers/p.c", "\tint spare;\n", "", "p: drop the spare member"),
        ("drivers/p.c", "\tP_OLD,\n", "", "p: drop P_OLD"),
        ("include/unused.h", "", None, "remove unused.h"),
    ]
    return _series(tree, tmp, "private", edits, CAROL, "p: cleanups")


def _pull(diff_from: list[bytes]) -> bytes:
    """A `git request-pull` mail carrying a diff that removes an API (the member patch)."""
    patch = diff_from[-1].decode()
    diff = patch[patch.index("diff --git") :]
    return (
        "From: Maintainer <maint@example.org>\n"
        "To: list@example.org\n"
        "Subject: [GIT PULL] dev updates for 6.13\n"
        "Date: Tue, 3 Dec 2024 10:00:00 +0000\n"
        "Message-ID: <pull-1@example.org>\n"
        "List-Id: <list.example.org>\n\n"
        "The following changes since commit 0123456789abcdef0123456789abcdef01234567:\n\n"
        "  dev: something (2024-11-01 10:00:00 +0000)\n\n"
        "are available in the Git repository at:\n\n"
        "  git://git.example.org/dev.git tags/dev-6.13\n\n"
        "for you to fetch changes up to 89abcdef0123456789abcdef0123456789abcdef:\n\n"
        "  dev: remove legacy_flag (2024-11-20 10:00:00 +0000)\n\n"
        "----------------------------------------------------------------\n"
        "Maintainer (1):\n      dev: remove legacy_flag\n\n"
        " include/dev.h | 1 -\n 1 file changed, 1 deletion(-)\n\n"
        f"{diff}"
    ).encode()


def test_scan_selects_every_kind_of_removal(tree: Path, tmp_path: Path, capsys) -> None:
    member = _member(tree, tmp_path, complete=True)
    missed = _member(tree, tmp_path, complete=False)
    header = _header(tree, tmp_path)
    early = _header_misordered(tree, tmp_path)
    enum = _enum_typedef_global(tree, tmp_path)
    private = _private(tree, tmp_path)
    traffic = [
        *member,
        reply(_id(member[1]), _subject(member[1]), 1, "Reviewed-by: R <r@example.org>\n"),
        *private,
        _pull(member),
        *missed,
        reply("elsewhere@example.org", "unrelated question", 2, "Any idea?\n"),
        *header,
        *early,
        *enum,
    ]
    archive = tmp_path / "inbox.git"
    append_messages(archive, traffic)
    code, rep = scan(capsys, str(archive), "--repo", str(tree), "-o", str(tmp_path / "out"))
    got = {s["title"]: (s["state"], s["removes"]) for s in rep["checked"]}
    assert got == {
        "drop dev_ops.legacy_flag (member)": ("success", ["legacy_flag"]),
        "drop dev_ops.legacy_flag (member-missed)": ("fail", ["legacy_flag"]),
        "remove old.h": ("success", ["old.h"]),
        "remove old.h early": ("fail", ["old.h"]),
        "dev: drop DEV_OLD, old_handle_t, old_counter": (
            "success",
            ["DEV_OLD", "old_handle_t", "old_counter"],
        ),
    }, got
    assert code == 1
    missed_row = next(s for s in rep["checked"] if s["title"].endswith("(member-missed)"))
    assert "drivers/e.c e_probe" in missed_row["description"]
    early_row = next(s for s in rep["checked"] if s["title"] == "remove old.h early")
    assert "drivers/d.c" in early_row["description"]
    # The pull request carrying the same diff is not checked as a patch series.
    assert not any("GIT PULL" in s["title"] for s in rep["checked"])
    assert rep["pulls_skipped"] == 1


def test_member_whose_uses_cannot_be_told_apart_is_not_called_fine(tmp_path: Path, capsys) -> None:
    # Another struct has a member of that name, used where its struct is not spelled out:
    # whether that use is gone cannot be decided from the source, so no "success".
    other = (
        "struct q_regs {\n\tint legacy_flag;\n};\n\nstruct q_regs *q_get(void);\n\n"
        "int q_probe(void)\n{\n\treturn q_get()->legacy_flag;\n}\n"
    )
    tree = make_git_repo(tmp_path, {**TREE, "drivers/q.c": other}, "tree")
    archive = tmp_path / "inbox.git"
    append_messages(archive, _member(tree, tmp_path, complete=True))
    code, rep = scan(capsys, str(archive), "--repo", str(tree), "-o", str(tmp_path / "out"))
    (s,) = rep["checked"]
    assert s["state"] == "warning" and code == 0
    assert s["description"].startswith("removes legacy_flag; not decided:")
    reply_mail = (tmp_path / "out" / "series" / s["slug"] / "reply.mbox").read_text()
    assert "Result: not decided." in reply_mail and "Result: OK" not in reply_mail

"""`series-tool rewrite` end to end: the patches it writes apply with real `git am` and
make the series complete (the example project, and the real v4 on the 6.12 tree)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from examples_repo import EXAMPLES, git, ring_repo, snapshot
from mboxedit import series_variant
from repo_snapshot import run_main

from series_tool.ingest import ingest
from series_tool.model import parse


def rewrite_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run_main(["rewrite", *argv, "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def am(repo: Path, *mails: Path) -> None:
    git(repo, "am", "-q", "--keep-cr", *map(str, mails))


def test_example_missed_caller_gets_its_patch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    before = snapshot(repo)
    out = tmp_path / "out"
    series = EXAMPLES / "ring-slot-missed.mbox"
    code, rep = rewrite_json(
        capsys,
        str(series),
        "--repo",
        str(repo),
        "--rules",
        str(EXAMPLES / "ring-rules.toml"),
        "-o",
        str(out),
        "--cocci",
        str(tmp_path / "ring.cocci"),
    )
    assert code == 0
    assert snapshot(repo) == before  # nothing written into the user's repository
    conv = rep["conversions"]
    assert [(c["file"], c["function"], c["old"], c["new"]) for c in conv] == [
        ("src/compact.c", "ring_compact", "ring_slot", "ring_slot_rw")
    ]
    assert "slot_clear" in conv[0]["reason"] and conv[0]["needs_review"]
    # The rules file's writer checklist is shown, but the choice is sure: exit 0 above.
    assert conv[0]["unsure"] == [] and rep["summary"]["generated_to_review"] == 0
    patches = sorted(out.glob("*.patch"))
    assert [p.name for p in patches] == [conv[0]["patch_file"]]
    # Apply the series up to the removal, then our patch, then the removal, in a clone.
    work = tmp_path / "work"
    shutil.copytree(repo, work)
    parts = tmp_path / "parts"
    parts.mkdir()
    subprocess.run(["git", "mailsplit", f"-o{parts}", str(series)], check=True, capture_output=True)
    mails = sorted(parts.iterdir())[1:]  # skip the cover letter
    am(work, *mails[:-1])
    am(work, *patches)
    am(work, mails[-1])
    if shutil.which("gcc"):
        subprocess.run(
            [
                "gcc",
                "-Wall",
                "-Werror",
                "-Iinclude",
                "-fsyntax-only",
                *map(str, sorted((work / "src").glob("*.c"))),
            ],
            cwd=work,
            check=True,
        )
    text = (work / "src/compact.c").read_bytes()
    assert not parse(text).root_node.has_error
    assert b"ring_slot(" not in text and b"ring_slot_rw(r, i, &gen, &lock)" in text
    assert "ring_slot_rw" in (tmp_path / "ring.cocci").read_text()


def test_nothing_to_do_on_a_complete_series(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = ring_repo(tmp_path)
    code = run_main(
        [
            "rewrite",
            str(EXAMPLES / "ring-slot.mbox"),
            "--repo",
            str(repo),
            "-o",
            str(tmp_path / "o"),
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0 and "nothing to do" in out
    assert not (tmp_path / "o").exists()


def test_series_only_rewrite_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_main(["rewrite", str(EXAMPLES / "ring-slot-missed.mbox")]) == 2


@pytest.mark.kernel
def test_v4_intro_and_removal_only(
    kernel_repo: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v4 = corpus / "pte-nolock" / "v4.mbox"
    mbox = tmp_path / "v4-1-13.mbox"
    mbox.write_bytes(series_variant(v4, [1, 13], renumber=True))
    code, rep = rewrite_json(
        capsys, str(mbox), "--repo", str(kernel_repo), "--mbox", str(tmp_path / "fix.mbox")
    )
    # exit 1: no converted caller confirms the variants (review items, in the summary)
    assert code == 1 and rep["summary"]["generated_to_review"] == 12
    conv = rep["conversions"]
    assert len(conv) == 12 and all(c["reason"] for c in conv)
    # The real series' choice per call site, read from patches 02-12 themselves.
    real: dict[tuple[str, str], list[str]] = {}
    for p in ingest(str(v4)).series.patches[1:12]:
        for fd in p.files:
            for h in fd.hunks:
                for ln in h.lines:
                    for new in ("pte_offset_map_ro_nolock", "pte_offset_map_rw_nolock"):
                        if ln.kind == "+" and new + "(" in ln.text:
                            real.setdefault((fd.path, p.subject), []).append(new)
    ours: dict[str, list[str]] = {}
    for c in sorted(conv, key=lambda c: (c["file"], c["line"])):
        ours.setdefault(c["file"], []).append(c["new"])
    theirs: dict[str, list[str]] = {}
    for (path, _), news in sorted(real.items()):
        theirs.setdefault(path, []).extend(news)
    agree = sum(
        a == b
        for path in theirs
        for a, b in zip(sorted(ours.get(path, [])), sorted(theirs[path]), strict=False)
    )
    assert agree >= 11
    # git am: 01, the generated patches, then 13; afterwards nothing references the old API.
    work = tmp_path / "wt"
    git(kernel_repo, "worktree", "add", "--detach", "-q", "--no-checkout", str(work), "HEAD")
    try:
        files = sorted(
            {c["file"] for c in conv}
            | {
                "include/linux/mm.h",
                "mm/pgtable-generic.c",
                "Documentation/mm/split_page_table_lock.rst",
            }
        )
        git(work, "sparse-checkout", "set", "--no-cone", *files)
        git(work, "checkout", "-q", "--detach")
        parts = tmp_path / "parts"
        parts.mkdir()
        subprocess.run(
            ["git", "mailsplit", f"-o{parts}", str(mbox)], check=True, capture_output=True
        )
        intro, removal = sorted(parts.iterdir())[1:]
        am(work, intro)
        am(work, tmp_path / "fix.mbox")
        am(work, removal)
        grep = subprocess.run(
            ["git", "-C", str(work), "grep", "-n", "-w", "pte_offset_map_nolock"],
            capture_output=True,
            text=True,
        )
        assert grep.stdout == ""
        for f in {c["file"] for c in conv}:
            before = parse((kernel_repo / f).read_bytes()).root_node
            after = parse((work / f).read_bytes()).root_node
            assert _errors(after) <= _errors(before), f
    finally:
        git(kernel_repo, "worktree", "remove", "--force", str(work))


@pytest.mark.kernel
def test_full_v4_needs_no_rewrite(
    kernel_repo: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rep = rewrite_json(
        capsys, str(corpus / "pte-nolock" / "v4.mbox"), "--repo", str(kernel_repo)
    )
    assert code == 0 and rep["conversions"] == [] and rep["not_handled"] == []
    assert rep["disagreements"] == []


def _errors(node) -> int:  # type: ignore[no-untyped-def]
    count = 1 if node.type == "ERROR" or node.is_missing else 0
    return count + sum(
        _errors(c) for c in node.children if c.has_error or c.type == "ERROR" or c.is_missing
    )


def test_variant_rule_learned_from_the_series(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No rules file: the writer/reader split is learned from the series' own conversions."""
    repo = ring_repo(tmp_path)
    empty = tmp_path / "none.toml"
    empty.write_text("")
    code, rep = rewrite_json(
        capsys, str(EXAMPLES / "ring-slot-missed.mbox"), "--repo", str(repo), "--rules", str(empty)
    )
    # A learned choice asks a person to confirm it: a review item (exit 1), where the
    # same site under an explicit rules file is not (test_example_missed_caller...).
    assert code == 1 and rep["summary"]["generated_to_review"] == 1
    [conv] = rep["conversions"]
    assert conv["new"] == "ring_slot_rw"
    assert "slot_clear" in conv["reason"]
    assert any("learned from the series" in r for r in conv["needs_review"])
    assert any("learned from the series" in r for r in conv["unsure"])


@pytest.mark.kernel
def test_v4_choices_learned_without_rules(
    kernel_repo: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """v4 without patches 02 and 05 and without the shipped rules: the 9 remaining
    conversions teach which calls write, and both missed callers get the real choice."""
    mbox = tmp_path / "v4.mbox"
    order = [1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13]
    mbox.write_bytes(series_variant(corpus / "pte-nolock" / "v4.mbox", order, renumber=True))
    empty = tmp_path / "none.toml"
    empty.write_text("")
    code, rep = rewrite_json(capsys, str(mbox), "--repo", str(kernel_repo), "--rules", str(empty))
    assert code == 1  # learned choices, to confirm: review items (see above)
    assert rep["summary"]["generated_to_review"] == 2
    got = {c["function"]: c["new"] for c in rep["conversions"]}
    assert got == {
        "assert_pte_locked": "pte_offset_map_ro_nolock",
        "adjust_pte": "pte_offset_map_rw_nolock",
    }


def test_a_wrong_variant_in_the_series_is_a_review_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The series converts the writer ring_put() to the read-only variant: rewrite says so."""
    repo = ring_repo(tmp_path)
    wrong = tmp_path / "wrong.mbox"
    text = (EXAMPLES / "ring-slot.mbox").read_text()
    bad = text.replace(
        "+\tslot = ring_slot_rw(r, r->head, &gen, &lock);",
        "+\tslot = ring_slot_ro(r, r->head, &lock);",
    )
    assert bad != text
    wrong.write_text(bad)
    code, rep = rewrite_json(
        capsys, str(wrong), "--repo", str(repo), "--rules", str(EXAMPLES / "ring-rules.toml")
    )
    assert code == 0 and rep["conversions"] == []
    assert [
        (d["function"], d["series_chose"], d["analysis_says"]) for d in rep["disagreements"]
    ] == [("ring_put", "ring_slot_ro", "ring_slot_rw")]
    assert "ring_store" in rep["disagreements"][0]["reason"]


def test_a_rename_also_renames_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pure rename: the missed caller is converted, and the comments that still name the
    old function get their own patch; after both, nothing names it."""
    from test_verify_shapes import series

    api = "int old_api(int x);\n"
    user = (
        '#include "api.h"\n/* b() calls old_api() once. */\nint b(void)\n{\n'
        "\treturn old_api(2);\n}\n"
    )
    repo, mbox = series(
        tmp_path,
        {
            "api.h": api,
            "a.c": '#include "api.h"\nint a(void)\n{\n\treturn old_api(1);\n}\n',
            "b.c": user,
        },
        [
            ("api: add new_api()", {"api.h": api + "int new_api(int x);\n"}),
            (
                "a: use new_api()",
                {"a.c": '#include "api.h"\nint a(void)\n{\n\treturn new_api(1);\n}\n'},
            ),
            ("api: remove old_api()", {"api.h": "int new_api(int x);\n"}),
        ],
    )
    out = tmp_path / "fix"
    code, rep = rewrite_json(capsys, str(mbox), "--repo", str(repo), "-o", str(out))
    assert code == 0
    assert [(c["file"], c["function"], c["new"]) for c in rep["conversions"]] == [
        ("b.c", "b", "new_api")
    ]
    assert [(t["file"], t["kind"], t["new"]) for t in rep["text_updates"]] == [
        ("b.c", "comment", "new_api")
    ]
    work = tmp_path / "work2"
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    parts = tmp_path / "parts"
    parts.mkdir()
    subprocess.run(["git", "mailsplit", f"-o{parts}", str(mbox)], check=True, capture_output=True)
    mails = sorted(parts.iterdir())[1:]
    am(work, *mails[:-1])
    am(work, *sorted(out.glob("*.patch")))
    am(work, mails[-1])
    assert "old_api" not in (work / "b.c").read_text()
    assert "/* b() calls new_api() once. */" in (work / "b.c").read_text()

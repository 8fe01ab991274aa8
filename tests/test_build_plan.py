"""Which objects `--build kernel` builds per step when a step changes a member, a macro or
a header: the files using them, and the files compiling a header that uses them or whose
code changes, found through the #include graph (a small kernel-like tree, real git)."""

from __future__ import annotations

from pathlib import Path

from examples_repo import git
from plumbing import make_series

from series_tool.build import KernelOptions, host_arch, plan_objects
from series_tool.build.includers import find_includers, include_spellings, resolves_to
from series_tool.checks import analyse
from series_tool.ingest import ingest
from series_tool.replay import open_tree

WIDGET_H = """\
#ifndef _LINUX_WIDGET_H
#define _LINUX_WIDGET_H

#define WIDGET_MAX 4
#define WIDGET_SERIAL(w) ((w)->wdg_serial)

struct widget {
\tint wdg_serial;
\tint wdg_flags;
};

static inline int widget_flags(struct widget *w)
{
\treturn w->wdg_flags;
}

#endif
"""

GADGET_H = """\
#ifndef _LINUX_GADGET_H
#define _LINUX_GADGET_H
#include <linux/widget.h>

static inline int gadget_serial(struct widget *w)
{
\treturn w->wdg_serial + 1;
}

#endif
"""

FILES = {
    "include/linux/widget.h": WIDGET_H,
    "include/linux/gadget.h": GADGET_H,
    # uses the member directly
    "drivers/a/a.c": "#include <linux/widget.h>\n\n"
    "int a_serial(struct widget *w)\n{\n\treturn w->wdg_serial;\n}\n",
    # uses it only through gadget.h's static inline
    "drivers/b/b.c": "#include <linux/gadget.h>\n\n"
    "int b_serial(struct widget *w)\n{\n\treturn gadget_serial(w);\n}\n",
    # reaches widget.h through a local header, which uses WIDGET_MAX in a macro
    "drivers/c/local.h": "#include <linux/widget.h>\n#define C_SLOTS (WIDGET_MAX * 2)\n",
    "drivers/c/c.c": '#include "local.h"\n\nint c_slots(void)\n{\n\treturn C_SLOTS;\n}\n',
    # names widget.h in a comment only
    "drivers/d/d.c": "/* unlike <linux/widget.h>, this needs nothing */\nint d(void)\n{\n"
    "\treturn 0;\n}\n",
    # includes another widget.h of its own, and uses WIDGET_MAX by name
    "drivers/e/widget.h": "#define E_WIDGET 1\n#define WIDGET_MAX 2\n",
    "drivers/e/e.c": '#include "widget.h"\n\nint e(void)\n{\n\treturn WIDGET_MAX + E_WIDGET;\n}\n',
    # reaches gadget.h through its own header
    "drivers/f/f.h": "#include <linux/gadget.h>\n",
    "drivers/f/f.c": '#include "f.h"\n\nint f(void)\n{\n\treturn 0;\n}\n',
    # uses wdg_flags of struct widget
    "drivers/h/h.c": "#include <linux/widget.h>\n\n"
    "int h(struct widget *w)\n{\n\treturn w->wdg_flags;\n}\n",
    # a wdg_flags of its own struct: the same name, another entity
    "drivers/g/g.c": "struct gizmo {\n\tint wdg_flags;\n};\n\n"
    "int g(struct gizmo *z)\n{\n\treturn z->wdg_flags;\n}\n",
}


def _tree(tmp: Path) -> Path:
    repo = tmp / "tree"
    for path, text in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    return repo


def _plan(repo: Path, tmp: Path, patches: list[tuple[str, dict]]) -> dict[int, list[str]]:  # type: ignore[type-arg]
    mbox, _ = make_series(repo, "HEAD", patches)
    series = tmp / "series.mbox"
    series.write_bytes(mbox)
    an = analyse(ingest(str(series)), open_tree(str(repo), None, None, str(repo)))
    plan = plan_objects(an, KernelOptions())
    host = host_arch()
    return {i: sorted(per.get(host, [])) for i, per in plan.objects.items()}, plan.why  # type: ignore[return-value]


def test_a_removed_member_builds_its_users_and_the_includers_of_a_header_using_it(
    tmp_path: Path,
) -> None:
    """Removing `wdg_serial`: a.c uses it; gadget.h's static inline and widget.h's own
    WIDGET_SERIAL macro use it, so every file compiling widget.h or gadget.h is built
    (b.c directly, c.c through local.h, f.c through f.h); d.c (a comment) and e.c (its own
    widget.h) are not."""
    repo = _tree(tmp_path)

    def drop(text: str) -> str:
        return text.replace("\tint wdg_serial;\n", "")

    objects, why = _plan(
        repo, tmp_path, [("widget: drop wdg_serial", {"include/linux/widget.h": drop})]
    )
    assert objects[1] == [
        "drivers/a/a.c",
        "drivers/b/b.c",
        "drivers/c/c.c",
        "drivers/f/f.c",
        "drivers/h/h.c",
    ]
    assert any("uses wdg_serial" in w for w in why["drivers/a/a.c"])
    assert any(
        "includes include/linux/gadget.h through drivers/f/f.h" in w for w in why["drivers/f/f.c"]
    )


def test_a_changed_inline_body_and_a_changed_macro(tmp_path: Path) -> None:
    """Patch 1 changes a static inline's body in widget.h (no name defined on its changed
    lines): every file compiling widget.h is built. Patch 2 changes WIDGET_MAX's value
    (defined on both sides, so not tracked): e.c uses a WIDGET_MAX by name and local.h
    uses it in a macro (c.c includes local.h)."""
    repo = _tree(tmp_path)

    def body(text: str) -> str:
        return text.replace("\treturn w->wdg_flags;", "\treturn w->wdg_flags & 1;")

    def value(text: str) -> str:
        return text.replace("#define WIDGET_MAX 4", "#define WIDGET_MAX 8")

    objects, why = _plan(
        repo,
        tmp_path,
        [
            ("widget: one flag", {"include/linux/widget.h": body}),
            ("widget: more", {"include/linux/widget.h": value}),
        ],
    )
    assert objects[1] == [
        "drivers/a/a.c",
        "drivers/b/b.c",
        "drivers/c/c.c",
        "drivers/f/f.c",
        "drivers/h/h.c",
    ]
    assert any("changes its code outside any definition" in w for w in why["drivers/b/b.c"])
    assert objects[2] == ["drivers/c/c.c", "drivers/e/e.c"]


def test_a_changed_member_type_ranks_the_files_including_its_header_first(
    tmp_path: Path,
) -> None:
    """`wdg_flags` changes type (on both sides: not tracked, found by name). h.c includes
    widget.h and uses it; g.c has a wdg_flags of its own struct and does not include
    widget.h: it comes after, and with room for one object it is the one not built."""
    repo = _tree(tmp_path)

    def widen(text: str) -> str:
        return text.replace("\tint wdg_flags;", "\tlong wdg_flags;")

    mbox, _ = make_series(
        repo, "HEAD", [("widget: wider flags", {"include/linux/widget.h": widen})]
    )
    series = tmp_path / "series.mbox"
    series.write_bytes(mbox)
    an = analyse(ingest(str(series)), open_tree(str(repo), None, None, str(repo)))
    plan = plan_objects(an, KernelOptions())
    assert plan.objects[1][host_arch()] == ["drivers/h/h.c", "drivers/g/g.c"]
    assert any("does not include include/linux/widget.h" in w for w in plan.why["drivers/g/g.c"])
    one = plan_objects(an, KernelOptions(max_objects=1))
    assert one.objects[1][host_arch()] == ["drivers/h/h.c"]
    assert any(n["file"] == "drivers/g/g.c" for n in one.not_built)


def test_a_comment_only_header_change_builds_nothing(tmp_path: Path) -> None:
    repo = _tree(tmp_path)

    def comment(text: str) -> str:
        return text.replace("struct widget {", "/* a widget */\nstruct widget {")

    objects, _ = _plan(repo, tmp_path, [("widget: comment", {"include/linux/widget.h": comment})])
    assert objects.get(1, []) == []


def test_a_deleted_header_builds_its_includers(tmp_path: Path) -> None:
    """gadget.h deleted (its include lines left): b.c includes it, f.c through f.h."""
    repo = _tree(tmp_path)
    git(repo, "rm", "-q", "include/linux/gadget.h")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "gone")
    mbox = git(repo, "format-patch", "--stdout", "HEAD~1..HEAD")
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # our own temp repository
    series = tmp_path / "gone.mbox"
    series.write_text(mbox)
    an = analyse(ingest(str(series)), open_tree(str(repo), None, None, str(repo)))
    plan = plan_objects(an, KernelOptions())
    assert sorted(plan.objects[1][host_arch()]) == ["drivers/b/b.c", "drivers/f/f.c"]


def test_includers_resolve_like_the_preprocessor(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    tree = open_tree(str(repo), None, None, str(repo))
    found = find_includers(["include/linux/widget.h"], tree.grep_fixed, tree.read_many, 100)
    assert found.files["include/linux/widget.h"] == {
        "drivers/a/a.c": [],
        "drivers/b/b.c": ["include/linux/gadget.h"],
        "drivers/c/c.c": ["drivers/c/local.h"],
        "drivers/f/f.c": ["include/linux/gadget.h", "drivers/f/f.h"],
        "drivers/h/h.c": [],
    }
    assert not found.truncated
    shallow = find_includers(["include/linux/widget.h"], tree.grep_fixed, tree.read_many, 100, 1)
    assert "drivers/f/f.c" not in shallow.files["include/linux/widget.h"]
    capped = find_includers(["include/linux/widget.h"], tree.grep_fixed, tree.read_many, 1)
    assert capped.truncated == {"include/linux/widget.h"}
    assert '"widget.h"' in include_spellings("drivers/e/widget.h")
    assert resolves_to("drivers/e/e.c", "widget.h", True, "drivers/e/widget.h")
    assert not resolves_to("drivers/e/e.c", "widget.h", True, "include/linux/widget.h")
    assert resolves_to("drivers/x/y.c", "linux/widget.h", False, "include/linux/widget.h")
    assert resolves_to("drivers/x/y.c", "../e/widget.h", True, "drivers/e/widget.h")

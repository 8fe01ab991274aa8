"""Series of every common removal shape over the small C project in tests/shapes/project.

Each series is a list of commits (subject, edits) made in a clone of the project and
exported with `git format-patch`; `build` writes the base repository and the patch files,
`mbox` joins a chosen order of them (renumbered, as an author would resend them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "shapes" / "project"

#: (path, old text, new text): replace exactly one occurrence; old None creates the file,
#: new None deletes it.
Edit = tuple[str, str | None, str | None]


@dataclass
class Shape:
    name: str
    steps: list[tuple[str, list[Edit]]]


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity and dates (reproducible patches)."""
    env = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.org",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.org",
        "GIT_AUTHOR_DATE": "2024-11-17T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-11-17T00:00:00Z",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(cwd),
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env
    ).stdout


def _apply(work: Path, edits: list[Edit]) -> None:
    for path, old, new in edits:
        f = work / path
        if old is None:
            assert new is not None
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(new)
        elif new is None:
            f.unlink()
        else:
            text = f.read_text()
            assert text.count(old) == 1, f"{path}: {old!r} occurs {text.count(old)} times"
            f.write_text(text.replace(old, new))


def build(tmp: Path, shape: Shape) -> tuple[Path, list[Path]]:
    """(the base repository, the series' patch files in order)."""
    repo = tmp / "repo"
    shutil.copytree(PROJECT, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    work = tmp / "work"
    git(tmp, "clone", "-q", str(repo), str(work))
    for subject, edits in shape.steps:
        _apply(work, edits)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", subject)
    out = tmp / "patches"
    names = git(work, "format-patch", "-o", str(out), f"HEAD~{len(shape.steps)}")
    return repo, [Path(n) for n in names.split()]


_NUMBER = re.compile(r"^Subject: \[PATCH (\d+)/(\d+)\]", re.M)


def mbox(patches: list[Path], order: list[int], renumber: bool = True) -> str:
    """The patches numbered `order` (1-based), in that order; renumbered 1/N..N/N, or
    keeping their numbers (then the left-out ones are missing from the series)."""
    out: list[str] = []
    for i, n in enumerate(order, start=1):
        text = patches[n - 1].read_text()
        if renumber:
            text = _NUMBER.sub(f"Subject: [PATCH {i}/{len(order)}]", text, count=1)
        out.append(text)
    return "".join(out)


def line_of(repo: Path, path: str, needle: str) -> int:
    """1-based line of the only line of a base file containing `needle`."""
    lines = [i for i, t in enumerate((repo / path).read_text().splitlines(), 1) if needle in t]
    assert len(lines) == 1, (path, needle, lines)
    return lines[0]


# --------------------------------------------------------------------------- the shapes

DEV_H = "include/core/dev.h"
CORE_C = "lib/core.c"


def _drivers(old: str, new: str) -> list[tuple[str, list[Edit]]]:
    """One conversion patch per driver, replacing `old` by `new` (with the driver name)."""
    return [
        (
            f"{d}: stop using the old API",
            [(f"drivers/{d}.c", old.replace("@", d), new.replace("@", d))],
        )
        for d in ("alpha", "beta")
    ]


EXISTING_REPLACEMENT = Shape(
    "existing-replacement",
    [
        # dev_reset() returns a negative error only: the series tests its result so
        *_drivers(
            "ret = old_reset(&@_dev);\n\tif (ret)\n",
            "ret = dev_reset(&@_dev, 0);\n\tif (ret < 0)\n",
        ),
        (
            "core: remove old_reset()",
            [
                (DEV_H, "int old_reset(struct device *dev);\n", ""),
                (
                    CORE_C,
                    "int old_reset(struct device *dev)\n{\n\treturn dev_reset(dev, 0);\n}\n"
                    "EXPORT_SYMBOL(old_reset);\n\n",
                    "",
                ),
            ],
        ),
    ],
)

NEW_MEMBER = Shape(
    "new-member",
    [
        (
            "core: drv_config.auto_enable enables the device at registration",
            [
                (DEV_H, "\tint irq;\n};", "\tint irq;\n\tint auto_enable;\n};"),
                (CORE_C, "\treturn cfg->irq;", "\treturn cfg->auto_enable ? cfg->irq : 0;"),
            ],
        ),
        *[
            (
                f"{d}: set auto_enable instead of calling old_enable()",
                [
                    (f"drivers/{d}.c", "\t.irq = 3,\n", "\t.irq = 3,\n\t.auto_enable = 1,\n"),
                    (f"drivers/{d}.c", f"\told_enable(&{d}_dev);\n", ""),
                ],
            )
            for d in ("alpha", "beta")
        ],
        (
            "core: remove old_enable()",
            [
                (DEV_H, "void old_enable(struct device *dev);\n\n", ""),
                (
                    CORE_C,
                    "void old_enable(struct device *dev)\n{\n\tdev->state = 1;\n}\n"
                    "EXPORT_SYMBOL(old_enable);\n\n",
                    "",
                ),
            ],
        ),
    ],
)

MODERN_H = """\
#ifndef _CORE_MODERN_H
#define _CORE_MODERN_H

#include <core/dev.h>

int modern_probe(struct device *dev);

#endif
"""

HEADER_REMOVAL = Shape(
    "header-removal",
    [
        (
            "core: add modern.h with modern_probe()",
            [
                ("include/core/modern.h", None, MODERN_H),
                (
                    CORE_C,
                    "#include <core/legacy.h>\n",
                    "#include <core/legacy.h>\n#include <core/modern.h>\n",
                ),
                (
                    CORE_C,
                    "int legacy_probe(",
                    "int modern_probe(struct device *dev)\n{\n\treturn dev->id == 42;\n}\n\n"
                    "int legacy_probe(",
                ),
            ],
        ),
        *[
            (
                f"{d}: use modern.h",
                [
                    (f"drivers/{d}.c", "#include <core/legacy.h>", "#include <core/modern.h>"),
                    (f"drivers/{d}.c", f"legacy_probe(&{d}_dev)", f"modern_probe(&{d}_dev)"),
                ],
            )
            for d in ("alpha", "beta")
        ],
        (
            "core: remove legacy.h",
            [
                ("include/core/legacy.h", "", None),
                (CORE_C, "#include <core/legacy.h>\n", ""),
                (
                    CORE_C,
                    "\nint legacy_probe(struct device *dev)\n{\n"
                    "\treturn dev->id == LEGACY_MAGIC;\n}\n",
                    "",
                ),
            ],
        ),
    ],
)

WRAPPERS = Shape(
    "wrappers",
    [
        (
            "lockops: add dev_lock()",
            [
                (
                    "include/core/lockops.h",
                    "void __dev_lock(struct device *dev, int mode);\n",
                    "void __dev_lock(struct device *dev, int mode);\n"
                    "void dev_lock(struct device *dev, int write);\n",
                ),
                (
                    CORE_C,
                    "int legacy_probe(",
                    "void dev_lock(struct device *dev, int write)\n{\n"
                    "\tdev->lock = write + 1;\n}\n\nint legacy_probe(",
                ),
            ],
        ),
        (
            "alpha: use dev_lock()",
            [("drivers/alpha.c", "old_read_lock(&alpha_dev);", "dev_lock(&alpha_dev, 0);")],
        ),
        (
            "beta: use dev_lock()",
            [("drivers/beta.c", "old_write_lock(&beta_dev);", "dev_lock(&beta_dev, 1);")],
        ),
        (
            "lockops: remove old_read_lock(), old_write_lock() and __dev_lock()",
            [
                (
                    "include/core/lockops.h",
                    "void __dev_lock(struct device *dev, int mode);\n",
                    "",
                ),
                (
                    "include/core/lockops.h",
                    "\nstatic inline void old_read_lock(struct device *dev)\n{\n"
                    "\t__dev_lock(dev, 0);\n}\n\nstatic inline void old_write_lock("
                    "struct device *dev)\n{\n\t__dev_lock(dev, 1);\n}\n",
                    "",
                ),
                (
                    CORE_C,
                    "void __dev_lock(struct device *dev, int mode)\n{\n"
                    "\tdev->lock = mode + 1;\n}\n\n",
                    "",
                ),
            ],
        ),
    ],
)

WRONG_SIGNATURE = Shape(
    "wrong-signature",
    [
        *_drivers("\t.validate = old_validate,", "\t.validate = generic_validate,"),
        (
            "core: remove old_validate()",
            [
                (DEV_H, "int old_validate(struct device *dev, struct request *req);\n", ""),
                (
                    CORE_C,
                    "int old_validate(struct device *dev, struct request *req)\n{\n"
                    "\treturn dev->id < req->len;\n}\nEXPORT_SYMBOL(old_validate);\n\n",
                    "",
                ),
            ],
        ),
    ],
)

STATEMENT_MACRO = Shape(
    "statement-macro",
    [
        (
            "alpha: call dev_take() directly",
            [("drivers/alpha.c", "OLD_TAKE(&alpha_dev.lock);", "dev_take(&alpha_dev.lock);")],
        ),
        (
            "core: remove OLD_TAKE()",
            [(DEV_H, "#define OLD_TAKE(l) do { dev_take(l); } while (0)\n", "")],
        ),
    ],
)

MEMBER_REMOVAL = Shape(
    "member-removal",
    [
        ("alpha: no irq", [("drivers/alpha.c", "\t.irq = 3,\n", "")]),
        (
            "core: remove drv_config.irq",
            [
                (DEV_H, "\tconst char *name;\n\tint irq;\n};", "\tconst char *name;\n};"),
                (CORE_C, "\treturn cfg->irq;", "\treturn cfg->name != 0;"),
            ],
        ),
    ],
)

#: the same removal while struct request keeps a member of the same name
MEMBER_REMOVAL_SHARED_NAME = Shape(
    "member-removal-shared-name",
    [
        ("core: request.irq", [(DEV_H, "\tint len;\n", "\tint len;\n\tint irq;\n")]),
        *MEMBER_REMOVAL.steps,
    ],
)

"""Scope of a removed name: only an `#include` of its file widens it, not a mention.

Found on a real series ("powerpc/powermac: Drop the unused debug macro", which deletes
`#define DBG(...)` from feature.c, smp.c and time.c): the files that merely mention
"smp.c" or "time.c" (comments, prose) were taken as includers, then every header among
them, then the files mentioning those headers' names: a `git grep -F` of a thousand
header names over the whole tree, 13+ minutes, and every `DBG` of the tree in scope.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from series_tool.model import DefinitionSite, build_scope
from series_tool.replay import GitTree

FILES = {
    # The .c file whose private macro the series deletes.
    "plat/smp.c": '#define DBG(fmt...) printk(fmt)\nvoid smp_setup(void) { DBG("x"); }\n',
    # Mentions smp.c in a comment: cannot see its macros.
    "include/smp.h": "/* see plat/smp.c for the bring-up */\nvoid smp_setup(void);\n",
    "other/user.c": (
        '#include "../include/smp.h"\n#define DBG(x) 0\nint f(void) { return DBG(1); }\n'
    ),
    # Really includes it (as kernel/sched/build_policy.c includes .c files).
    "plat/all.c": '#include "smp.c"\nint g(void) { DBG("y"); return 0; }\n',
    # A private header, included by one file, named in prose by another.
    "drv/priv.h": "#define info(fmt...) printk(fmt)\n",
    "drv/a.c": '#include "priv.h"\nvoid a(void) { info("a"); }\n',
    "drv/b.c": "/* unlike priv.h, this file has its own */\nstatic int info(int v);\n",
    "drv/c.c": '#include <drv/priv.h>\nvoid c(void) { info("c"); }\n',
}


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    ident = ["-c", "user.name=Dev", "-c", "user.email=dev@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)
    return repo


def test_a_mention_of_the_file_name_is_not_an_include(tmp_path: Path) -> None:
    tree = GitTree(str(_repo(tmp_path)))
    sites = {
        "DBG": [DefinitionSite("plat/smp.c", True)],
        "info": [DefinitionSite("drv/priv.h", True)],
    }
    scope = build_scope(sites, tree.grep_fixed, ["DBG", "info"])
    assert scope.visible["DBG"] == frozenset({"plat/smp.c", "plat/all.c"})
    assert scope.visible["info"] == frozenset({"drv/priv.h", "drv/a.c", "drv/c.c"})
    assert not scope.allows("DBG", "other/user.c")
    assert not scope.allows("info", "drv/b.c")

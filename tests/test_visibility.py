"""What a C file offers other files (scan's notion of an API), read with tree-sitter."""

from __future__ import annotations

from series_tool.model import (
    CSource,
    file_local_names,
    offered_names,
    private_removed,
    provides_api,
)

C_FILE = """\
static int helper(int v) { return v; }
int exported(int v) { return helper(v); }
static void *forward(void);
void *forward(void) { return 0; }
static inline int fast(int x) { return x; }
#define LOCAL_MAX 4
extern int declared_elsewhere(void);
extern char linker_end[];
int prototype_only(void);
#ifdef CONFIG_X
static int guarded(void) { return 1; }
#endif
"""


def test_file_local_names() -> None:
    # forward: declared static first, so its plain definition is file-local too.
    assert file_local_names(CSource.from_text(C_FILE)) == {"helper", "forward", "fast", "guarded"}


def test_provides_api_in_c_file() -> None:
    offered = {
        n
        for n in (
            "helper",
            "exported",
            "forward",
            "fast",
            "LOCAL_MAX",
            "declared_elsewhere",
            "linker_end",
            "prototype_only",
            "guarded",
            "missing",
        )
        if provides_api("lib/x.c", C_FILE, n)
    }
    # Macros of a .c file are its own too; so are its extern declarations and prototypes
    # of what another file or a linker script defines: other files do not see them (they
    # declare the name themselves), removing one removes nothing from them.
    assert offered == {"exported"}


def test_everything_a_header_declares_is_api() -> None:
    for name in ("helper", "fast", "LOCAL_MAX", "exported", "linker_end", "prototype_only"):
        assert provides_api("include/x.h", C_FILE, name)
    assert not provides_api("include/x.h", C_FILE, "missing")


DATA = """\
struct local { int spare; };
enum mode { MODE_A, MODE_B };
typedef int handle_t;
int shared_count;
static int private_count;
"""


def test_data_names_of_a_c_file_are_its_own_except_globals() -> None:
    # Members, enumerators and typedefs a .c file defines are its own; a non-static
    # global variable is not.
    assert offered_names("lib/x.c", DATA) == {"shared_count"}
    assert offered_names("include/x.h", DATA) >= {
        "spare",
        "MODE_A",
        "handle_t",
        "shared_count",
        "private_count",
    }


def test_private_removed_on_a_hunk_of_a_c_file() -> None:
    from series_tool.ingest import parse_diff

    diff = (
        "diff --git a/lib/x.c b/lib/x.c\n--- a/lib/x.c\n+++ b/lib/x.c\n"
        "@@ -1,6 +1,1 @@\n"
        "-static int helper(int v) { return v; }\n"
        "-int exported(int v) { return v; }\n"
        "-#define LOCAL_MAX 4\n"
        "-struct local { int spare; };\n"
        "-int shared_count;\n"
        " int kept;\n"
    )
    (fd,) = parse_diff(diff, "test")
    assert private_removed(fd.hunks[0]) == {"helper", "LOCAL_MAX", "spare"}

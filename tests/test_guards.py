"""arch/ and CONFIG_ guards of a line, from tree-sitter's #if nesting and the Makefile."""

from __future__ import annotations

from series_tool.checks import arch_of, config_guards, makefile_configs, where_built

SOURCE = """int a;
#ifdef CONFIG_FOO
void f(void)
{
	int b;
#if defined(CONFIG_BAR)
	g();
#else
	h();
#endif
}
#endif
#ifndef CONFIG_Q
int e;
#endif
"""


def test_nested_ifdef_and_if_defined() -> None:
    assert config_guards(SOURCE, 1) == []
    assert config_guards(SOURCE, 5) == ["CONFIG_FOO"]
    assert config_guards(SOURCE, 7) == ["CONFIG_FOO", "CONFIG_BAR"]


def test_else_branch_is_negated() -> None:
    assert config_guards(SOURCE, 9) == ["CONFIG_FOO", "!CONFIG_BAR"]
    assert config_guards(SOURCE, 14) == ["!CONFIG_Q"]


def test_arch_directory() -> None:
    assert arch_of("arch/arm/mm/fault-armv.c") == "arm"
    assert arch_of("mm/memory.c") is None
    assert arch_of("arch/Kconfig") is None


def test_makefile_rule_with_continuation() -> None:
    files = {
        "drivers/x/Makefile": "obj-$(CONFIG_X_CORE) += core.o \\\n\tother.o\nobj-y += always.o\n",
        "drivers/x/other.c": "int o;\n",
    }
    assert makefile_configs("drivers/x/other.c", files.get) == ["CONFIG_X_CORE"]
    assert makefile_configs("drivers/x/always.c", files.get) == []
    arch, configs = where_built("drivers/x/other.c", 1, files.get)
    assert arch is None and configs == ["CONFIG_X_CORE"]


def test_compound_conditions_are_negated_whole() -> None:
    text = (
        "#if defined(CONFIG_A) && IS_ENABLED(CONFIG_B)\nint x;\n#else\nint y;\n#endif\n"
        "#if !IS_ENABLED(CONFIG_Q)\nint i;\n#elif IS_ENABLED(CONFIG_R)\nint j;\n"
        "#else\nint k;\n#endif\n"
    )
    assert config_guards(text, 2) == ["defined(CONFIG_A) && IS_ENABLED(CONFIG_B)"]
    assert config_guards(text, 4) == ["!(defined(CONFIG_A) && IS_ENABLED(CONFIG_B))"]
    assert config_guards(text, 7) == ["!CONFIG_Q"]
    assert config_guards(text, 9) == ["CONFIG_Q", "CONFIG_R"]
    assert config_guards(text, 11) == ["CONFIG_Q", "!CONFIG_R"]


def test_a_form_feed_does_not_move_the_line_asked_about() -> None:
    """Rows are counted in newlines, as tree-sitter counts them: a form feed (kernel
    sources have them between sections) is no line break."""
    deep = "\t" * 13 + "y = 1;\n"
    text = "\f\n" + deep + "#if defined(CONFIG_BAR)\n" + deep + "x();\n"
    assert config_guards(text, 5) == config_guards(text.replace("\f", " "), 5) == ["CONFIG_BAR"]

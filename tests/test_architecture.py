"""The architecture reads from `ls series_tool/`: one subpackage per pipeline stage, each
stage importing only earlier stages, and only through their `__init__.py` interface."""

from __future__ import annotations

import ast
from pathlib import Path

import series_tool

PACKAGE = Path(series_tool.__file__).resolve().parent

#: Pipeline order: a stage may import the stages before it, never those after it.
STAGES = ["ingest", "model", "replay", "checks", "render", "build", "rewrite", "commands"]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every `series_tool...` module an import statement of `path` names, with its line."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
    return [(line, m) for line, m in out if m == "series_tool" or m.startswith("series_tool.")]


def _stage_modules() -> list[tuple[str, Path]]:
    return [(stage, p) for stage in STAGES for p in sorted((PACKAGE / stage).glob("*.py"))]


def test_every_stage_is_a_package_with_an_interface() -> None:
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), stage
        tree = ast.parse(init.read_text())
        names = [
            n
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name) and t.id == "__all__"
            for n in ast.literal_eval(node.value)
        ]
        assert names, f"{stage}/__init__.py exports nothing (__all__)"
        assert ast.get_docstring(tree), f"{stage}/__init__.py says nothing of the stage"


def test_other_stages_are_imported_only_through_their_interface() -> None:
    wrong = []
    for stage, path in _stage_modules():
        for line, module in _imports(path):
            parts = module.split(".")
            if len(parts) > 2 and parts[1] in STAGES and parts[1] != stage:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {module}")
    assert not wrong, "import the stage package, not its module:\n" + "\n".join(wrong)


def test_stages_import_only_earlier_stages() -> None:
    wrong = []
    for stage, path in _stage_modules():
        for line, module in _imports(path):
            parts = module.split(".")
            later = len(parts) > 1 and parts[1] in STAGES
            if later and STAGES.index(parts[1]) > STAGES.index(stage):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {stage} -> {parts[1]}")
    assert not wrong, "a stage imports a later one:\n" + "\n".join(wrong)

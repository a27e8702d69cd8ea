"""Which way imports run between the apps (docs/architecture.md): publishing
and benchmarks depend on study, study on neither, and no module reaches for
another's private names."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = ("study", "publishing", "studyproj", "benchmarks")
# What publishing may use of study: the content it projects, the signals it
# listens to, a pure helper and the --topic option its command shares.
PUBLISHING_MAY_IMPORT = {
    "study.models",
    "study.signals",
    "study.numbers",
    "study.management.topic_option",
}


def modules(directory: str):
    for path in sorted((ROOT / directory).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def imported(tree: ast.AST):
    """(module, names) of every import in the tree, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_study_imports_neither_publishing_nor_the_benchmarks():
    found = [
        f"{path}: {module}"
        for path, tree in modules("study")
        for module, _ in imported(tree)
        if module.split(".")[0] in ("publishing", "benchmarks")
    ]
    assert found == []


def test_publishing_uses_only_study_models_and_signals():
    used = {
        (path, f"{module}.{name}" if module == "study" else module)
        for path, tree in modules("publishing")
        for module, names in imported(tree)
        for name in names or [""]
    }
    found = [
        f"{path}: {module}"
        for path, module in sorted(used)
        if module.split(".")[0] == "study"
        and not any(
            module == allowed or module.startswith(f"{allowed}.")
            for allowed in PUBLISHING_MAY_IMPORT
        )
    ]
    assert found == []


@pytest.mark.parametrize("directory", APP_DIRS)
def test_no_module_imports_another_modules_private_names(directory):
    found = [
        f"{path}: {module}.{name}"
        for path, tree in modules(directory)
        for module, names in imported(tree)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert found == []

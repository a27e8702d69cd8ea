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


# Pure cores: computations a test can run without a database or a request.
# What they need is passed in; they import other pure cores, the standard
# library, numpy, fsrs and Django's translation helpers, nothing that reads or
# writes rows.
PURE_CORES = (
    "study/exam_rules.py",
    "study/exam_vocabulary.py",
    "study/rounds.py",
    "study/subjects.py",
    "study/imports/identity.py",
    "study/forecast/calibration.py",
    "study/forecast/chart.py",
    "study/forecast/memory.py",
    "study/forecast/learners.py",
    "study/forecast/model.py",
    "study/forecast/papers.py",
    "study/forecast/plan.py",
    "study/forecast/reliability.py",
    "study/forecast/retention.py",
    "study/forecast/simulation.py",
    "study/forecast/timesplit.py",
    "study/ai/envelope.py",
    "study/ai/guard.py",
    "study/documents/chunking.py",
    "study/imports/reasons.py",
    "study/imports/reports.py",
    "study/json_input.py",
    "study/related/grades.py",
    "study/related/rules.py",
    "study/related/vectors.py",
)
PURE_MAY_NOT_IMPORT = ("django.db", "django.http", "study.models", "study.llm")


def _layer(module: str) -> str | None:
    """The layer a study module belongs to by its name, if it has one."""
    parts = module.split(".")
    if parts[0] != "study":
        return None
    for layer in ("views", "services", "selectors"):
        if layer in parts[1:]:
            return layer
    return None


@pytest.mark.parametrize("path", PURE_CORES)
def test_pure_cores_import_no_rows_services_or_selectors(path):
    tree = ast.parse((ROOT / path).read_text())
    found = [
        module
        for module, _ in imported(tree)
        if _layer(module) is not None
        or any(
            module == banned or module.startswith(f"{banned}.")
            for banned in PURE_MAY_NOT_IMPORT
        )
    ]
    assert found == []


def test_nothing_imports_views_but_the_urls():
    found = [
        f"{path}: {module}"
        for directory in APP_DIRS
        for path, tree in modules(directory)
        for module, _ in imported(tree)
        if _layer(module) == "views"
        and not path.endswith("urls.py")
        and not path.startswith("study/views/__init__")
    ]
    assert found == []


def test_selectors_never_import_services():
    found = [
        f"{path}: {module}"
        for path, tree in modules("study")
        if _layer(path.removesuffix(".py").replace("/", ".")) == "selectors"
        for module, _ in imported(tree)
        if _layer(module) == "services"
    ]
    assert found == []


def test_models_import_nothing_above_them():
    found = [
        f"{path}: {module}"
        for path, tree in modules("study/models")
        for module, _ in imported(tree)
        if _layer(module) is not None or module.startswith("study.llm")
    ]
    assert found == []


def test_views_write_through_services_not_forms():
    """A view saves nothing itself: ``form.save()`` would skip the service's
    side effects (outbox, staleness, embeddings)."""
    found = [
        f"{path}:{node.lineno}"
        for path, tree in modules("study/views")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "save"
        and isinstance(node.func.value, ast.Name)
        and "form" in node.func.value.id
    ]
    assert found == []

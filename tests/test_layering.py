"""House rules a test can keep: one-way dependencies between the packages.

A dependency is an ``import`` or a module run in another process: ``python -m X``
(a ``"-m"`` followed by a module name in a list, tuple or command string),
``runpy.run_module("X")`` and ``importlib.import_module("X")`` with a literal name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_MODULE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$")
_DASH_M = re.compile(r"(?:^|\s)-m\s+([A-Za-z_][\w.]*)")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _run_targets(tree: ast.AST) -> set[str]:
    """Modules this file runs in another process or imports by name."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple):
            items = [_literal(item) for item in node.elts]
            for first, second in zip(items, items[1:], strict=False):
                if first == "-m" and second and _MODULE.match(second):
                    found.add(second)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(_DASH_M.findall(node.value))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target = _literal(node.args[0])
            if name in {"run_module", "import_module"} and target and _MODULE.match(target):
                found.add(target)
    return found


def _dependencies(path: Path) -> set[str]:
    """Top-level packages ``path`` imports or runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    names.update(target.split(".")[0] for target in _run_targets(tree))
    return names


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _offenders(package: str, forbidden: set[str]) -> dict[str, list[str]]:
    return {
        str(path.relative_to(ROOT)): sorted(_dependencies(path) & forbidden)
        for path in _python_files(package)
        if _dependencies(path) & forbidden
    }


@pytest.mark.parametrize("package", ["engine", "seed"])
def test_engine_and_seed_never_import_streamlit(package):
    assert _offenders(package, {"streamlit"}) == {}


def test_engine_does_not_depend_on_the_layers_above_it():
    forbidden = {"dashboard", "pages", "seed", "benchmarks", "streamlit", "plotly"}
    assert _offenders("engine", forbidden) == {}


def test_seed_depends_only_on_the_engine():
    assert _offenders("seed", {"dashboard", "pages", "benchmarks"}) == {}


def test_dashboard_never_imports_a_page():
    assert _offenders("dashboard", {"pages"}) == {}


@pytest.mark.parametrize("source, expected", [
    ("subprocess.run([sys.executable, '-m', 'dashboard.cli', 'seed'])", {"dashboard"}),
    ("command = ('python', '-m', 'benchmarks.seed')", {"benchmarks"}),
    ("os.system('python -m dashboard.cli info')", {"dashboard"}),
    ("runpy.run_module('seed.world')", {"seed"}),
    ("importlib.import_module('pages.profiles')", {"pages"}),
    ("x = ['-m', 'not a module']", set()),
])
def test_a_module_run_in_another_process_counts_as_a_dependency(tmp_path, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert _dependencies(path) == expected

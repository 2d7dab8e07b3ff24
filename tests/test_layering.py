"""House rules a test can keep: one-way dependencies between the packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["engine", "seed"])
def test_engine_and_seed_never_import_streamlit(package):
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files(package)
        if "streamlit" in _imported_modules(path)
    ]
    assert offenders == []


def test_engine_does_not_depend_on_the_layers_above_it():
    forbidden = {"dashboard", "pages", "seed", "streamlit", "plotly"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_modules(path) & forbidden)
        for path in _python_files("engine")
        if _imported_modules(path) & forbidden
    }
    assert offenders == {}


def test_seed_depends_only_on_the_engine():
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_modules(path) & {"dashboard", "pages"})
        for path in _python_files("seed")
        if _imported_modules(path) & {"dashboard", "pages"}
    }
    assert offenders == {}

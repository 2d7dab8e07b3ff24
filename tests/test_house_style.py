"""The house's own checks run with the tests (CI runs the tests): ``ruff check`` on the
whole tree, ``ruff format --check`` (the tree is formatted as ruff formats it) and
``mypy`` on every package (``[tool.mypy]`` in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_tree_is_ruff_formatted() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, (
        "run `ruff format .`; these files are not formatted:\n" + result.stdout[-4000:]
    )


@pytest.mark.slow
def test_mypy_finds_nothing_in_any_package() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout[-4000:]


MAX_LINES = 400
_SPLIT_ELSEWHERE: set[str] = set()


@pytest.mark.parametrize("package", ["engine", "seed", "dashboard"])
def test_no_module_is_over_400_lines(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in _SPLIT_ELSEWHERE
    }
    assert long == {}, f"split these along their seams (at most {MAX_LINES} lines): {long}"

"""Every `personalize bench --only` section names a module and function that exist."""

from __future__ import annotations

import importlib

import pytest

from dashboard.cli.bench_cmd import SECTIONS


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_section_resolves_to_a_function(name: str) -> None:
    module_name, _, function = SECTIONS[name].partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, function)), f"{name}: {SECTIONS[name]} is not callable"

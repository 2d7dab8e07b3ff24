"""A real Chromium opens the overview of a small store served by ``streamlit run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.factories import build_small_store

from .harness import ARTIFACTS, require_chromium, running_app, screenshot_overview

pytestmark = pytest.mark.browser


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The seed's small market where the seed package provides it, else the hand-made store."""
    try:
        return request.getfixturevalue("seeded_db_url")
    except pytest.FixtureLookupError:
        return build_small_store(f"sqlite:///{tmp_path / 'small.db'}")


def test_overview_draws_its_charts_in_chromium(store_url):
    require_chromium()
    shot = ARTIFACTS / "overview.png"
    shot.unlink(missing_ok=True)
    with running_app(store_url) as base:
        charts = screenshot_overview(base, shot, charts=4)
    assert charts >= 4
    assert shot.stat().st_size > 10_000

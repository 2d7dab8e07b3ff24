"""A real Chromium opens the Predictions page of a seeded store served by ``streamlit run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import (
    ARTIFACTS,
    capture,
    chromium_page,
    require_chromium,
    running_app,
    wait_for_charts,
)

pytestmark = pytest.mark.browser

CHARTS = 4
"""Timeline, p_active, likely categories and the store outlook."""


def screenshot_predictions(
    base_url: str, path: Path, *, timeout_ms: int = 120_000
) -> tuple[int, str]:
    """Open the Predictions page, wait for its charts, save a full-length PNG.

    Returns the number of plotly charts drawn and the page's text.
    """
    with chromium_page() as page:
        page.goto(f"{base_url}/predictions", timeout=timeout_ms)
        page.get_by_role("heading", name="Predictions").wait_for(timeout=timeout_ms)
        wait_for_charts(page, CHARTS, timeout_ms)
        page.get_by_text("High-value customers slipping away").wait_for(timeout=timeout_ms)
        return capture(page, path)


def test_predictions_page_draws_its_charts_in_chromium(seeded_db_url):
    require_chromium()
    shot = ARTIFACTS / "predictions.png"
    shot.unlink(missing_ok=True)
    with running_app(seeded_db_url) as base:
        charts, text = screenshot_predictions(base, shot)
    assert charts >= CHARTS
    assert "Next purchase" in text and "Confidence" in text
    assert "Download the" in text
    assert shot.stat().st_size > 10_000

"""A real Chromium asks the Recommendations page for a rainy evening on a seeded store."""

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

CHARTS = 2
"""The contribution chart and the comparison's movement chart."""


def choose(page, label: str, option: str, timeout_ms: int) -> None:
    """Pick ``option`` in the first selectbox labelled ``label``."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=True).click(timeout=timeout_ms)


def wait_for_rerun(page, timeout_ms: int) -> None:
    """Until Streamlit has finished the rerun a widget change started."""
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(1000)


def screenshot_rainy_evening(
    base_url: str, path: Path, *, timeout_ms: int = 120_000
) -> tuple[int, str]:
    """Open Recommendations, set rainy evening, wait for the charts, save a full-length PNG.

    Returns the number of plotly charts drawn and the page's text.
    """
    with chromium_page() as page:
        page.goto(f"{base_url}/recommendations", timeout=timeout_ms)
        page.get_by_role("heading", name="What they would see").wait_for(timeout=timeout_ms)
        # The first run is still drawing (fitting, charts) when the heading shows: a widget
        # clicked now is re-rendered under the pointer.
        wait_for_rerun(page, timeout_ms)
        choose(page, "Weather", "rainy", timeout_ms)
        wait_for_rerun(page, timeout_ms)
        choose(page, "Time of day", "evening", timeout_ms)
        wait_for_rerun(page, timeout_ms)
        wait_for_charts(page, CHARTS, timeout_ms)
        # Close the last dropdown's focus ring before the picture.
        page.get_by_text("Two requests by the same customer").click()
        return capture(page, path)


def test_recommendations_for_a_rainy_evening_in_chromium(seeded_db_url):
    require_chromium()
    shot = ARTIFACTS / "recommendations.png"
    shot.unlink(missing_ok=True)
    with running_app(seeded_db_url) as base:
        charts, text = screenshot_rainy_evening(base, shot)
    assert charts >= CHARTS
    assert "Why each product" in text and "Compare two contexts" in text
    assert "rainy evening" in text  # the second context's default, on the movement chart
    assert shot.stat().st_size > 10_000

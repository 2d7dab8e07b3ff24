"""A real Chromium asks the Recommendations page for a rainy evening on a seeded store."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .harness import (
    ARTIFACTS,
    after_rerun,
    capture,
    chromium_page,
    require_chromium,
    running_app,
    wait_for_charts,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

CHARTS = 2
"""The contribution chart and the comparison's movement chart."""


def choose(page, label: str, option: str, timeout_ms: int, *, nth: int = 0) -> None:
    """Pick ``option`` in the ``nth`` selectbox labelled ``label``, and wait for the rerun."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).nth(nth)

    choice = page.get_by_role("option", name=option, exact=True)

    def pick() -> None:
        # A rerun still drawing may close a dropdown just opened: open it until it stays.
        for _ in range(10):
            wait_until_idle(page, timeout_ms)
            box.click()
            try:
                choice.wait_for(timeout=10_000)
            except PlaywrightTimeout:
                continue
            choice.click(timeout=timeout_ms)
            return
        raise AssertionError(f"the {label!r} dropdown never showed {option!r}")

    after_rerun(page, pick, timeout_ms)


# The selectboxes labelled "Weather" (and "Time of day"), in page order: the list's own
# context, then the comparison's first and second contexts.
FIRST_COMPARED = 1


def screenshot_rainy_evening(
    base_url: str, path: Path, *, timeout_ms: int = 120_000
) -> tuple[int, str]:
    """Open Recommendations, set the comparison's first context to a rainy evening (the
    second's default), wait for the charts, save a full-length PNG.

    Returns the number of plotly charts drawn and the page's text.
    """
    with chromium_page() as page:
        page.goto(f"{base_url}/recommendations", timeout=timeout_ms)
        page.get_by_role("heading", name="What they would see").wait_for(timeout=timeout_ms)
        # The first run is still drawing (fitting, charts) when the heading shows: a widget
        # clicked now would be re-rendered under the pointer.
        wait_until_idle(page, timeout_ms)
        before = page.get_by_text("products enter").inner_text()
        choose(page, "Weather", "rainy", timeout_ms, nth=FIRST_COMPARED)
        choose(page, "Time of day", "evening", timeout_ms, nth=FIRST_COMPARED)
        wait_for_charts(page, CHARTS, timeout_ms)
        # Close the last dropdown's focus ring before the picture.
        page.get_by_text("Two requests by the same customer").click()
        charts, text = capture(page, path)
        return charts, before + "\n" + text


def test_recommendations_for_a_rainy_evening_in_chromium(seeded_db_url):
    require_chromium()
    shot = ARTIFACTS / "recommendations.png"
    shot.unlink(missing_ok=True)
    with running_app(seeded_db_url) as base:
        charts, text = screenshot_rainy_evening(base, shot)
    before, _, after = text.partition("\n")
    assert charts >= CHARTS
    assert "Why each product" in after and "Compare two contexts" in after
    # Only the two choices make both compared contexts the same: nothing moves any more.
    assert "0 products enter, 0 leave and 0 change place" not in before
    assert "0 products enter, 0 leave and 0 change place in the second context" in after
    assert shot.stat().st_size > 10_000

"""A real Chromium moves a threshold slider on the Segments page and sees a size change;
it also pictures the Customer profile page."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import (
    ARTIFACTS,
    capture,
    chromium_page,
    require_chromium,
    running_app,
    settle,
    wait_for_charts,
)

pytestmark = pytest.mark.browser

TIMEOUT_MS = 240_000
SIZE_CHANGED = """([old]) => {
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .find(e => e.innerText.includes('High-value customers size'));
  return metric && metric.querySelector('[data-testid="stMetricValue"]').innerText !== old;
}"""
"""True once the "High-value customers size" tile shows a value other than ``old``."""


def _wait_idle(page: Any, *, charts: int) -> None:
    """Wait until ``charts`` plotly charts are drawn and the app has stopped running."""
    wait_for_charts(page, charts, TIMEOUT_MS)
    settle(page, TIMEOUT_MS)


def test_moving_a_threshold_slider_changes_a_previewed_segment_size(seeded_db_url):
    require_chromium()
    with running_app(seeded_db_url) as base, chromium_page() as page:
        page.goto(f"{base}/segments", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Segments").wait_for(timeout=TIMEOUT_MS)
        metric = page.locator("[data-testid='stMetric']").filter(
            has_text="High-value customers size"
        )
        metric.wait_for(timeout=TIMEOUT_MS)
        value = metric.locator("[data-testid='stMetricValue']")
        before = value.inner_text()

        # Interact once the first run has finished (its charts are drawn, nothing running).
        _wait_idle(page, charts=3)
        slider = page.get_by_role("slider").first  # high_value: the first rule
        slider.focus()
        for _ in range(15):
            slider.press("ArrowLeft", delay=30)
        page.wait_for_function(SIZE_CHANGED, arg=[before], timeout=TIMEOUT_MS)
        after = value.inner_text()
        assert int(after.replace(",", "")) > int(before.replace(",", ""))
        delta = metric.locator("[data-testid='stMetricDelta']").inner_text()
        assert delta.strip().lstrip("+").replace(",", "") == str(
            int(after.replace(",", "")) - int(before.replace(",", ""))
        )
        _wait_idle(page, charts=3)
        capture(page, ARTIFACTS / "segments.png")  # also raises on an exception box

        page.goto(f"{base}/customer_profile", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Customer profile").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("Tone to use").wait_for(timeout=TIMEOUT_MS)
        _wait_idle(page, charts=4)
        capture(page, ARTIFACTS / "profile.png")
    assert (ARTIFACTS / "segments.png").stat().st_size > 10_000
    assert (ARTIFACTS / "profile.png").stat().st_size > 10_000

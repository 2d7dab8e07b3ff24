"""A real Chromium opens the Predictions page of a seeded store served by ``streamlit run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import ARTIFACTS, CHROMIUM_ARGS, require_chromium, running_app

pytestmark = pytest.mark.browser

CHARTS = 4
"""Timeline, p_active, likely categories and the store outlook."""


def screenshot_predictions(
    base_url: str, path: Path, *, width: int = 1400, height: int = 900, timeout_ms: int = 120_000
) -> tuple[int, str]:
    """Open the Predictions page, wait for its charts, save a full-length PNG.

    Returns the number of plotly charts drawn and the page's text. Raises on a
    Streamlit exception box.
    """
    from playwright.sync_api import sync_playwright

    path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(require_chromium()), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base_url}/predictions", timeout=timeout_ms)
            page.get_by_role("heading", name="Predictions").wait_for(timeout=timeout_ms)
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                arg=CHARTS, timeout=timeout_ms,
            )  # fmt: skip
            page.get_by_text("High-value customers slipping away").wait_for(timeout=timeout_ms)
            page.wait_for_timeout(1500)
            # Streamlit scrolls inside its main section: grow the window to show it all.
            content = page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
            )
            page.set_viewport_size({"width": width, "height": max(height, int(content))})
            page.wait_for_timeout(1500)
            if page.locator("[data-testid='stException']").count():
                raise AssertionError(page.locator("[data-testid='stException']").first.inner_text())
            page.screenshot(path=str(path), full_page=True)
            text = page.locator("[data-testid='stMain']").inner_text()
            return int(page.locator(".js-plotly-plot").count()), text
        finally:
            browser.close()


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

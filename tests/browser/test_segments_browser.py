"""A real Chromium moves a threshold slider on the Segments page and sees a size change;
it also pictures the Customer profile page."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import ARTIFACTS, CHROMIUM_ARGS, require_chromium, running_app

pytestmark = pytest.mark.browser

TIMEOUT_MS = 240_000
SIZE_CHANGED = """([old]) => {
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .find(e => e.innerText.includes('high_value size'));
  return metric && metric.querySelector('[data-testid="stMetricValue"]').innerText !== old;
}"""
"""True once the "high_value size" tile shows a value other than ``old``."""


def _full_length_shot(page: Any, path: str, width: int, height: int) -> None:
    # Streamlit scrolls inside its main section: grow the window to show it all.
    content = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": max(height, int(content))})
    page.wait_for_timeout(1500)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": width, "height": height})


def _wait_idle(page: Any, *, charts: int) -> None:
    """Wait until ``charts`` plotly charts are drawn and the app has stopped running."""
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
        arg=charts,
        timeout=TIMEOUT_MS,
    )
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)


def _no_exception(page: Any) -> None:
    if page.locator("[data-testid='stException']").count():
        raise AssertionError(page.locator("[data-testid='stException']").first.inner_text())


def test_moving_a_threshold_slider_changes_a_previewed_segment_size(seeded_db_url):
    from playwright.sync_api import sync_playwright

    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    width, height = 1400, 900
    with running_app(seeded_db_url) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(require_chromium()), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base}/segments", timeout=TIMEOUT_MS)
            page.get_by_role("heading", name="Segments").wait_for(timeout=TIMEOUT_MS)
            metric = page.locator("[data-testid='stMetric']").filter(has_text="high_value size")
            metric.wait_for(timeout=TIMEOUT_MS)
            value = metric.locator("[data-testid='stMetricValue']")
            before = value.inner_text()

            # Interact once the first run has finished (its charts are drawn, nothing running).
            _wait_idle(page, charts=3)
            slider = page.get_by_role("slider").first  # high_value: the first rule
            slider.focus()
            for _ in range(15):
                slider.press("ArrowLeft", delay=30)
            page.wait_for_function(
                SIZE_CHANGED,
                arg=[before],
                timeout=TIMEOUT_MS,
            )
            after = value.inner_text()
            _no_exception(page)
            assert int(after.replace(",", "")) > int(before.replace(",", ""))
            delta = metric.locator("[data-testid='stMetricDelta']").inner_text()
            assert delta.strip().lstrip("+").replace(",", "") == str(
                int(after.replace(",", "")) - int(before.replace(",", ""))
            )
            _wait_idle(page, charts=3)
            _full_length_shot(page, str(ARTIFACTS / "segments.png"), width, height)

            page.goto(f"{base}/customer_profile", timeout=TIMEOUT_MS)
            page.get_by_role("heading", name="Customer profile").wait_for(timeout=TIMEOUT_MS)
            page.get_by_text("Tone to use").wait_for(timeout=TIMEOUT_MS)
            _wait_idle(page, charts=4)
            _no_exception(page)
            _full_length_shot(page, str(ARTIFACTS / "profile.png"), width, height)
        finally:
            browser.close()
    assert (ARTIFACTS / "segments.png").stat().st_size > 10_000
    assert (ARTIFACTS / "profile.png").stat().st_size > 10_000

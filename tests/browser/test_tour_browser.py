"""A real Chromium follows a "Start here" step: it opens the right page with the right
customer and moment chosen, and the browser tab carries the store's name."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .harness import require_chromium, running_app, wait_until_idle

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000


def _shown(selectbox) -> str:  # type: ignore[no-untyped-def]
    """A selectbox's label and chosen option (shown as text, or as its input's value)."""
    inputs = selectbox.locator("input")
    value = inputs.first.input_value() if inputs.count() else ""
    return f"{selectbox.inner_text()} {value}"


def test_a_tour_step_opens_recommendations_for_its_customer(seeded_db_url):
    require_chromium()
    from .harness import chromium_page

    with running_app(seeded_db_url) as base, chromium_page() as page:
        page.goto(base, timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Start here").wait_for(timeout=TIMEOUT_MS)
        step = page.get_by_role("link", name="Compare the two moments side by side").first
        step.wait_for(timeout=TIMEOUT_MS)
        wait_until_idle(page, TIMEOUT_MS)
        assert page.title() == "The Final Market"
        wanted = parse_qs(urlparse(step.get_attribute("href") or "").query)
        customer = wanted["customer"][0]
        step.click()
        page.get_by_role("heading", name="Recommendations").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_url(f"**customer={customer}**", timeout=TIMEOUT_MS)
        wait_until_idle(page, TIMEOUT_MS)
        assert not page.locator("[data-testid='stException']").count()
        assert page.title() == "The Final Market"
        shown = parse_qs(urlparse(page.url).query)
        assert shown["customer"] == [customer]
        assert (shown["weather_a"], shown["time_a"]) == (["rainy"], ["evening"])
        picker = page.locator("[data-testid='stSelectbox']").filter(has_text="Customer").first
        assert customer in _shown(picker)
        weather = page.locator("[data-testid='stSelectbox']").filter(has_text="Weather")
        texts = [_shown(weather.nth(i)) for i in range(weather.count())]
        assert any("rainy" in t for t in texts) and any("sunny" in t for t in texts), texts

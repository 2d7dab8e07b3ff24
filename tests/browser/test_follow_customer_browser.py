"""A real Chromium follows one customer: a member of a segment opens their profile in one
click, and a link carries them to Recommendations and Predictions and back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .harness import chromium_page, require_chromium, running_app, wait_until_idle

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000


def _picked(page, key_label: str = "Customer") -> str:  # type: ignore[no-untyped-def]
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=key_label).first
    inputs = box.locator("input")
    return f"{box.inner_text()} {inputs.first.input_value() if inputs.count() else ''}"


def test_a_segment_member_opens_their_profile_and_links_carry_them(seeded_db_url):
    require_chromium()
    with running_app(seeded_db_url) as base, chromium_page() as page:
        page.goto(f"{base}/segments", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Members").wait_for(timeout=TIMEOUT_MS)
        wait_until_idle(page, TIMEOUT_MS)
        grid = page.locator("[data-testid='stDataFrame']").last
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        assert box is not None
        # Select the first member's id cell, then move right onto the "Profile" link cell.
        page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)
        wait_until_idle(page, TIMEOUT_MS)
        page.keyboard.press("ArrowRight")
        wait_until_idle(page, TIMEOUT_MS)
        page.keyboard.press("ArrowRight")
        page.get_by_role("heading", name="Customer profile").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_url("**customer=**", timeout=TIMEOUT_MS)
        wait_until_idle(page, TIMEOUT_MS)
        customer = parse_qs(urlparse(page.url).query)["customer"][0]
        assert customer in _picked(page)
        for path, heading in (
            ("recommendations", "Recommendations"),
            ("predictions", "Predictions"),
            ("customer_profile", "Customer profile"),
        ):
            page.goto(f"{base}/{path}?customer={customer}", timeout=TIMEOUT_MS)
            page.get_by_role("heading", name=heading).wait_for(timeout=TIMEOUT_MS)
            wait_until_idle(page, TIMEOUT_MS)
            assert not page.locator("[data-testid='stException']").count(), path
            assert customer in _picked(page), path

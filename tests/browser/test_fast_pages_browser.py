"""A real Chromium on the parts of pages that rerun alone: a tab draws its own chart, and
picking a customer on Customer profile reruns only that part while the address and an open
"Share this view" link follow the new customer."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .harness import after_rerun, chromium_page, require_chromium, running_app, settle

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000


def _chart_titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".js-plotly-plot .gtitle").all_text_contents()  # SVG: no innerText


def test_an_overview_tab_draws_its_own_chart_in_place_of_the_other(seeded_db_url):
    require_chromium()
    with running_app(seeded_db_url) as base, chromium_page() as page:
        page.goto(f"{base}/overview", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Store overview").wait_for(timeout=TIMEOUT_MS)
        settle(page, TIMEOUT_MS)
        assert "Channel mix" in _chart_titles(page) and len(_chart_titles(page)) == 4
        after_rerun(page, page.get_by_role("tab", name="Devices").click, TIMEOUT_MS)
        settle(page, TIMEOUT_MS)
        titles = _chart_titles(page)
        assert "Device mix" in titles and "Channel mix" not in titles and len(titles) == 4
        assert not page.locator("[data-testid='stException']").count()


def test_picking_a_customer_updates_the_address_and_the_open_share_link(seeded_db_url):
    require_chromium()
    with running_app(seeded_db_url) as base, chromium_page() as page:
        page.goto(f"{base}/customer_profile", timeout=TIMEOUT_MS)
        page.get_by_text("Tone to use").wait_for(timeout=TIMEOUT_MS)
        settle(page, TIMEOUT_MS)
        sidebar = page.locator("[data-testid='stSidebar']")
        assert not sidebar.locator("[data-testid='stCode']").count()  # closed: not drawn
        after_rerun(page, sidebar.get_by_text("Share this view").click, TIMEOUT_MS)
        link = sidebar.locator("[data-testid='stCode']")
        first = parse_qs(urlparse(link.inner_text().strip()).query)["customer"][0]

        box = (
            page.locator("[data-testid='stSelectbox']")
            .filter(has=page.get_by_role("combobox", name="Customer", exact=True))
            .first
        )
        box.get_by_role("button", name="Open").click()
        option = page.get_by_role("option").nth(3)
        other = option.inner_text().split(" · ")[0]
        assert other != first
        after_rerun(page, option.click, TIMEOUT_MS)
        page.wait_for_url(f"**customer={other}**", timeout=TIMEOUT_MS)
        # The part reran alone, then the app once more for the open link.
        page.wait_for_function(
            """(id) => { const code = document.querySelector(
                 '[data-testid="stSidebar"] [data-testid="stCode"]');
               return !!code && code.innerText.includes('customer=' + id); }""",
            arg=other,
            timeout=TIMEOUT_MS,
        )
        settle(page, TIMEOUT_MS)
        shared = parse_qs(urlparse(link.inner_text().strip()).query)["customer"][0]
        assert shared == other
        assert not page.locator("[data-testid='stException']").count()

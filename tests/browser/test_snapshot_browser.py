"""A presenter saves the view on screen from the sidebar's "Snapshot" control: the server
draws it in its own headless Chromium, and a real PNG and a real PDF come down."""

from __future__ import annotations

import struct
from urllib.parse import parse_qs, urlparse

import pytest

from .harness import require_chromium, running_app, wait_until_idle

pytestmark = pytest.mark.browser
TIMEOUT_MS = 240_000  # the server starts a second Chromium to draw the view


def _download(page, name: str) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    button = page.get_by_test_id("stSidebar").get_by_role("button", name=name)
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        button.click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(f".{name.lower()}")
    with open(path, "rb") as file:
        return file.read(), download.value.suggested_filename


def test_the_sidebar_saves_this_view_as_png_and_pdf(seeded_db_url):
    require_chromium()
    from .harness import chromium_page

    with running_app(seeded_db_url) as base, chromium_page() as page:
        page.goto(f"{base}/customer_profile", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Customer profile").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_url("**customer=**", timeout=TIMEOUT_MS)
        wait_until_idle(page, TIMEOUT_MS)
        customer = parse_qs(urlparse(page.url).query)["customer"][0]
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Snapshot", exact=True).click()
        take = sidebar.get_by_role("button", name="Take a snapshot")
        take.wait_for(timeout=TIMEOUT_MS)
        take.click()
        failed = sidebar.get_by_test_id("stAlert")
        sidebar.get_by_role("button", name="PNG").or_(failed).wait_for(timeout=TIMEOUT_MS)
        assert not failed.count(), failed.first.inner_text()

        png, png_name = _download(page, "PNG")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert width == 1400 and height >= 900, (width, height)  # the whole page, not a window
        assert len(png) > 50_000
        pdf, pdf_name = _download(page, "PDF")
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        assert b"/MediaBox" in pdf and len(pdf) > 20_000
        # The files are of this view: this page, this customer, this day.
        assert png_name.startswith(f"customer-profile-{customer.lower()}-"), png_name
        assert pdf_name == png_name.removesuffix(".png") + ".pdf"
        assert not page.locator("[data-testid='stException']").count()

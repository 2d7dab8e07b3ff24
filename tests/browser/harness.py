"""Run the dashboard under ``streamlit run`` and drive Debian's Chromium against it."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboard.cli.snapshot_cmd import serving

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def require_chromium() -> Path:
    """Chromium's path; skipped (saying why) where it is absent, but a failure under CI."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(database_url: str, *, timeout: float = 90.0) -> Iterator[str]:
    """Serve the dashboard on a free port against ``database_url``; yields its base URL
    (the server's output goes to artifacts/streamlit-server.log, git-ignored, for when it
    fails to start)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        open(ARTIFACTS / "streamlit-server.log", "w+b") as log,
        serving(database_url, timeout_s=timeout, server_log=log) as base,
    ):
        yield base


@contextmanager
def chromium_page(*, width: int = 1400, height: int = 900) -> Iterator[Page]:
    """A page in a fresh headless Debian Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(require_chromium()), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.add_init_script(_RUN_COUNTER)
            yield page
        finally:
            browser.close()


def wait_for_charts(page: Page, count: int, timeout_ms: int) -> None:
    """Wait until ``count`` plotly charts have drawn their SVG."""
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
        arg=count, timeout=timeout_ms,
    )  # fmt: skip


# Counts the Streamlit runs that have finished: the app's root carries
# data-test-script-state = running / notRunning, and every change is observed (a run too
# quick to be seen by polling still leaves its two attribute changes).
_RUN_COUNTER = """
window.__runsDone = 0;
new MutationObserver((records) => {
  for (const r of records) if (r.oldValue === 'running') window.__runsDone += 1;
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stSkeleton"]');
}"""
_CHARTS_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .every((plot) => plot.querySelector('.main-svg'))"""


def wait_until_idle(page: Page, timeout_ms: int) -> None:
    """Until no script run is in progress and nothing on the page is stale or a skeleton."""
    page.wait_for_function(_IDLE, timeout=timeout_ms, polling="raf")


def after_rerun(page: Page, action: Callable[[], None], timeout_ms: int) -> None:
    """Do ``action`` (a widget change) and wait until the rerun it starts has finished."""
    done = page.evaluate("() => window.__runsDone")
    action()
    page.wait_for_function("n => window.__runsDone > n", arg=done, timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)


def settle(page: Page, timeout_ms: int) -> None:
    """Idle, every chart drawn, and two animation frames for their first layout pass."""
    wait_until_idle(page, timeout_ms)
    page.wait_for_function(_CHARTS_DRAWN, timeout=timeout_ms, polling="raf")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def capture(
    page: Page, path: Path, *, full_page: bool = True, timeout_ms: int = 60_000
) -> tuple[int, str]:
    """Save a PNG of the page and return (plotly charts drawn, the main section's text).

    Raises on a Streamlit exception box. Streamlit scrolls inside its main section,
    so a "full page" picture means first growing the window to the content's height.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    settle(page, timeout_ms)
    if full_page:
        size = page.viewport_size or {"width": 1400, "height": 900}
        content = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], content)})
        settle(page, timeout_ms)
    if page.locator("[data-testid='stException']").count():
        raise AssertionError(page.locator("[data-testid='stException']").first.inner_text())
    page.screenshot(path=str(path), full_page=full_page)
    text = page.locator("[data-testid='stMain']").inner_text()
    return int(page.locator(".js-plotly-plot").count()), text


def screenshot_overview(
    base_url: str,
    path: Path,
    *,
    width: int = 1400,
    height: int = 900,
    charts: int = 4,
    full_page: bool = False,
    timeout_ms: int = 90_000,
) -> int:
    """Open the overview, wait until ``charts`` plotly charts are drawn, save a PNG.

    Returns the number of charts drawn. Raises on a Streamlit exception box.
    """
    with chromium_page(width=width, height=height) as page:
        page.goto(f"{base_url}/overview", timeout=timeout_ms)
        page.get_by_role("heading", name="Store overview").wait_for(timeout=timeout_ms)
        wait_for_charts(page, charts, timeout_ms)
        drawn, _ = capture(page, path, full_page=full_page)
        return drawn

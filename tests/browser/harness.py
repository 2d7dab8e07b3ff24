"""Run the dashboard under ``streamlit run`` and drive Debian's Chromium against it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboard.cli.dashboard_cmd import streamlit_command

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
    """Serve the dashboard on a free port against ``database_url``; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PERSONALIZE_DATABASE_URL": database_url}
    # The server's own output, for when it fails to start (artifacts/ is git-ignored).
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "streamlit-server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [*streamlit_command(port), "--server.address", "127.0.0.1"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with {server.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {base} within {timeout}s")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@contextmanager
def chromium_page(*, width: int = 1400, height: int = 900) -> Iterator[Page]:
    """A page in a fresh headless Debian Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(require_chromium()), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def wait_for_charts(page: Page, count: int, timeout_ms: int) -> None:
    """Wait until ``count`` plotly charts have drawn their SVG."""
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
        arg=count, timeout=timeout_ms,
    )  # fmt: skip


def capture(page: Page, path: Path, *, full_page: bool = True) -> tuple[int, str]:
    """Save a PNG of the page and return (plotly charts drawn, the main section's text).

    Raises on a Streamlit exception box. Streamlit scrolls inside its main section,
    so a "full page" picture means first growing the window to the content's height.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Let the last charts finish their first layout pass before the picture.
    page.wait_for_timeout(1500)
    if full_page:
        size = page.viewport_size or {"width": 1400, "height": 900}
        content = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], content)})
        page.wait_for_timeout(1500)
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
        page.goto(base_url, timeout=timeout_ms)
        page.get_by_role("heading", name="Store overview").wait_for(timeout=timeout_ms)
        wait_for_charts(page, charts, timeout_ms)
        drawn, _ = capture(page, path, full_page=full_page)
        return drawn

"""Snapshots of a view: the page on screen saved as a PNG picture and a PDF document.

The server opens the view's shareable link (the same page, customer, context and "As of"
as "Share this view") in a headless Debian Chromium through playwright, waits until the
page has finished running and drawing (the app's script state ``notRunning``, nothing
stale or a skeleton, every chart drawn), and keeps a full-page PNG and a one-page PDF of
it, both in screen styles so the document looks like the screen.

The link carries ``snapshot=1``: the view renders without the sidebar's sharing tools,
so a snapshot never pictures them half-used and can never take a snapshot itself. Used
by the sidebar's "Snapshot" panel (:func:`panel`) and by ``personalize snapshot``.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import state
from engine.config import get_settings
from engine.errors import UserError

if TYPE_CHECKING:
    from playwright.sync_api import Page

MARKER = "snapshot"
"""The query parameter (``snapshot=1``) of the address a snapshot is rendered from."""
WIDTH, HEIGHT = 1400, 900
"""The snapshot browser's window: the width of the picture, the least height of the page."""
TIMEOUT_S = 120.0
MAX_PDF_HEIGHT_PX = 19_200  # 200 inches, the largest page PDF readers agree on
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_TAKEN = "snapshot_taken"  # st.session_state: (view, Snapshot) of the last snapshot taken
_FAILED = "snapshot_failed"  # st.session_state: (view, message) of the last one that failed
_ONE_AT_A_TIME = threading.Lock()  # one headless Chromium per server, however many viewers

# Counts the script runs that have finished (the root's data-test-script-state leaving
# "running"), so the wait below never mistakes the page before its first run for a
# finished one.
_RUN_COUNTER = """
window.__snapshotRuns = 0;
new MutationObserver((records) => {
  for (const r of records) if (r.oldValue === 'running') window.__snapshotRuns += 1;
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
_DRAWN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  const ran = window.__snapshotRuns >= 1
    || !!(main && main.querySelector('[data-testid="stElementContainer"]'));
  return ran && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every((chart) => chart.querySelector('.main-svg'));
}"""
_SETTLED = """async () => {
  await document.fonts.ready;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""
_CONTENT_HEIGHT = """() => Math.max(window.innerHeight, ...[
  '[data-testid="stMain"]', '[data-testid="stSidebarContent"]'
].map((s) => document.querySelector(s)?.scrollHeight || 0))"""
# The browser's own frame around the app (menu, running indicator) is no part of the view.
_NO_CHROME = """[data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stDecoration"], [data-testid="stStatusWidget"] { display: none !important; }"""


class SnapshotError(UserError):
    """A snapshot could not be taken (no Chromium, no playwright, a timeout); the message
    says why in one sentence."""


@dataclass(frozen=True)
class Snapshot:
    """One view, drawn: the address it was rendered from and its two files."""

    url: str
    png: bytes
    pdf: bytes


def taking() -> bool:
    """Whether this run draws a view for a snapshot (its address carries ``snapshot=1``)."""
    return st.query_params.get(MARKER) == "1"


def snapshot_url(base_url: str, path: str, params: Mapping[str, str]) -> str:
    """The address a snapshot renders: ``base_url`` (the server, no trailing ``/``), the
    page's ``path`` (``/recommendations``; ``/`` for the first page) and the view's
    shared ``params``, marked as a snapshot's."""
    page = "/" + path.strip("/")
    return state.shareable_link(base_url.rstrip("/") + page, {**params, MARKER: "1"})


def server_base() -> str:
    """This Streamlit server as seen from its own machine (the presenter's browser may
    reach it by a name or through a proxy the server itself cannot use)."""
    address = str(st.get_option("server.address") or "")
    host = address if address and address not in {"0.0.0.0", "::"} else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address in a URL
    scheme = "https" if st.get_option("server.sslCertFile") else "http"
    base_path = str(st.get_option("server.baseUrlPath") or "").strip("/")
    port = int(st.get_option("server.port"))
    return f"{scheme}://{host}:{port}" + (f"/{base_path}" if base_path else "")


def unavailable(chromium: Path | None = None) -> str | None:
    """Why snapshots cannot be taken on this machine, or ``None`` when they can."""
    chromium = chromium or get_settings().chromium
    if not chromium.is_file():
        return (
            f"Snapshots need Chromium at {chromium} (install Debian's chromium package, "
            "or set PERSONALIZE_CHROMIUM to its path)."
        )
    if importlib.util.find_spec("playwright") is None:
        return "Snapshots need the playwright package (pip install playwright)."
    return None


def take(
    url: str,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    timeout_s: float = TIMEOUT_S,
    chromium: Path | None = None,
) -> Snapshot:
    """Open ``url`` in a headless Chromium and draw it as a PNG and a PDF.

    Raises:
        SnapshotError: no Chromium or playwright, the browser failed, or the page did not
            finish drawing within ``timeout_s`` seconds.
    """
    chromium = chromium or get_settings().chromium
    if problem := unavailable(chromium):
        raise SnapshotError(problem)
    deadline = time.monotonic() + timeout_s
    if not _ONE_AT_A_TIME.acquire(timeout=timeout_s):
        raise SnapshotError(
            "Another snapshot is being taken on this server: try again in a moment."
        )
    try:
        return _render(url, chromium, width, height, deadline, timeout_s)
    finally:
        _ONE_AT_A_TIME.release()


def _render(
    url: str, chromium: Path, width: int, height: int, deadline: float, timeout_s: float
) -> Snapshot:
    from playwright.sync_api import Error, TimeoutError, sync_playwright

    def left_ms() -> float:
        return max(1.0, (deadline - time.monotonic()) * 1000)

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS, timeout=left_ms()
            )
            try:
                page = browser.new_page(
                    viewport={"width": width, "height": height}, ignore_https_errors=True
                )
                page.add_init_script(_RUN_COUNTER)
                page.goto(url, wait_until="domcontentloaded", timeout=left_ms())
                _settle(page, left_ms)
                page.add_style_tag(content=_NO_CHROME)
                # Streamlit scrolls inside its main section: a full-page picture means
                # first growing the window to the content's height.
                full = int(page.evaluate(_CONTENT_HEIGHT))
                page.set_viewport_size({"width": width, "height": full})
                _settle(page, left_ms)
                png = page.screenshot(full_page=True, type="png", timeout=left_ms())
                page.emulate_media(media="screen")
                pdf = page.pdf(
                    width=f"{width}px",
                    height=f"{min(full, MAX_PDF_HEIGHT_PX)}px",
                    print_background=True,
                )
            finally:
                browser.close()
    except TimeoutError as exc:
        raise SnapshotError(
            f"The view did not finish drawing within {timeout_s:.0f} s: "
            "try again when the server is less busy."
        ) from exc
    except Error as exc:
        reason = (str(exc).strip().splitlines() or ["unknown error"])[0]
        reason = re.sub(r"^\w+\.\w+: ", "", reason)  # playwright's "Page.goto: " prefix
        raise SnapshotError(f"The snapshot browser failed: {reason[:200]}") from exc
    return Snapshot(url=url, png=png, pdf=pdf)


def _settle(page: Page, left_ms: Callable[[], float]) -> None:
    """Until the view is drawn twice in a row, two animation frames apart (a page that
    reruns itself at once is caught by the second look)."""
    for _ in range(2):
        page.wait_for_function(_DRAWN, timeout=left_ms(), polling="raf")
        page.evaluate(_SETTLED)


def file_stem(title: str, params: Mapping[str, str]) -> str:
    """``"recommendations-c00042-2026-10-31"``: the page, the customer, the day."""
    parts = [title, params.get(state.CUSTOMER, ""), params.get(state.AS_OF, "")]
    words = (re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)
    return "-".join(word for word in words if word) or "snapshot"


def panel(page: st.Page | None) -> None:
    """The sidebar's "Snapshot" control: draw this view as a PNG and a PDF to download."""
    with st.expander("Snapshot", icon=":material/photo_camera:"):
        _controls(page)


@st.fragment  # taking a snapshot reruns this panel only, not the page
def _controls(page: st.Page | None) -> None:
    # Here, not at the top: `personalize snapshot` imports this module outside a Streamlit
    # server, where the sidebar's cached loaders would only log warnings.
    from dashboard.sidebar import view_params

    # Read now, not at the last full run: a fragment of the page may have changed them.
    params = view_params()
    path = page.url_path if page is not None and page.url_path else ""
    view = (path, tuple(sorted(params.items())))
    st.caption("Save this view (same customer, context and day) as a picture or a document.")
    problem = unavailable()
    if problem:
        st.caption(problem)
    if st.button(
        "Take a snapshot",
        icon=":material/photo_camera:",
        disabled=bool(problem),
        width="stretch",
        key="snapshot_take",
    ):
        st.session_state.pop(_TAKEN, None)
        st.session_state.pop(_FAILED, None)
        try:
            with st.spinner("Drawing this view in a headless browser ..."):
                shot = take(snapshot_url(server_base(), path, params))
        except SnapshotError as exc:
            st.session_state[_FAILED] = (view, str(exc))
        else:
            st.session_state[_TAKEN] = (view, shot)
    taken, failed = st.session_state.get(_TAKEN), st.session_state.get(_FAILED)
    if taken and taken[0] == view:
        stem = file_stem(page.title if page is not None else "", params)
        left, right = st.columns(2)
        left.download_button(
            "PNG",
            taken[1].png,
            file_name=f"{stem}.png",
            mime="image/png",
            icon=":material/image:",
            on_click="ignore",
            width="stretch",
        )
        right.download_button(
            "PDF",
            taken[1].pdf,
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
            on_click="ignore",
            width="stretch",
        )
    elif failed and failed[0] == view:
        st.warning(failed[1], icon=":material/error:")

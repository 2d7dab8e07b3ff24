"""A real Chromium runs the Live page: the market runs, the followed customer's profile
changes on screen, and an injected 1-star review changes their mood and recommendations."""

from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import select

from engine.db import open_store, session_scope
from engine.models import Profile
from engine.profiles import score_store

from .harness import ARTIFACTS, after_rerun, chromium_page, require_chromium, running_app

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000


@pytest.fixture
def live_store(seeded_db_url, tmp_path) -> tuple[str, str]:
    """A writable, scored copy of the small seeded store, and an active customer who has
    never reviewed anything (their first review decides their mood)."""
    path = tmp_path / "live.db"
    shutil.copy(seeded_db_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    engine = open_store(url)
    with session_scope(engine) as session:
        score_store(session)
    with session_scope(engine) as session:
        customer = session.scalars(
            select(Profile.customer_id)
            .where(Profile.emotional_state == "unknown")
            .order_by(Profile.purchase_frequency.desc(), Profile.customer_id)
        ).first()
    engine.dispose()
    assert customer is not None
    return url, customer


def _text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def test_the_live_page_moves_a_followed_customer(live_store):
    require_chromium()
    url, customer = live_store
    with running_app(url) as base, chromium_page(height=1400) as page:
        page.goto(f"{base}/live", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Live store").wait_for(timeout=TIMEOUT_MS)
        typed = page.get_by_label("...or any customer id")
        after_rerun(page, lambda: (typed.fill(customer), typed.press("Enter")), TIMEOUT_MS)
        page.get_by_role("button", name="Start the market").click()
        # the followed customer is shown, then changes as their own events arrive
        page.get_by_text(f"({customer})").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("What changed").wait_for(timeout=TIMEOUT_MS)
        main = "[data-testid='stMain']"
        assert "Emotional state: unknown" in _text(page, main)
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                 .some(m => m.innerText.startsWith('Events') && !/\\n0$/.test(m.innerText))""",
            timeout=TIMEOUT_MS,
        )
        table = page.locator("[data-testid='stTable']").first
        table.wait_for(timeout=TIMEOUT_MS)
        before = table.inner_text()
        page.get_by_role("button", name="Inject").click()  # default: a 1-star review
        page.get_by_text(re.compile(r"Emotional state: (very_)?dissatisfied")).wait_for(
            timeout=TIMEOUT_MS
        )
        page.wait_for_function(
            """before => {
                 const t = document.querySelector('[data-testid="stTable"]');
                 return t && t.innerText !== before; }""",
            arg=before,
            timeout=TIMEOUT_MS,
        )
        after = table.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live.png"), full_page=True)
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Status: stopped").wait_for(timeout=TIMEOUT_MS)
    assert after != before
    assert "review" in _feed_kinds(url)


def _feed_kinds(url: str) -> set[str]:
    from engine.models import Event

    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            return set(
                session.scalars(select(Event.event_type).where(Event.event_id.like("sim0-%inj%")))
            )
    finally:
        engine.dispose()

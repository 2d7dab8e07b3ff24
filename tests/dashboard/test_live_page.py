"""The Live page under AppTest: start, follow, inject, stop; one run per session."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from dashboard import live_session
from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.models import Event, Review
from engine.profiles import score_store

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGE = str(Path("..") / "pages" / "live.py")


@pytest.fixture
def live_url(seeded_db_url, tmp_path) -> str:
    """A writable, scored copy of the small seeded store."""
    path = tmp_path / "live.db"
    shutil.copy(seeded_db_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    engine = open_store(url)
    with session_scope(engine) as session:
        score_store(session)
    engine.dispose()
    return url


def _open(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _wait(at: AppTest, done, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()


def _injected_reviews(url: str, customer: str) -> int:
    engine = open_store(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                select(func.count())
                .select_from(Event)
                .where(
                    Event.customer_id == customer,
                    Event.event_type == "review",
                    Event.event_id.like("%-inj%"),
                )
            )
    finally:
        engine.dispose()


def _run(at: AppTest):
    return at.session_state[live_session.RUN_KEY]


def test_start_follow_inject_stop(live_url, monkeypatch):
    at = _open(live_url, monkeypatch)
    assert _button(at, "Stop").disabled and _button(at, "Inject").disabled
    assert at.metric[0].label == "Events" and at.metric[0].value == "0"
    follow = at.selectbox(key="live_follow")
    follow.select(follow.options[1]).run()
    customer = follow.options[1].split(" · ")[0]
    at.selectbox(key="live_speed").select("1 day per second (86,400x)").run()
    _button(at, "Start the market").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = _run(at)
    assert run.running and run.follow_id == customer and run.speed == 86_400
    assert _button(at, "Start the market").disabled and at.selectbox(key="live_speed").disabled
    _wait(at, lambda: run.state().events >= 10)
    assert int(at.metric[0].value.replace(",", "")) >= 10
    assert at.dataframe  # the event stream
    at.selectbox(key="live_inject").select("review_1_star").run()
    _button(at, "Inject").click().run()
    # the store is the witness (the on-screen feed keeps 40 events: on a fast machine the
    # injected one scrolls out between two looks)
    _wait(at, lambda: _injected_reviews(live_url, customer) > 0)
    assert _injected_reviews(live_url, customer) == 1, (run.state().message, run.state().refused)
    _button(at, "Stop").click().run()
    assert not run.running and not _button(at, "Start the market").disabled
    assert "Status: stopped" in " ".join(c.value for c in at.caption)
    engine = open_store(live_url)
    with engine.connect() as connection:
        written = connection.scalar(
            select(func.count()).select_from(Event).where(Event.event_id.like("sim0-%"))
        )
        ones = connection.scalar(
            select(func.count())
            .select_from(Review)
            .where(Review.customer_id == customer, Review.rating == 1)
        )
    engine.dispose()
    assert written == run.state().events and ones >= 1


def test_never_two_runs_for_one_session(live_url, monkeypatch):
    at = _open(live_url, monkeypatch)
    _button(at, "Start the market").click().run()
    first = _run(at)
    try:
        assert _button(at, "Start the market").disabled
        # a second start (a click racing the rerun that disables the button) is refused
        monkeypatch.setattr(live_session.st, "session_state", {live_session.RUN_KEY: first})
        with pytest.raises(UserError, match="running already: stop it first"):
            live_session.start(live_url, speed=60, seed=0, follow=None)
        assert first.running
    finally:
        first.stop()
    assert not first.running


def test_an_unknown_typed_customer_is_one_line(live_url, monkeypatch):
    at = _open(live_url, monkeypatch)
    at.text_input(key="live_follow_typed").input("nobody").run()
    _button(at, "Start the market").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["unknown customer 'nobody'"]
    assert live_session.RUN_KEY not in at.session_state

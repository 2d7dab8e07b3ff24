"""The dashboard's caches last exactly as long as the store and the "as of" are unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from dashboard import data
from engine.db import open_store, session_scope
from engine.profiles import score_store, track
from engine.store import store_version

from .factories import build_small_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # no Streamlit runtime here


@pytest.fixture
def url(db_url: str) -> Iterator[str]:
    build_small_store(db_url)
    data.load_store_version.clear()
    yield db_url
    data.get_engine.clear()


def _counting() -> tuple[list[tuple[str, datetime | None]], data.Cached]:
    calls: list[tuple[str, datetime | None]] = []

    @data.versioned(show_spinner=False)
    def load(url: str, as_of: datetime | None) -> int:
        calls.append((url, as_of))
        return len(calls)

    load.clear()
    return calls, load


def _write(url: str, work) -> None:  # type: ignore[no-untyped-def]
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            work(session)
    finally:
        engine.dispose()
    data.load_store_version.clear()  # what its short time to live does on its own


def test_cache_stays_warm_while_the_store_is_unchanged(url: str) -> None:
    calls, load = _counting()
    assert load(url, None) == load(url, None) == 1
    data.load_store_version.clear()  # re-reading the version alone changes nothing
    assert load(url, None) == 1
    assert len(calls) == 1


def test_a_tracked_event_invalidates(url: str) -> None:
    calls, load = _counting()
    load(url, None)
    _write(
        url,
        lambda s: track(
            s,
            {
                "event_type": "product_view",
                "customer_id": "c1",
                "product_id": "p2",
                "occurred_at": "2024-03-12T09:00:00",
            },
        ),
    )
    assert load(url, None) == 2
    assert load(url, None) == 2


def test_a_new_score_run_invalidates(url: str) -> None:
    calls, load = _counting()
    load(url, None)
    _write(url, lambda s: score_store(s))
    assert load(url, None) == 2
    before = store_version_now(url)
    _write(url, lambda s: score_store(s, computed_at=datetime(2030, 1, 1)))
    assert store_version_now(url) != before
    assert load(url, None) == 3


def test_a_new_as_of_is_its_own_entry(url: str) -> None:
    calls, load = _counting()
    march = datetime(2024, 3, 5)
    assert load(url, None) == 1
    assert load(url, march) == 2
    assert load(url, march) == 2
    assert load(url, None) == 1
    assert calls == [(url, None), (url, march)]


def store_version_now(url: str) -> str:
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            return store_version(session)
    finally:
        engine.dispose()

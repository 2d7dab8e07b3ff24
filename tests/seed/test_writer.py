"""Writing a market into a store: determinism, refusal, reset, both backends."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, insert, select, text

from engine.db import open_store
from engine.errors import UserError
from engine.models import Base, IdentityLink, SegmentMembership, SegmentRule
from seed import MarketConfig, generate_market, identity_links, write_market

TINY = {"customers": 200, "products": 120, "days": 60}
TABLES = (
    "customers",
    "products",
    "daily_weather",
    "orders",
    "order_lines",
    "events",
    "reviews",
    "identity_links",
)


@pytest.fixture(scope="module")
def tiny():
    return generate_market(MarketConfig(**TINY, seed=5))


def _contents(engine: Engine, table_name: str) -> pd.DataFrame:
    table = Base.metadata.tables[table_name]
    columns = [c for c in table.columns if c.name != "id"]
    keys = [c for c in table.primary_key.columns if c.name != "id"] or [table.c.event_id]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(*keys)).all()
    return pd.DataFrame(rows, columns=[c.name for c in columns])


def _seed_file(path: Path, seed: int) -> Engine:
    engine = open_store(f"sqlite:///{path}")
    write_market(engine, generate_market(MarketConfig(**TINY, seed=seed)))
    return engine


def test_same_seed_gives_identical_rows_in_two_fresh_databases(tmp_path):
    first = _seed_file(tmp_path / "a.db", 5)
    second = _seed_file(tmp_path / "b.db", 5)
    other = _seed_file(tmp_path / "c.db", 6)
    try:
        for name in TABLES:
            a, b = _contents(first, name), _contents(second, name)
            assert len(a) > 0, name
            pd.testing.assert_frame_equal(a, b, obj=name)
        assert not _contents(first, "orders").equals(_contents(other, "orders"))
    finally:
        for engine in (first, second, other):
            engine.dispose()


def test_write_on_every_backend_round_trips(store, tiny):
    written = write_market(store, tiny)
    for name, frame in tiny.tables().items():
        assert written[name] == len(frame)
        with store.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(Base.metadata.tables[name]))
        assert count == len(frame), name
    orders = _contents(store, "orders")
    expected = tiny.orders.sort_values("order_id").reset_index(drop=True)
    assert orders["order_id"].tolist() == expected["order_id"].tolist()
    assert list(pd.to_datetime(orders["ordered_at"])) == list(expected["ordered_at"])
    events = _contents(store, "events")
    assert events["rating"].notna().sum() == len(tiny.reviews)
    assert written["identity_links"] == len(identity_links(tiny.events)) > 0


def test_non_empty_store_is_refused_without_reset(sqlite_store, tiny):
    write_market(sqlite_store, tiny)
    with pytest.raises(UserError, match="--reset"):
        write_market(sqlite_store, tiny)


def test_reset_replaces_everything_but_segment_rules(sqlite_store, tiny):
    write_market(sqlite_store, tiny)
    now = datetime(2026, 11, 1)
    with sqlite_store.begin() as connection:
        connection.execute(
            insert(SegmentMembership).values(
                customer_id=tiny.customers["customer_id"].iloc[0],
                segment="x",
                computed_at=now,
                as_of=now,
            )
        )
        connection.execute(
            insert(SegmentRule).values(
                segment="night_owl", score="night_shopping", threshold=55.0, updated_at=now
            )
        )
    smaller = generate_market(MarketConfig(customers=50, products=40, days=30, seed=1))
    written = write_market(sqlite_store, smaller, reset=True)
    assert written["customers"] == 50
    with sqlite_store.connect() as connection:
        assert connection.scalar(text("select count(*) from customers")) == 50
        assert connection.scalar(text("select count(*) from segment_memberships")) == 0
        assert connection.scalar(text("select count(*) from segment_rules")) == 1
        links = connection.scalar(select(func.count()).select_from(IdentityLink))
    assert links == len(identity_links(smaller.events))


def test_identity_links_take_the_first_event_carrying_both_ids():
    events = pd.DataFrame(
        {
            "anonymous_id": ["a1", "a1", "a1", "a2", None],
            "customer_id": [None, "C2", "C2", None, "C3"],
            "occurred_at": pd.to_datetime(
                ["2026-01-01", "2026-01-03", "2026-01-02", "2026-01-01", "2026-01-01"]
            ),
        }
    )
    links = identity_links(events)
    assert links.to_dict("records") == [
        {"anonymous_id": "a1", "customer_id": "C2", "linked_at": pd.Timestamp("2026-01-02")}
    ]


def test_progress_is_reported_per_table(sqlite_store, tiny):
    seen: dict[str, tuple[int, int]] = {}
    write_market(sqlite_store, tiny, progress=lambda t, d, n: seen.__setitem__(t, (d, n)))
    assert seen["events"] == (len(tiny.events), len(tiny.events))
    assert set(seen) >= {"customers", "orders", "order_lines", "reviews"}


def test_seeded_db_url_fixture_holds_the_small_market(seeded_db_url, small_market):
    engine = open_store(seeded_db_url, upgrade=False)
    try:
        with engine.connect() as connection:
            for name in ("customers", "orders", "events", "reviews"):
                count = connection.scalar(
                    select(func.count()).select_from(Base.metadata.tables[name])
                )
                assert count == len(getattr(small_market, name)), name
    finally:
        engine.dispose()

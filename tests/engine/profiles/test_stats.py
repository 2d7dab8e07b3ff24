"""Sufficient statistics from SQL, on both backends, against hand-worked values."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from engine.db import session_scope
from engine.profiles.stats import (
    INTEREST_LAMBDA,
    RATING_LAMBDA,
    activity_flags,
    compute_stats,
    customer_brands,
    customer_impulse,
    customer_interest,
    customer_orders_365,
    decay_weight,
)
from engine.profiles.stats_history import HistoryAsOf, read_history

from .factories import AS_OF, build


def test_hand_store_statistics(store):
    with session_scope(store) as session:
        build(session)
    with session_scope(store) as session:
        stats = compute_stats(session, as_of=AS_OF)
    rows = stats.set_index("customer_id")
    assert list(rows.index) == ["c1", "c2", "c3"]
    c1 = rows.loc["c1"]
    expected = {
        "orders": 2,
        "orders_365": 2,
        "lines": 3,
        "disc_lines": 1,
        "branded_lines": 2,
        "top2_lines": 2,
        "viewed_lines": 3,
        "quick_lines": 1,
        "views": 3,
        "searches": 1,
        "activity": 6,
        "weekend": 2,
        "night": 2,
        "mobile": 4,
        "reviews": 2,
        "interest_events": 6,
    }
    assert {k: int(c1[k]) for k in expected} == expected
    assert c1["spend"] == pytest.approx(29.0)
    w2 = decay_weight(datetime(2024, 1, 11), RATING_LAMBDA)
    w5 = decay_weight(datetime(2024, 1, 12), RATING_LAMBDA)
    assert c1["rating_wsum"] / c1["rating_w"] == pytest.approx((2 * w2 + 5 * w5) / (w2 + w5))
    assert c1["top_category"] == "Coffee"
    coffee = sum(
        decay_weight(t, INTEREST_LAMBDA)
        for t in (
            datetime(2024, 1, 6, 9, 50),
            datetime(2024, 1, 1, 12),  # views
            datetime(2024, 1, 6, 10),
            datetime(2024, 1, 6, 10),
            datetime(2024, 1, 10, 23, 30),
        )
    )
    assert c1["top_interest"] == pytest.approx(coffee, rel=1e-9)
    # c2's activity is its stitched anonymous browsing: Sunday and Monday noon.
    c2 = rows.loc["c2"]
    assert (int(c2["views"]), int(c2["activity"]), int(c2["weekend"]), int(c2["orders"])) == (
        2,
        2,
        1,
        0,
    )
    assert c2["top_category"] == "Books"
    c3 = rows.loc["c3"]
    assert int(c3["activity"]) == 0 and c3["top_category"] is None and c3["spend"] == 0.0


def test_one_customer_lookups_match_the_batch(store):
    """The look-ups tracking uses give the batch's figures for each customer."""
    with session_scope(store) as session:
        build(session)
    with session_scope(store) as session:
        rows = compute_stats(session, as_of=AS_OF).set_index("customer_id")
        assert customer_brands(session, "c1", AS_OF) == {"Acme": 1, "Beta": 1}
        for cid in ("c1", "c2", "c3"):
            interest = customer_interest(session, cid, AS_OF)
            row = rows.loc[cid]
            assert sum(n for n, _ in interest.values()) == row["interest_events"]
            assert sum(w for _, w in interest.values()) == pytest.approx(row["interest_total"])
            assert customer_impulse(session, cid, AS_OF) == (
                row["viewed_lines"],
                row["quick_lines"],
            )
            assert customer_orders_365(session, cid, AS_OF) == row["orders_365"]
        assert customer_interest(session, "c1", AS_OF)["Books"][0] == 1


def test_many_customers_history_in_one_read_is_each_ones_lookups(store):
    """What tracking re-reads in one statement (each customer as of their own moments,
    a part skipped without its moment) equals the one-customer look-ups."""
    with session_scope(store) as session:
        build(session)
    earlier = datetime(2024, 1, 10, 23, 30)
    wanted = [
        HistoryAsOf("c1", AS_OF, AS_OF, AS_OF),
        HistoryAsOf("c2", earlier, earlier),
        HistoryAsOf("c3", AS_OF, None, AS_OF),
        HistoryAsOf("nobody", AS_OF, AS_OF),
    ]
    with session_scope(store) as session:
        found = read_history(session.connection(), wanted)
        for want in wanted[:3]:
            got, cid = found[want.customer_id], want.customer_id
            assert got.orders_365 == customer_orders_365(session, cid, want.orders_at)
            if want.interest_at is None:
                assert got.interest is None
            else:
                assert (got.viewed_lines, got.quick_lines) == customer_impulse(
                    session, cid, want.interest_at
                )
                expected = customer_interest(session, cid, want.interest_at)
                assert got.interest is not None and got.interest.keys() == expected.keys()
                for category, (n, w) in expected.items():
                    assert got.interest[category][0] == n
                    assert got.interest[category][1] == pytest.approx(w, rel=1e-12)
            assert got.brands == (
                None if want.brands_at is None else customer_brands(session, cid, want.brands_at)
            )
        assert found["c1"].brands == {"Acme": 1, "Beta": 1}
        assert found["nobody"].orders_365 == 0 and found["nobody"].interest == {}


def test_as_of_is_strict_and_windows_move(sqlite_store):
    with session_scope(sqlite_store) as session:
        build(session)
    with session_scope(sqlite_store) as session:
        # o2 at 2024-01-10 23:30 is not strictly before itself.
        stats = compute_stats(session, as_of=datetime(2024, 1, 10, 23, 30))
        c1 = stats.set_index("customer_id").loc["c1"]
        assert (int(c1["orders"]), int(c1["lines"]), int(c1["reviews"])) == (1, 2, 0)
        # A year and a day later o1 and o2 have left the 365-day window.
        later = compute_stats(session, as_of=datetime(2025, 1, 11))
        c1 = later.set_index("customer_id").loc["c1"]
        assert (int(c1["orders"]), int(c1["orders_365"])) == (2, 0)


def test_customer_filter_matches_whole_store(sqlite_store):
    with session_scope(sqlite_store) as session:
        build(session)
    with session_scope(sqlite_store) as session:
        whole = compute_stats(session, as_of=AS_OF)
        for cid in ("c1", "c2"):
            one = compute_stats(session, as_of=AS_OF, customer_ids=[cid])
            a = whole.set_index("customer_id").loc[cid]
            b = one.set_index("customer_id").loc[cid]
            for name in a.index:
                if isinstance(a[name], float):
                    assert math.isclose(a[name], b[name], rel_tol=1e-12)
                else:
                    assert a[name] == b[name]


def test_generated_activity_flags_match_python(store):
    """The generated weekend/night/mobile columns follow ``activity_flags`` on each backend,
    at the edges: the last microsecond of a Sunday, midnight, 05:59 and 22:00."""
    from sqlalchemy import select

    from engine.models import Customer, Order

    moments = {
        "sun": (datetime(2024, 6, 2, 23, 59, 59, 999999), "ios", None),
        "mon": (datetime(2024, 6, 3, 0, 0, 0), "web", "mobile"),
        "sat": (datetime(2024, 6, 8, 5, 59, 59), None, None),
        "wed": (datetime(2024, 6, 5, 22, 0, 0, 1), "store", "desktop"),
        "thu": (datetime(2024, 6, 6, 6, 0, 0), "mobile_web", "tablet"),
    }
    with session_scope(store) as session:
        session.add(Customer(customer_id="c"))
        session.flush()
        session.add_all(
            Order(order_id=k, customer_id="c", ordered_at=t, channel=ch, device=dv)
            for k, (t, ch, dv) in moments.items()
        )
    with session_scope(store) as session:
        rows = session.execute(
            select(Order.order_id, Order.at_weekend, Order.at_night, Order.on_mobile)
        ).all()
    got = {r[0]: {"weekend": r[1], "night": r[2], "mobile": r[3]} for r in rows}
    assert got == {k: activity_flags(*v) for k, v in moments.items()}


def test_parallel_ranges_match_one_pass(sqlite_store, monkeypatch):
    """Customer ranges scored in worker processes add up to the single pass exactly."""
    from engine.profiles import stats_parallel as stats_module

    with session_scope(sqlite_store) as session:
        build(session)
    with session_scope(sqlite_store) as session:
        single = compute_stats(session, as_of=AS_OF, workers=1)
        monkeypatch.setattr(stats_module, "MIN_PARTITION_CUSTOMERS", 1)
        monkeypatch.setattr(stats_module, "worker_peak_mib", 0.0)
        split = compute_stats(session, as_of=AS_OF, workers=3)
    assert stats_module.worker_peak_mib > 0  # two of the three ranges ran in workers
    assert split.equals(single)

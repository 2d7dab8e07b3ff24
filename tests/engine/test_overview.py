"""The overview aggregates on a hand-built store whose answers are worked out by hand.

The store (as_of = 2024-01-05 00:00 unless said otherwise):

====  ====  ================  ==========  =======  =======  ===================================
order cust  ordered_at        channel     device   weather  lines (paid = qty*unit_price)
====  ====  ================  ==========  =======  =======  ===================================
o1    c1    01-01 10:00       web         desktop  sunny    p1 2x45 = 90 (10 off); p2 1x20 -> 110
o2    c2    01-01 23:00       ios         mobile   rainy    p3 1x30 = 30
o3    c1    01-03 09:00       web         -        -        p1 1x45 = 45 (5 off)
o4    c3    01-05 12:00       web         desktop  sunny    p2 3x20 = 60   (after as_of)
====  ====  ================  ==========  =======  =======  ===================================

Products: p1 shoes/acme, p2 bags/(no brand), p3 (no category)/zen.
Events: e1 c1 view 01-01 09:00 web/desktop; e2 anonymous view 01-02 08:00 mobile_web/mobile;
e3 c2 cart_add 01-01 22:30 ios/mobile; e4 c3 search 01-04 23:59:59 (no channel, no device);
e5 c3 view 01-05 00:00 - exactly as_of, so excluded.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from engine.db import session_scope
from engine.models import Customer, Event, Order, OrderLine, Product
from engine.overview import (
    activity_over_time,
    channel_mix,
    choose_period,
    device_mix,
    overview_kpis,
    store_overview,
    top_by_revenue,
    weather_mix,
)

AS_OF = datetime(2024, 1, 5)


def _day(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, minute, second)


@pytest.fixture
def shop(store):
    with session_scope(store) as session:
        session.add_all([Customer(customer_id=c) for c in ("c1", "c2", "c3")])
        session.add_all(
            [
                Product(product_id="p1", category="shoes", brand="acme", price=50.0),
                Product(product_id="p2", category="bags", brand=None, price=20.0),
                Product(product_id="p3", category=None, brand="zen", price=30.0),
            ]
        )
        session.flush()
        session.add_all(
            [
                Order(
                    order_id="o1",
                    customer_id="c1",
                    ordered_at=_day(1, 10),
                    channel="web",
                    device="desktop",
                    weather="sunny",
                ),
                Order(
                    order_id="o2",
                    customer_id="c2",
                    ordered_at=_day(1, 23),
                    channel="ios",
                    device="mobile",
                    weather="rainy",
                ),
                Order(order_id="o3", customer_id="c1", ordered_at=_day(3, 9), channel="web"),
                Order(
                    order_id="o4",
                    customer_id="c3",
                    ordered_at=_day(5, 12),
                    channel="web",
                    device="desktop",
                    weather="sunny",
                ),
            ]
        )
        session.flush()
        session.add_all(
            [
                OrderLine(
                    order_id="o1",
                    line_no=1,
                    product_id="p1",
                    quantity=2,
                    unit_price=45,
                    discount=10,
                ),
                OrderLine(
                    order_id="o1", line_no=2, product_id="p2", quantity=1, unit_price=20, discount=0
                ),
                OrderLine(
                    order_id="o2", line_no=1, product_id="p3", quantity=1, unit_price=30, discount=0
                ),
                OrderLine(
                    order_id="o3", line_no=1, product_id="p1", quantity=1, unit_price=45, discount=5
                ),
                OrderLine(
                    order_id="o4", line_no=1, product_id="p2", quantity=3, unit_price=20, discount=0
                ),
                Event(
                    customer_id="c1",
                    event_type="product_view",
                    product_id="p1",
                    occurred_at=_day(1, 9),
                    channel="web",
                    device="desktop",
                ),
                Event(
                    anonymous_id="a1",
                    event_type="product_view",
                    product_id="p2",
                    occurred_at=_day(2, 8),
                    channel="mobile_web",
                    device="mobile",
                ),
                Event(
                    customer_id="c2",
                    event_type="cart_add",
                    product_id="p3",
                    occurred_at=_day(1, 22, 30),
                    channel="ios",
                    device="mobile",
                ),
                Event(
                    customer_id="c3",
                    event_type="search",
                    query="bag",
                    occurred_at=_day(4, 23, 59, 59),
                ),
                Event(
                    customer_id="c3",
                    event_type="product_view",
                    product_id="p2",
                    occurred_at=_day(5),
                ),
            ]
        )
    return store


def test_kpis_count_only_activity_strictly_before_as_of(shop):
    with session_scope(shop) as session:
        kpis = overview_kpis(session, as_of=AS_OF)
    assert kpis.customers == 3  # c3 only through the search event at 23:59:59
    assert kpis.products == 3
    assert kpis.orders == 3
    assert kpis.revenue == pytest.approx(185.0)
    assert kpis.events == 4
    assert kpis.average_order_value == pytest.approx(185.0 / 3)


def test_kpis_without_as_of_include_the_newest_rows(shop):
    with session_scope(shop) as session:
        kpis = overview_kpis(session)
    assert (kpis.orders, kpis.events, kpis.customers) == (4, 5, 3)
    assert kpis.revenue == pytest.approx(245.0)


def test_kpis_before_any_activity(shop):
    with session_scope(shop) as session:
        kpis = overview_kpis(session, as_of=datetime(2023, 12, 31))
    assert (kpis.customers, kpis.orders, kpis.events, kpis.revenue) == (0, 0, 0, 0.0)
    assert kpis.products == 3
    assert kpis.average_order_value is None


def test_daily_activity_fills_quiet_days(shop):
    with session_scope(shop) as session:
        activity, by_type, period = activity_over_time(session, as_of=AS_OF)
    assert period == "day"
    assert activity["period"].tolist() == [pd.Timestamp(2024, 1, d) for d in (1, 2, 3, 4)]
    assert activity["orders"].tolist() == [2, 0, 1, 0]
    assert activity["revenue"].tolist() == pytest.approx([140.0, 0.0, 45.0, 0.0])
    assert activity["events"].tolist() == [2, 1, 0, 1]
    assert list(by_type.itertuples(index=False, name=None)) == [
        (pd.Timestamp(2024, 1, 1), "cart_add", 1),
        (pd.Timestamp(2024, 1, 1), "product_view", 1),
        (pd.Timestamp(2024, 1, 2), "product_view", 1),
        (pd.Timestamp(2024, 1, 4), "search", 1),
    ]


def test_weekly_activity_starts_on_monday(shop):
    # 2024-01-01 is a Monday: the four active days fall into one week.
    with session_scope(shop) as session:
        activity, by_type, period = activity_over_time(session, as_of=AS_OF, period="week")
    assert period == "week"
    assert list(activity.itertuples(index=False, name=None)) == [
        (pd.Timestamp(2024, 1, 1), 3, pytest.approx(185.0), 4)
    ]
    assert by_type.groupby("event_type")["events"].sum().to_dict() == {
        "cart_add": 1,
        "product_view": 2,
        "search": 1,
    }


def test_choose_period():
    assert choose_period(None, AS_OF) == "day"
    assert choose_period(datetime(2023, 9, 7), AS_OF) == "day"  # exactly 120 days
    assert choose_period(datetime(2023, 9, 6), AS_OF) == "week"


def test_channel_mix(shop):
    with session_scope(shop) as session:
        mix = channel_mix(session, as_of=AS_OF)
    assert list(mix.columns) == ["channel", "orders", "revenue", "events"]
    assert list(mix.itertuples(index=False, name=None)) == [
        ("web", 2, pytest.approx(155.0), 1),
        ("ios", 1, pytest.approx(30.0), 1),
        ("(unknown)", 0, 0.0, 1),
        ("mobile_web", 0, 0.0, 1),
    ]


def test_device_mix(shop):
    with session_scope(shop) as session:
        mix = device_mix(session, as_of=AS_OF)
    assert list(mix.itertuples(index=False, name=None)) == [
        ("mobile", 1, pytest.approx(30.0), 2),
        ("(unknown)", 1, pytest.approx(45.0), 1),
        ("desktop", 1, pytest.approx(110.0), 1),
    ]


def test_top_categories_and_brands_name_missing_values(shop):
    with session_scope(shop) as session:
        categories = top_by_revenue(session, by="category", as_of=AS_OF)
        brands = top_by_revenue(session, by="brand", as_of=AS_OF)
        top_two = top_by_revenue(session, by="category", as_of=AS_OF, limit=2)
    assert list(categories.itertuples(index=False, name=None)) == [
        ("shoes", 135.0, 2, 3.0),
        ("(none)", 30.0, 1, 1.0),
        ("bags", 20.0, 1, 1.0),
    ]
    assert list(brands.itertuples(index=False, name=None)) == [
        ("acme", 135.0, 2, 3.0),
        ("zen", 30.0, 1, 1.0),
        ("(none)", 20.0, 1, 1.0),
    ]
    assert top_two["category"].tolist() == ["shoes", "(none)"]


def test_top_by_revenue_refuses_other_columns(shop):
    with session_scope(shop) as session, pytest.raises(ValueError, match="category"):
        top_by_revenue(session, by="price", as_of=AS_OF)  # type: ignore[arg-type]


def test_weather_mix(shop):
    with session_scope(shop) as session:
        mix = weather_mix(session, as_of=AS_OF)
    assert list(mix.itertuples(index=False, name=None)) == [
        ("(unknown)", 1, 45.0),
        ("rainy", 1, 30.0),
        ("sunny", 1, 110.0),
    ]


def test_store_overview_bundles_the_same_numbers(shop):
    with session_scope(shop) as session:
        overview = store_overview(session, as_of=AS_OF)
        kpis = overview_kpis(session, as_of=AS_OF)
    assert overview.as_of == AS_OF
    assert overview.kpis == kpis
    assert overview.activity["orders"].sum() == kpis.orders
    assert overview.channels["events"].sum() == kpis.events
    assert overview.weather["revenue"].sum() == pytest.approx(kpis.revenue)


def test_empty_store_overview(store):
    with session_scope(store) as session:
        overview = store_overview(session)
    assert overview.kpis.orders == 0 and overview.kpis.average_order_value is None
    for frame in (
        overview.activity,
        overview.events_by_type,
        overview.channels,
        overview.devices,
        overview.categories,
        overview.brands,
        overview.weather,
    ):
        assert frame.empty
    assert list(overview.activity.columns) == ["period", "orders", "revenue", "events"]

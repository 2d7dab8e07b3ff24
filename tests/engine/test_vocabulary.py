"""One vocabulary: the night, the weekend, mobile channels and slugs mean the same
everywhere (schema, scores, recommendations, importer, track(), seed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from engine.db import session_scope
from engine.importing import import_files
from engine.models import Event, Order
from engine.profiles.stats import activity_flags
from engine.profiles.tracking import track
from engine.profiles.validation import EVENT_FIELD_LENGTHS
from engine.recommend.context import parse_context
from engine.vocabulary import (
    NIGHT_HOUR_LIST,
    TIMES_OF_DAY,
    canonical,
    hour_bucket,
    hour_buckets,
    is_night,
    slug,
)


def test_the_recommenders_night_is_the_scores_night():
    night = [h for h in range(24) if hour_bucket(h) == "night"]
    assert night == sorted(NIGHT_HOUR_LIST) == [h for h in range(24) if is_night(h)]
    assert [activity_flags(datetime(2024, 6, 3, h), None, None)["night"] for h in range(24)] == [
        int(is_night(h)) for h in range(24)
    ]
    assert parse_context(time_of_day="5").time_of_day == "night"
    assert parse_context(time_of_day="6").time_of_day == "morning"


def test_hour_buckets_cover_every_hour_like_hour_bucket():
    hours = pd.Series(range(24))
    assert hour_buckets(hours).tolist() == [hour_bucket(h) for h in range(24)]
    assert set(hour_buckets(hours)) == set(TIMES_OF_DAY)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("iOS", "ios"),
        ("iPhone", "ios"),
        ("Mobile Web", "mobile_web"),
        ("in-store", "store"),
        ("web", "web"),
        ("Kiosk", "kiosk"),
    ],
)
def test_a_channel_is_spelled_one_way(raw, expected):
    assert canonical("channel", raw) == expected


def test_slug():
    assert slug("Home & Garden") == "home_garden"
    assert slug("  Books ") == "books"


def test_event_limits_are_the_schemas():
    assert EVENT_FIELD_LENGTHS["query"] == Event.__table__.c["query"].type.length
    assert EVENT_FIELD_LENGTHS["channel"] == Event.__table__.c["channel"].type.length


def test_an_imported_and_a_tracked_ios_channel_both_count_as_mobile(store, tmp_path: Path):
    at = datetime(2024, 1, 2, 12, 0)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at,channel,device\n"
        f"c1,o1,p1,1,10,{at.isoformat()},iOS,\n"
        f"c1,o2,p1,1,10,{at.isoformat()},iPhone,\n"
        f"c1,o3,p1,1,10,{at.isoformat()},web,\n",
        encoding="utf-8",
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,event_type,occurred_at,customer_id,product_id,channel\n"
        f"i1,product_view,{at.isoformat()},c1,p1,iOS\n"
        f"i2,product_view,{at.isoformat()},c1,p1,iPhone\n",
        encoding="utf-8",
    )
    import_files(store, orders=orders, events=events)
    with session_scope(store) as session:
        for k, channel in enumerate(("iOS", "iPhone", "web"), start=1):
            track(
                session,
                {
                    "event_id": f"t{k}",
                    "event_type": "product_view",
                    "customer_id": "c1",
                    "product_id": "p1",
                    "channel": channel,
                    "occurred_at": (at + timedelta(hours=k)).isoformat(),
                },
            )
    with session_scope(store) as session:
        mobile_orders = dict(session.execute(select(Order.order_id, Order.on_mobile)).all())
        mobile_events = dict(session.execute(select(Event.event_id, Event.on_mobile)).all())
        channels = dict(session.execute(select(Event.event_id, Event.channel)).all())
    assert mobile_orders == {"o1": 1, "o2": 1, "o3": 0}
    assert mobile_events == {"i1": 1, "i2": 1, "t1": 1, "t2": 1, "t3": 0}
    assert channels["i1"] == channels["t1"] == "ios" and channels["i2"] == channels["t2"]

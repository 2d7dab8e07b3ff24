"""The bulk writer's fast paths store exactly what the ORM would."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select

from engine.bulk import frame_records, insert_frame
from engine.db import session_scope
from engine.models import Customer, Event, Product, ScoreCalibration


def test_fast_path_round_trips_every_type(store):
    products = pd.DataFrame(
        {
            "product_id": ["p1", "p2"],
            "name": ["Umbrella", None],
            "price": [9.5, np.nan],
            "in_stock": [True, False],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": ["e1", None],
            "customer_id": ["c1", None],
            "anonymous_id": [None, "a1"],
            "event_type": ["product_view", "search"],
            "product_id": ["p1", None],
            "occurred_at": pd.to_datetime(
                ["2024-03-01 10:15:30.123456", "2024-03-02 00:00:00"], format="ISO8601"
            ),
            "rating": pd.array([None, 4], dtype="Int64"),
        }
    )
    with store.begin() as connection:
        insert_frame(connection, Customer.__table__, pd.DataFrame({"customer_id": ["c1"]}))
        assert insert_frame(connection, Product.__table__, products) == 2
        insert_frame(connection, Product.__table__, pd.DataFrame({"product_id": ["p3"]}))
        assert insert_frame(connection, Event.__table__, events, chunk_size=1) == 2
    with session_scope(store) as session:
        p1, p2, _ = session.scalars(select(Product).order_by(Product.product_id)).all()
        assert (p1.name, p1.price, p1.in_stock) == ("Umbrella", 9.5, True)
        assert (p2.name, p2.price, p2.in_stock) == (None, None, False)
        assert session.get(Product, "p3").in_stock is True  # the column default applies
        e1, e2 = session.scalars(select(Event).order_by(Event.occurred_at)).all()
        assert e1.occurred_at == datetime(2024, 3, 1, 10, 15, 30, 123456)
        assert (e1.customer_id, e1.rating, e2.anonymous_id, e2.rating) == ("c1", None, "a1", 4)
        # Timestamps compare correctly in SQL against ORM-bound datetimes.
        later = select(Event.event_type).where(Event.occurred_at > datetime(2024, 3, 1, 12))
        assert session.scalars(later).all() == ["search"]


def test_frame_records_turn_missing_values_into_none():
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None]})
    assert frame_records(frame) == [{"a": 1.5, "b": "x"}, {"a": None, "b": None}]


def test_fast_path_serialises_json_columns(store):
    stamp = pd.to_datetime(["2024-03-01", "2024-03-02"])
    calibrations = pd.DataFrame(
        {
            "id": [1, 2],
            "as_of": stamp,
            "computed_at": stamp,
            "reference": [{"median_spend": 0.5, "why": ["rain"]}, {}],
        }
    )
    with store.begin() as connection:
        assert insert_frame(connection, ScoreCalibration.__table__, calibrations) == 2
    with session_scope(store) as session:
        first, second = session.scalars(
            select(ScoreCalibration).order_by(ScoreCalibration.id)
        ).all()
        assert first.reference == {"median_spend": 0.5, "why": ["rain"]}
        assert second.reference == {}

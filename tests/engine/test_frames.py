from __future__ import annotations

from datetime import datetime

import pandas as pd

from engine.db import session_scope
from engine.frames import (
    EVENT_COLUMNS,
    ORDER_LINE_COLUMNS,
    load_events,
    load_order_lines,
    load_products,
    load_reviews,
)
from engine.models import Customer, Event, IdentityLink, Order, OrderLine, Product, Review


def _tiny_store(session) -> None:
    session.add_all(
        [
            Customer(customer_id="c1"),
            Customer(customer_id="c2"),
            Product(product_id="p1", category="Coffee", brand="Acme", price=4.0, list_price=5.0),
            Product(product_id="p2", price=10.0),
        ]
    )
    session.flush()
    session.add_all(
        [
            Order(order_id="o1", customer_id="c1", ordered_at=datetime(2024, 1, 1, 9)),
            Order(order_id="o2", customer_id="c1", ordered_at=datetime(2024, 2, 1, 9)),
        ]
    )
    session.flush()
    session.add_all(
        [
            OrderLine(
                order_id="o1", line_no=1, product_id="p1", quantity=2, unit_price=5.0, discount=1.0
            ),
            OrderLine(
                order_id="o1", line_no=2, product_id="p2", quantity=1, unit_price=10.0, discount=0.0
            ),
            OrderLine(
                order_id="o2", line_no=1, product_id="p1", quantity=1, unit_price=5.0, discount=0.0
            ),
            Review(
                review_id="r1",
                customer_id="c1",
                product_id="p1",
                rating=2,
                reviewed_at=datetime(2024, 1, 5),
            ),
            IdentityLink(anonymous_id="a1", customer_id="c2", linked_at=datetime(2024, 1, 3)),
            Event(
                customer_id="c1",
                event_type="product_view",
                product_id="p1",
                occurred_at=datetime(2024, 1, 1, 8),
            ),
            Event(
                anonymous_id="a1",
                event_type="search",
                query="coffee",
                occurred_at=datetime(2024, 1, 2),
            ),
            Event(
                anonymous_id="zz",
                event_type="product_view",
                product_id="p2",
                occurred_at=datetime(2024, 3, 1),
            ),
        ]
    )


def test_order_lines_respect_as_of_and_compute_amount(store):
    with session_scope(store) as session:
        _tiny_store(session)
    with session_scope(store) as session:
        lines = load_order_lines(session, as_of=datetime(2024, 2, 1, 9))  # strictly before
        assert list(lines.columns) == ORDER_LINE_COLUMNS
        assert lines["order_id"].tolist() == ["o1", "o1"]
        assert lines["amount"].tolist() == [10.0, 10.0]
        assert pd.isna(lines.loc[1, "category"])
        assert lines["ordered_at"].dtype == "datetime64[ns]"
        assert len(load_order_lines(session)) == 3


def test_events_are_stitched_through_identity_links(store):
    with session_scope(store) as session:
        _tiny_store(session)
    with session_scope(store) as session:
        events = load_events(session)
        assert list(events.columns) == EVENT_COLUMNS
        assert events["customer_id"].tolist()[:2] == ["c1", "c2"]
        assert pd.isna(events["customer_id"].iloc[2])
        assert len(load_events(session, customer_ids=["c2"])) == 1
        assert len(load_events(session, as_of=datetime(2024, 1, 2))) == 1


def test_reviews_and_products(store):
    with session_scope(store) as session:
        _tiny_store(session)
    with session_scope(store) as session:
        reviews = load_reviews(session, as_of=datetime(2024, 1, 6))
        assert reviews[["review_id", "rating", "category"]].values.tolist() == [["r1", 2, "Coffee"]]
        assert load_reviews(session, as_of=datetime(2024, 1, 5)).empty
        assert load_products(session)["product_id"].tolist() == ["p1", "p2"]

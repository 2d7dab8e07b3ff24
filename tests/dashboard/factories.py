"""A tiny, hand-made store for the dashboard's tests (no seed needed, answers known).

Ten days of a shop with three customers and three products: every day ``d``
(0..9, from 2024-03-01) customer ``c{d % 3}`` places one order of ``d + 1`` units
of ``p{d % 3}`` at 10.00 each (no discount), and views that product an hour before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.db import open_store, session_scope
from engine.models import Customer, Event, Order, OrderLine, Product

START = datetime(2024, 3, 1)
DAYS = 10
CHANNELS = ("web", "ios", "store")
DEVICES = ("desktop", "mobile", "tablet")
WEATHERS = ("sunny", "rainy", None)


def build_small_store(url: str) -> str:
    """Create the store at ``url`` and fill it; returns ``url``."""
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            session.add_all([Customer(customer_id=f"c{i}", city="Lyon") for i in range(3)])
            session.add_all(
                [
                    Product(product_id="p0", category="shoes", brand="acme", price=10.0),
                    Product(product_id="p1", category="bags", brand="zen", price=10.0),
                    Product(product_id="p2", category=None, brand=None, price=10.0),
                ]
            )
            session.flush()
            for day in range(DAYS):
                at = START + timedelta(days=day, hours=12)
                i = day % 3
                session.add(
                    Order(
                        order_id=f"o{day}",
                        customer_id=f"c{i}",
                        ordered_at=at,
                        channel=CHANNELS[i],
                        device=DEVICES[i],
                        weather=WEATHERS[i],
                    )
                )
                session.add(
                    Event(
                        customer_id=f"c{i}",
                        event_type="product_view",
                        product_id=f"p{i}",
                        occurred_at=at - timedelta(hours=1),
                        channel=CHANNELS[i],
                        device=DEVICES[i],
                    )
                )
            session.flush()
            session.add_all(
                [
                    OrderLine(
                        order_id=f"o{day}",
                        line_no=1,
                        product_id=f"p{day % 3}",
                        quantity=day + 1,
                        unit_price=10.0,
                        discount=0.0,
                    )
                    for day in range(DAYS)
                ]
            )
    finally:
        engine.dispose()
    return url


def orders_before_end_of(day: int) -> tuple[int, float]:
    """Orders and revenue "as of the end of" day index ``day`` (hand-worked)."""
    return day + 1, sum((d + 1) * 10.0 for d in range(day + 1))

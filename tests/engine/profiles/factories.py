"""A tiny hand-made store whose statistics are worked out by hand.

Products: ``p1`` (Coffee, brand Acme, price 4, list 5), ``p2`` (Coffee, Beta,
price 10, list 10), ``p3`` (Books, no brand, price 20, no list price).

Customer ``c1`` (times are UTC; 2024-01-06 is a Saturday):

* order ``o1`` 2024-01-06 10:00 channel ios: ``p1`` x2 paid 4.5 each, 1.0 saved
  (discounted; amount 9), ``p2`` x1 at 10 (amount 10);
* order ``o2`` 2024-01-10 23:30 (Wednesday night) web desktop: ``p2`` x1 at 10 (amount 10);
* views: ``p1`` 2024-01-06 09:50 (10 min before o1: quick), ``p2`` 2024-01-01 12:00
  (web, Monday; days before o1: slow), ``p3`` 2024-01-02 12:00 mobile (never bought);
* search "coffee" 2024-01-03 01:00 (Wednesday night) android;
* purchase event for o1/p1 (not activity: the order counts);
* review of p2, rating 2, 2024-01-11; review of p1 rating 5, 2024-01-12.

Customer ``c2``: anonymous ``a1`` (linked to c2) viewed ``p3`` on 2024-01-07 12:00
(Sunday) and 2024-01-08 12:00 (Monday); no orders. Customer ``c3``: signed up on
2024-01-01, nothing else (a customer with neither a signup nor any data would not
exist at any "as of").
An unlinked anonymous ``zz`` viewed ``p3``.

The store is tiny, so :func:`build` saves a minimum evidence of 1 for every score
(configured beside the segment rules): every formula is then visible, and only a
score with no evidence at all is "not enough data".

Hand-worked statistics as of 2024-02-01 (c1): orders 2, lines 3, disc_lines 1,
spend 29, branded_lines 2 (distinct branded products: Acme p1, Beta p2, bought twice)
so top2 2, viewed_lines 3 (p1 in o1,
p2 in o1 and o2), quick_lines 1, views 3, searches 1, activity = 4 events + 2
orders = 6, weekend 2 (o1 and the Saturday view of p1), night 2 (o2, search),
mobile 4 (o1 ios, view p1 ios, view p3 mobile, search android), reviews 2.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.models import Customer, Event, IdentityLink, Order, OrderLine, Product, Review
from engine.profiles.scoring import SCORES
from engine.profiles.segments import save_min_evidence

AS_OF = datetime(2024, 2, 1)


def build(session: Session, *, min_evidence: int | None = 1) -> None:
    """The hand-made store; ``min_evidence`` (unless ``None``) saved for every score."""
    if min_evidence is not None:
        save_min_evidence(
            session, dict.fromkeys(SCORES, min_evidence), updated_at=datetime(2024, 1, 1)
        )
    session.add_all(
        [
            Customer(customer_id="c1", name="Ada"),
            Customer(customer_id="c2"),
            Customer(customer_id="c3", signup_at=datetime(2024, 1, 1)),
            Product(product_id="p1", category="Coffee", brand="Acme", price=4.0, list_price=5.0),
            Product(product_id="p2", category="Coffee", brand="Beta", price=10.0, list_price=10.0),
            Product(product_id="p3", category="Books", price=20.0),
        ]
    )
    session.flush()
    session.add_all(
        [
            Order(
                order_id="o1", customer_id="c1", ordered_at=datetime(2024, 1, 6, 10), channel="ios"
            ),
            Order(
                order_id="o2",
                customer_id="c1",
                ordered_at=datetime(2024, 1, 10, 23, 30),
                channel="web",
                device="desktop",
            ),
            IdentityLink(anonymous_id="a1", customer_id="c2", linked_at=datetime(2024, 1, 7)),
        ]
    )
    session.flush()
    session.add_all(
        [
            OrderLine(
                order_id="o1", line_no=1, product_id="p1", quantity=2, unit_price=4.5, discount=1.0
            ),
            OrderLine(
                order_id="o1", line_no=2, product_id="p2", quantity=1, unit_price=10.0, discount=0.0
            ),
            OrderLine(
                order_id="o2", line_no=1, product_id="p2", quantity=1, unit_price=10.0, discount=0.0
            ),
            Event(
                customer_id="c1",
                event_type="product_view",
                product_id="p1",
                occurred_at=datetime(2024, 1, 6, 9, 50),
                channel="ios",
            ),
            Event(
                customer_id="c1",
                event_type="product_view",
                product_id="p2",
                occurred_at=datetime(2024, 1, 1, 12),
                channel="web",
            ),
            Event(
                customer_id="c1",
                event_type="product_view",
                product_id="p3",
                occurred_at=datetime(2024, 1, 2, 12),
                device="mobile",
            ),
            Event(
                customer_id="c1",
                event_type="search",
                query="coffee",
                occurred_at=datetime(2024, 1, 3, 1),
                channel="android",
            ),
            Event(
                customer_id="c1",
                event_type="purchase",
                product_id="p1",
                occurred_at=datetime(2024, 1, 6, 10),
                channel="ios",
            ),
            Event(
                anonymous_id="a1",
                event_type="product_view",
                product_id="p3",
                occurred_at=datetime(2024, 1, 7, 12),
                channel="web",
            ),
            Event(
                anonymous_id="a1",
                event_type="product_view",
                product_id="p3",
                occurred_at=datetime(2024, 1, 8, 12),
                channel="web",
            ),
            Event(
                anonymous_id="zz",
                event_type="product_view",
                product_id="p3",
                occurred_at=datetime(2024, 1, 9, 12),
            ),
            Review(
                review_id="r1",
                customer_id="c1",
                product_id="p2",
                rating=2,
                reviewed_at=datetime(2024, 1, 11),
            ),
            Review(
                review_id="r2",
                customer_id="c1",
                product_id="p1",
                rating=5,
                reviewed_at=datetime(2024, 1, 12),
            ),
        ]
    )
    session.flush()

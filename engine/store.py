"""Store-wide queries: what is loaded, and the frames other modules start from.

Every function takes the session first and never commits: the caller owns the
transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import (
    Customer,
    Event,
    Order,
    OrderLine,
    Product,
    Profile,
    Review,
    ScoreCalibration,
    SegmentMembership,
    SegmentRule,
)


@dataclass(frozen=True)
class StoreSummary:
    """Counts and the date range of what is loaded."""

    customers: int
    products: int
    orders: int
    order_lines: int
    events: int
    reviews: int
    segment_memberships: int
    revenue: float
    first_activity: datetime | None
    last_activity: datetime | None

    @property
    def is_empty(self) -> bool:
        return self.customers == 0 and self.products == 0 and self.orders == 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(session: Session, column: Any) -> int:
    return int(session.scalar(select(func.count(column))) or 0)


def store_summary(session: Session) -> StoreSummary:
    """Counts of every table, revenue (what customers paid) and first/last activity."""
    revenue = session.scalar(select(func.sum(OrderLine.quantity * OrderLine.unit_price)))
    firsts = [
        session.scalar(select(func.min(Order.ordered_at))),
        session.scalar(select(func.min(Event.occurred_at))),
    ]
    lasts = [
        session.scalar(select(func.max(Order.ordered_at))),
        session.scalar(select(func.max(Event.occurred_at))),
    ]
    known_firsts: list[datetime] = [f for f in firsts if f is not None]
    known_lasts: list[datetime] = [x for x in lasts if x is not None]
    return StoreSummary(
        customers=_count(session, Customer.customer_id),
        products=_count(session, Product.product_id),
        orders=_count(session, Order.order_id),
        order_lines=_count(session, OrderLine.order_id),
        events=_count(session, Event.id),
        reviews=_count(session, Review.review_id),
        segment_memberships=_count(session, SegmentMembership.customer_id),
        revenue=float(revenue or 0.0),
        first_activity=min(known_firsts) if known_firsts else None,
        last_activity=max(known_lasts) if known_lasts else None,
    )


def is_empty(session: Session) -> bool:
    """True when the store has no customers, products or orders yet."""
    return session.scalar(select(Product.product_id).limit(1)) is None and (
        session.scalar(select(Order.order_id).limit(1)) is None
    )


def store_version(session: Session) -> str:
    """A cheap fingerprint of everything the analyst's views are computed from.

    It changes when a row is added anywhere that matters (the newest event id, the
    number of orders, reviews, customers and products) and when scores are rewritten
    (the newest score run and profile write), so a cache keyed by it stays valid
    exactly as long as the store is unchanged. Each part is one indexed aggregate.
    """
    parts = [
        session.scalar(select(func.max(Event.id))),
        session.scalar(select(func.count()).select_from(Order)),
        session.scalar(select(func.count()).select_from(Review)),
        session.scalar(select(func.count()).select_from(Customer)),
        session.scalar(select(func.count()).select_from(Product)),
        session.scalar(select(func.max(ScoreCalibration.id))),
        session.scalar(select(func.max(Profile.computed_at))),
        session.scalar(select(func.count()).select_from(SegmentMembership)),
        session.scalar(select(func.max(SegmentRule.updated_at))),
    ]
    return "/".join("-" if part is None else str(part) for part in parts)

"""Finding and removing rows no real store can hold (stamped outside the plausible window).

Every entry (import, track, ``--as-of``) refuses such rows today; a store written by an
older release, or by hand, may still hold some. They are left out of every answer
(:func:`engine.frames` skips them) and reported by ``personalize info``;
:func:`repair_store` removes them for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from engine.models import Customer, Event, IdentityLink, Order, OrderLine, Review
from engine.timeutil import plausible_window

# (what is counted, its model, its time column)
_STAMPED: tuple[tuple[str, Any, Any], ...] = (
    ("orders", Order, Order.ordered_at),
    ("order_lines", OrderLine, OrderLine.ordered_at),
    ("events", Event, Event.occurred_at),
    ("reviews", Review, Review.reviewed_at),
    ("identity_links", IdentityLink, IdentityLink.linked_at),
    ("customers", Customer, Customer.signup_at),
)


@dataclass(frozen=True)
class Implausible:
    """Rows stamped outside ``window`` per table (only tables with any)."""

    window: tuple[datetime, datetime]
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _outside(column: Any, window: tuple[datetime, datetime]) -> Any:
    return or_(column < window[0], column > window[1])


def find_implausible(session: Session, *, now: datetime | None = None) -> Implausible:
    """Count rows stamped outside :func:`engine.timeutil.plausible_window`."""
    window = plausible_window(now)
    rows: dict[str, int] = {}
    for name, model, column in _STAMPED:
        count = (
            session.scalar(select(func.count()).select_from(model).where(_outside(column, window)))
            or 0
        )
        if count:
            rows[name] = int(count)
    return Implausible(window, rows)


def repair_store(session: Session, *, now: datetime | None = None) -> Implausible:
    """Remove what :func:`find_implausible` counts; the caller commits.

    Orders outside the window go with all their lines; a line stamped outside goes
    alone (its order stays if it has other lines); events, reviews and identity
    links go; a customer's implausible signup date is cleared (the customer and
    their history stay).

    Returns:
        What was removed (or cleared), per table.
    """
    found = find_implausible(session, now=now)
    window = found.window
    bad_orders = select(Order.order_id).where(_outside(Order.ordered_at, window))
    touched = list(
        session.scalars(
            select(OrderLine.order_id).where(_outside(OrderLine.ordered_at, window)).distinct()
        )
    )
    session.execute(delete(OrderLine).where(OrderLine.order_id.in_(bad_orders)))
    session.execute(delete(OrderLine).where(_outside(OrderLine.ordered_at, window)))
    session.execute(delete(Order).where(_outside(Order.ordered_at, window)))
    if touched:
        # An order whose every line was implausible is gone with them.
        emptied = ~exists().where(OrderLine.order_id == Order.order_id)
        session.execute(delete(Order).where(Order.order_id.in_(touched), emptied))
    for model, column in (
        (Event, Event.occurred_at),
        (Review, Review.reviewed_at),
        (IdentityLink, IdentityLink.linked_at),
    ):
        session.execute(delete(model).where(_outside(column, window)))
    session.execute(
        update(Customer).where(_outside(Customer.signup_at, window)).values(signup_at=None)
    )
    return found

"""The few reads the API needs that the engine's packages do not offer as functions.

Each takes the session from the caller and never commits.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import Session

from engine.models import Customer, IdentityLink, Order, OrderLine, SegmentMembership


def linked_customer(session: Session, anonymous_id: str) -> str | None:
    """The customer an anonymous visitor id is linked to, if any."""
    return (
        session.connection()
        .execute(select(IdentityLink.customer_id).where(IdentityLink.anonymous_id == anonymous_id))
        .scalar()
    )


_BOUGHT = (
    select(OrderLine.product_id)
    .distinct()
    .join(Order, Order.order_id == OrderLine.order_id)
    .where(Order.customer_id == bindparam("cid"))
)


def owned(session: Session, customer_id: str, durables: frozenset[str]) -> list[str]:
    """The durables ``customer_id`` has bought, per the store now: the served fit knows
    the purchases before its ``as_of``, not those tracked since."""
    bought = session.connection().execute(_BOUGHT, {"cid": customer_id}).scalars()
    return sorted(p for p in bought if p in durables)


def customer_exists(session: Session, customer_id: str) -> bool:
    return (
        session.connection()
        .execute(select(Customer.customer_id).where(Customer.customer_id == customer_id))
        .first()
        is not None
    )


def segment_page(
    session: Session, segment: str, *, offset: int, limit: int
) -> tuple[int, list[str]]:
    """(members in all, one page of their ids in id order) of a stored segment."""
    conn = session.connection()
    size = int(
        conn.execute(
            select(func.count())
            .select_from(SegmentMembership)
            .where(SegmentMembership.segment == segment)
        ).scalar_one()
    )
    ids = list(
        conn.execute(
            select(SegmentMembership.customer_id)
            .where(SegmentMembership.segment == segment)
            .order_by(SegmentMembership.customer_id)
            .offset(offset)
            .limit(limit)
        ).scalars()
    )
    return size, ids


def stored_segments(session: Session) -> list[str]:
    """Every segment with at least one stored member, sorted."""
    return sorted(
        session.connection().execute(select(SegmentMembership.segment).distinct()).scalars()
    )


def schema_revision(session: Session) -> str | None:
    """The store's Alembic revision (None for a store without one)."""
    conn = session.connection()
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

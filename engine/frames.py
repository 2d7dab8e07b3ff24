"""Point-in-time frames: the store's facts as pandas DataFrames, as of a moment.

Every loader takes the session first and ``as_of`` (rows stamped strictly
before it are kept; ``None`` keeps everything), never commits, and returns a
frame with the documented columns, timestamps as ``datetime64[ns]`` (naive UTC).
Scoring, recommenders and predictions start from these frames, so the "as of"
rule is enforced in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, String, and_, exists, func, or_, select, type_coerce, union_all
from sqlalchemy.orm import Session

from engine.models import Customer, Event, IdentityLink, Order, OrderLine, Product, Review
from engine.timeutil import plausible_window

ORDER_LINE_COLUMNS = [
    "order_id",
    "line_no",
    "customer_id",
    "ordered_at",
    "channel",
    "device",
    "location",
    "weather",
    "product_id",
    "quantity",
    "unit_price",
    "discount",
    "amount",
    "list_price",
    "category",
    "brand",
]
EVENT_COLUMNS = [
    "id",
    "event_id",
    "customer_id",
    "anonymous_id",
    "event_type",
    "product_id",
    "query",
    "occurred_at",
    "channel",
    "device",
    "location",
    "weather",
    "rating",
]


def _ts(column: Any) -> Any:
    # Bypass SQLAlchemy's per-row datetime parsing on SQLite: pandas parses the
    # whole column at once, which matters at millions of rows.
    return type_coerce(column, String).label(column.key)


def _parse_times(values: pd.Series) -> pd.Series:
    """ISO strings (SQLite) or datetimes (PostgreSQL) as timestamps; NaT where they cannot be."""
    try:
        return pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        # PostgreSQL hands back datetime objects, and one in year 1 defeats "coerce".
        low, high = pd.Timestamp.min.to_pydatetime(), pd.Timestamp.max.to_pydatetime()
        kept = values.map(lambda v: v if not isinstance(v, datetime) or low <= v <= high else None)
        return pd.to_datetime(kept, format="ISO8601", errors="coerce")


def _read(session: Session, statement: Any, time_columns: Sequence[str]) -> pd.DataFrame:
    """The statement's rows, time columns parsed; rows stamped outside the plausible
    window (an old store may hold an order in 2300 or year 1: see ``personalize
    repair``) are left out rather than breaking every answer."""
    frame = pd.read_sql(statement, session.connection())
    earliest, latest = plausible_window()
    outside = np.zeros(len(frame), dtype=bool)
    for name in time_columns:
        given = frame[name].notna().to_numpy()
        parsed = _parse_times(frame[name])
        bad = given & (parsed.isna() | (parsed < earliest) | (parsed > latest)).to_numpy()
        outside |= bad
        # (PostgreSQL's datetimes parse at microseconds, where year 1 fits; ns is the rule.)
        frame[name] = parsed.where(~bad).astype("datetime64[ns]")
    if outside.any():
        frame = frame.loc[~outside].reset_index(drop=True)
    return frame


def line_time() -> Any:
    """A line's own time: its ``ordered_at`` when the export stamped one, else the order's."""
    return func.coalesce(OrderLine.ordered_at, Order.ordered_at)


def load_order_lines(
    session: Session,
    *,
    as_of: datetime | None = None,
    customer_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per order line stamped strictly before ``as_of``.

    Columns: ``order_id, line_no, customer_id, ordered_at`` (the line's own time; an
    order's earliest line is the order's time), ``channel, device,
    location, weather, product_id, quantity, unit_price, discount,
    amount`` (quantity x unit_price: what the customer paid; ``discount`` is what
    they saved on the line),
    ``list_price, category, brand`` (from the product; may be null).
    """
    stamp = line_time()
    statement = (
        select(
            OrderLine.order_id,
            OrderLine.line_no,
            Order.customer_id,
            type_coerce(stamp, String).label("ordered_at"),
            Order.channel,
            Order.device,
            Order.location,
            Order.weather,
            OrderLine.product_id,
            OrderLine.quantity,
            OrderLine.unit_price,
            OrderLine.discount,
            (OrderLine.quantity * OrderLine.unit_price).label("amount"),
            Product.list_price,
            Product.category,
            Product.brand,
        )
        .join(Order, Order.order_id == OrderLine.order_id)
        .join(Product, Product.product_id == OrderLine.product_id)
        .order_by(stamp, OrderLine.order_id, OrderLine.line_no)
    )
    if as_of is not None:
        # The order's time is its earliest line's: the indexed condition is implied
        # by the exact one and lets the planner use ``orders.ordered_at``.
        statement = statement.where(Order.ordered_at < as_of, stamp < as_of)
    if customer_ids is not None:
        statement = statement.where(Order.customer_id.in_(list(customer_ids)))
    return _read(session, statement, ["ordered_at"])


def load_events(
    session: Session,
    *,
    as_of: datetime | None = None,
    customer_ids: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Behavioral events strictly before ``as_of``, anonymous ones stitched to their customer.

    ``customer_id`` is the event's own, else the customer its ``anonymous_id`` is
    linked to (``identity_links``), else null. Columns: ``id, event_id,
    customer_id, anonymous_id, event_type, product_id, query, occurred_at,
    channel, device, location, weather, rating``.
    """

    def columns(customer: Any) -> tuple[Any, ...]:
        return (
            Event.id,
            Event.event_id,
            customer.label("customer_id"),
            Event.anonymous_id,
            Event.event_type,
            Event.product_id,
            Event.query,
            _ts(Event.occurred_at),
            Event.channel,
            Event.device,
            Event.location,
            Event.weather,
            Event.rating,
        )

    def link_on() -> Any:
        # A link counts from its ``linked_at``: as of T, only links made before T stitch.
        on = IdentityLink.anonymous_id == Event.anonymous_id
        return on if as_of is None else and_(on, IdentityLink.linked_at < as_of)

    def filtered(statement: Select[Any]) -> Select[Any]:
        if as_of is not None:
            statement = statement.where(Event.occurred_at < as_of)
        if event_types is not None:
            statement = statement.where(Event.event_type.in_(list(event_types)))
        return statement

    if customer_ids is None:
        statement = filtered(
            select(*columns(func.coalesce(Event.customer_id, IdentityLink.customer_id))).outerjoin(
                IdentityLink, link_on()
            )
        ).order_by(Event.occurred_at, Event.id)
    else:
        # Filtering on the stitched (computed) id would read every event; instead,
        # the union of two indexed look-ups: the customers' own events, and the
        # anonymous events of the anonymous ids linked to them.
        ids = list(customer_ids)
        own = filtered(select(*columns(Event.customer_id)).where(Event.customer_id.in_(ids)))
        linked = filtered(
            select(*columns(IdentityLink.customer_id))
            .join(IdentityLink, link_on())
            .where(
                IdentityLink.customer_id.in_(ids),
                # Not "IS NULL": that invites the planner to walk every anonymous
                # event through the customer_id index instead of following the links.
                func.coalesce(Event.customer_id, "") == "",
            )
        )
        both = union_all(own, linked).subquery("stitched")
        statement = select(*both.c).order_by(both.c.occurred_at, both.c.id)
    return _read(session, statement, ["occurred_at"])


def load_reviews(
    session: Session,
    *,
    as_of: datetime | None = None,
    customer_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reviews strictly before ``as_of``.

    Columns: ``review_id, customer_id, product_id, rating, reviewed_at, category, brand``.
    """
    statement = (
        select(
            Review.review_id,
            Review.customer_id,
            Review.product_id,
            Review.rating,
            _ts(Review.reviewed_at),
            Product.category,
            Product.brand,
        )
        .join(Product, Product.product_id == Review.product_id)
        .order_by(Review.reviewed_at, Review.review_id)
    )
    if as_of is not None:
        statement = statement.where(Review.reviewed_at < as_of)
    if customer_ids is not None:
        statement = statement.where(Review.customer_id.in_(list(customer_ids)))
    return _read(session, statement, ["reviewed_at"])


def load_products(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """The catalog as of ``as_of``. Columns: ``product_id, name, category, brand, price,
    list_price, tags, region, in_stock``.

    Without ``as_of``: every product in the catalog as stored. With it: only products
    that exist by then, i.e. with an order line, an event or a review stamped before
    it (a product first sold later does not exist yet), and a missing catalog
    ``price`` is the last price paid for it before ``as_of``.
    """
    statement = select(
        Product.product_id,
        Product.name,
        Product.category,
        Product.brand,
        Product.price,
        Product.list_price,
        Product.tags,
        Product.region,
        Product.in_stock,
    ).order_by(Product.product_id)
    if as_of is None:
        return _read(session, statement, [])
    sold = (
        select(OrderLine.product_id)
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(Order.ordered_at < as_of, line_time() < as_of)
    )
    seen = select(Event.product_id).where(Event.product_id.is_not(None), Event.occurred_at < as_of)
    reviewed = select(Review.product_id).where(Review.reviewed_at < as_of)
    existing = union_all(sold, seen, reviewed).subquery("existing")
    statement = statement.where(Product.product_id.in_(select(existing.c.product_id)))
    products = _read(session, statement, [])
    missing = products["price"].isna()
    if missing.any():
        products.loc[missing, "price"] = products.loc[missing, "product_id"].map(
            _last_paid(session, as_of, products.loc[missing, "product_id"].tolist())
        )
    return products


def _last_paid(session: Session, as_of: datetime, product_ids: list[str]) -> pd.Series:
    """The unit price of each product's latest line before ``as_of`` (by product id)."""
    stamp = line_time()
    ranked = (
        select(
            OrderLine.product_id,
            OrderLine.unit_price,
            func.row_number()
            .over(
                partition_by=OrderLine.product_id,
                order_by=(stamp.desc(), OrderLine.order_id.desc(), OrderLine.line_no.desc()),
            )
            .label("n"),
        )
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(Order.ordered_at < as_of, stamp < as_of, OrderLine.product_id.in_(product_ids))
        .subquery("ranked")
    )
    frame = pd.read_sql(
        select(ranked.c.product_id, ranked.c.unit_price).where(ranked.c.n == 1),
        session.connection(),
    )
    return frame.set_index("product_id")["unit_price"]


def existing_customers(as_of: datetime) -> Any:
    """The condition "this customer exists as of ``as_of``" on ``customers``: signed up
    before it, or any order, event, review or identity link of theirs stamped before it.

    A customer with neither a signup date nor any data does not exist at any moment:
    were they listed, a store holding only the rows before T (where a later buyer
    has no rows yet) and one holding the whole history would disagree about them.
    """
    cid = Customer.customer_id
    return or_(
        Customer.signup_at < as_of,
        exists().where(Order.customer_id == cid, Order.ordered_at < as_of),
        exists().where(Event.customer_id == cid, Event.occurred_at < as_of),
        exists().where(Review.customer_id == cid, Review.reviewed_at < as_of),
        exists().where(IdentityLink.customer_id == cid, IdentityLink.linked_at < as_of),
    )


def customer_exists(session: Session, customer_id: str, as_of: datetime) -> bool:
    """Whether one customer exists as of ``as_of`` (:func:`existing_customers`)."""
    found = session.scalar(
        select(Customer.customer_id).where(
            Customer.customer_id == customer_id, existing_customers(as_of)
        )
    )
    return found is not None


def load_customers(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Customers. Columns: ``customer_id, name, email, city, region, country, signup_at``.

    Without ``as_of``: everyone stored. With it: only customers that exist by then
    (:func:`existing_customers`): a customer whose first data is later does not exist yet.
    """
    statement = select(
        Customer.customer_id,
        Customer.name,
        Customer.email,
        Customer.city,
        Customer.region,
        Customer.country,
        _ts(Customer.signup_at),
    ).order_by(Customer.customer_id)
    if as_of is not None:
        statement = statement.where(existing_customers(as_of))
    return _read(session, statement, ["signup_at"])

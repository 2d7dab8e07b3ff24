"""The store at a glance: KPIs, activity over time and mixes, aggregated in the database.

Every function takes the session first (keyword-only arguments after it), never
commits, and honours ``as_of``: only rows stamped strictly before it count.
``as_of=None`` means "just after the newest data" (:func:`engine.timeutil.resolve_as_of`).

The heavy lifting is set-based SQL (``GROUP BY`` in the database) that runs the
same on SQLite and PostgreSQL; pandas only reshapes the small grouped results
(filling empty days, rolling days up into weeks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd
from sqlalchemy import exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from engine.models import Customer, Event, Order, OrderLine, Product, Review
from engine.timeutil import resolve_as_of

NONE_LABEL = "(none)"
"""Shown for a product without a category or brand."""

UNKNOWN_LABEL = "(unknown)"
"""Shown for an order or event without a channel, device or weather."""

WEEKLY_AFTER_DAYS = 120
"""Spans longer than this are bucketed by week (starting Monday) instead of by day."""

Period = Literal["day", "week"]

# Inlined (not bound) so SELECT and GROUP BY render the very same expression on PostgreSQL.
_NONE: Any = literal_column(f"'{NONE_LABEL}'")
_UNKNOWN: Any = literal_column(f"'{UNKNOWN_LABEL}'")

# What customers paid: unit_price is already net of the line's discount.
_LINE_REVENUE = OrderLine.quantity * OrderLine.unit_price


@dataclass(frozen=True)
class OverviewKpis:
    """Headline figures of the store before ``as_of``.

    Attributes:
        customers: customers with any order, event or review.
        products: products in the catalogue (the catalogue has no timestamps).
        orders: orders placed.
        revenue: sum of ``quantity * unit_price`` (what was paid) over their lines.
        events: behavioral events, known and anonymous.
        average_order_value: ``revenue / orders``; ``None`` without orders.
    """

    customers: int
    products: int
    orders: int
    revenue: float
    events: int
    average_order_value: float | None


@dataclass(frozen=True)
class StoreOverview:
    """Everything the "Store overview" page shows, for one ``as_of``.

    Frames (one row per group, sorted as documented by the function that builds each):

    * ``activity``: ``period`` (datetime64, start of the day/week), ``orders`` (int),
      ``revenue`` (float), ``events`` (int) - every period from the first activity on.
    * ``events_by_type``: ``period``, ``event_type``, ``events`` (int).
    * ``channels`` / ``devices``: ``channel`` / ``device``, ``orders``, ``revenue``, ``events``.
    * ``categories`` / ``brands``: ``category`` / ``brand``, ``revenue``, ``orders``, ``units``.
    * ``weather``: ``weather``, ``orders``, ``revenue``.
    """

    as_of: datetime
    period: Period
    kpis: OverviewKpis
    activity: pd.DataFrame
    events_by_type: pd.DataFrame
    channels: pd.DataFrame
    devices: pd.DataFrame
    categories: pd.DataFrame
    brands: pd.DataFrame
    weather: pd.DataFrame


def _rows(session: Session, statement: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(statement).all(), columns=columns)


def _active_customers(session: Session, as_of: datetime) -> int:
    # One index probe per customer ((customer_id, time) indexes) beats a DISTINCT over events.
    active = or_(
        exists().where(Order.customer_id == Customer.customer_id, Order.ordered_at < as_of),
        exists().where(Event.customer_id == Customer.customer_id, Event.occurred_at < as_of),
        exists().where(Review.customer_id == Customer.customer_id, Review.reviewed_at < as_of),
    )
    return int(session.scalar(select(func.count(Customer.customer_id)).where(active)) or 0)


def _kpis(
    session: Session, as_of: datetime, *, orders: int, revenue: float, events: int
) -> OverviewKpis:
    return OverviewKpis(
        customers=_active_customers(session, as_of),
        products=int(session.scalar(select(func.count(Product.product_id))) or 0),
        orders=orders,
        revenue=revenue,
        events=events,
        average_order_value=revenue / orders if orders else None,
    )


def overview_kpis(session: Session, *, as_of: datetime | None = None) -> OverviewKpis:
    """The headline figures (see :class:`OverviewKpis`) of activity strictly before ``as_of``."""
    as_of = resolve_as_of(session, as_of)
    orders = session.scalar(select(func.count(Order.order_id)).where(Order.ordered_at < as_of))
    revenue = session.scalar(
        select(func.sum(_LINE_REVENUE))
        .join(Order, Order.order_id == OrderLine.order_id)
        .where(Order.ordered_at < as_of)
    )
    events = session.scalar(select(func.count(Event.id)).where(Event.occurred_at < as_of))
    return _kpis(
        session, as_of, orders=int(orders or 0), revenue=float(revenue or 0.0),
        events=int(events or 0),
    )  # fmt: skip


def _order_cube(session: Session, as_of: datetime) -> pd.DataFrame:
    """Orders before ``as_of`` grouped by day, channel, device and weather, in one scan.

    Columns ``day`` (datetime64), ``channel``, ``device``, ``weather`` (``"(unknown)"`` for
    NULL), ``orders`` (int), ``revenue`` (float). Every order sits in exactly one cell, so
    ``count(DISTINCT order_id)`` over its lines counts it once; an order without lines still
    counts, with no revenue. The small result is then rolled up in pandas for each chart.
    """
    keys = [
        func.date(Order.ordered_at),
        func.coalesce(Order.channel, _UNKNOWN),
        func.coalesce(Order.device, _UNKNOWN),
        func.coalesce(Order.weather, _UNKNOWN),
    ]
    statement = (
        select(
            *keys,
            func.count(func.distinct(Order.order_id)),
            func.coalesce(func.sum(_LINE_REVENUE), 0.0),
        )
        .select_from(Order)
        .outerjoin(OrderLine, OrderLine.order_id == Order.order_id)
        .where(Order.ordered_at < as_of)
        .group_by(*keys)
    )
    frame = _rows(session, statement, ["day", "channel", "device", "weather", "orders", "revenue"])
    frame["day"] = _to_day(frame["day"])
    return frame.astype({"orders": "int64", "revenue": "float64"})


def _event_cube(session: Session, as_of: datetime) -> pd.DataFrame:
    """Events before ``as_of`` grouped by day, type, channel and device, in one scan.

    Columns ``day`` (datetime64), ``event_type``, ``channel``, ``device`` (``"(unknown)"``
    for NULL), ``events`` (int). One pass over the biggest table serves every event chart.
    """
    keys = [
        func.date(Event.occurred_at),
        Event.event_type,
        func.coalesce(Event.channel, _UNKNOWN),
        func.coalesce(Event.device, _UNKNOWN),
    ]
    statement = select(*keys, func.count(Event.id)).where(Event.occurred_at < as_of).group_by(*keys)
    frame = _rows(session, statement, ["day", "event_type", "channel", "device", "events"])
    frame["day"] = _to_day(frame["day"])
    return frame.astype({"events": "int64"})


def _to_day(values: pd.Series) -> pd.Series:
    # SQLite's date() returns 'YYYY-MM-DD' text, PostgreSQL's a date: both parse the same.
    return pd.to_datetime(values.astype(str)).astype("datetime64[ns]")


def _bucket(days: pd.Series, period: Period) -> pd.Series:
    if period == "day":
        return days
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def choose_period(first_day: datetime | None, as_of: datetime) -> Period:
    """``"week"`` when the span from ``first_day`` to ``as_of`` is longer than
    :data:`WEEKLY_AFTER_DAYS`, else ``"day"`` (so a chart has tens, not hundreds, of bars)."""
    if first_day is None or as_of - first_day <= timedelta(days=WEEKLY_AFTER_DAYS):
        return "day"
    return "week"


def _activity(
    orders: pd.DataFrame, events: pd.DataFrame, as_of: datetime, period: Period | None
) -> tuple[pd.DataFrame, pd.DataFrame, Period]:
    days = pd.concat([orders["day"], events["day"]])
    if days.empty:
        activity = pd.DataFrame(
            {
                "period": pd.Series(dtype="datetime64[ns]"),
                "orders": pd.Series(dtype="int64"),
                "revenue": pd.Series(dtype="float64"),
                "events": pd.Series(dtype="int64"),
            }
        )
        by_type = pd.DataFrame(
            {
                "period": pd.Series(dtype="datetime64[ns]"),
                "event_type": pd.Series(dtype="object"),
                "events": pd.Series(dtype="int64"),
            }
        )
        return activity, by_type, period or "day"
    if period is None:
        period = choose_period(days.min().to_pydatetime(), as_of)
    orders = orders.assign(period=_bucket(orders["day"], period))
    events = events.assign(period=_bucket(events["day"], period))
    buckets = _bucket(days, period)
    step = "D" if period == "day" else "7D"
    span = pd.date_range(buckets.min(), buckets.max(), freq=step, name="period")
    order_totals = orders.groupby("period")[["orders", "revenue"]].sum()
    event_totals = events.groupby("period")["events"].sum()
    activity = (
        pd.concat([order_totals, event_totals], axis=1, sort=False)
        .reindex(span)
        .fillna(0)
        .astype({"orders": "int64", "revenue": "float64", "events": "int64"})
        .reset_index()
    )
    by_type = (
        events.groupby(["period", "event_type"], as_index=False)["events"]
        .sum()
        .astype({"events": "int64"})
        .sort_values(["period", "event_type"], ignore_index=True)
    )
    return activity, by_type, period


def activity_over_time(
    session: Session, *, as_of: datetime | None = None, period: Period | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, Period]:
    """Orders, revenue and events per day (or week), strictly before ``as_of``.

    Days are the UTC calendar days the store's timestamps are in; weeks start on Monday.

    Args:
        period: ``"day"`` or ``"week"``; ``None`` picks with :func:`choose_period`.

    Returns:
        ``(activity, events_by_type, period)``: ``activity`` has one row per period from
        the first active one to the last, with zeros where nothing happened, columns
        ``period, orders, revenue, events``; ``events_by_type`` has ``period, event_type,
        events`` for the non-empty combinations, sorted by period then type.
    """
    as_of = resolve_as_of(session, as_of)
    return _activity(_order_cube(session, as_of), _event_cube(session, as_of), as_of, period)


def _mix(orders: pd.DataFrame, events: pd.DataFrame, column: str) -> pd.DataFrame:
    """Orders, revenue and events per value of ``column`` (channel or device)."""
    mix = pd.concat(
        [
            orders.groupby(column)[["orders", "revenue"]].sum(),
            events.groupby(column)["events"].sum(),
        ],
        axis=1,
        sort=False,
    )
    mix = mix.reindex(columns=["orders", "revenue", "events"]).fillna(0)
    mix = mix.astype({"orders": "int64", "revenue": "float64", "events": "int64"})
    mix.index.name = column
    return mix.reset_index().sort_values(
        ["orders", "events", column], ascending=[False, False, True], ignore_index=True
    )


def channel_mix(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Columns ``channel, orders, revenue, events``: one row per channel seen on an order or
    an event (``"(unknown)"`` where none was recorded), most orders, then most events, first."""
    as_of = resolve_as_of(session, as_of)
    return _mix(_order_cube(session, as_of), _event_cube(session, as_of), "channel")


def device_mix(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Columns ``device, orders, revenue, events``, like :func:`channel_mix`."""
    as_of = resolve_as_of(session, as_of)
    return _mix(_order_cube(session, as_of), _event_cube(session, as_of), "device")


def _weather(orders: pd.DataFrame) -> pd.DataFrame:
    frame = orders.groupby("weather", as_index=False)[["orders", "revenue"]].sum()
    frame = frame.astype({"orders": "int64", "revenue": "float64"})
    return frame.sort_values(["orders", "weather"], ascending=[False, True], ignore_index=True)


def weather_mix(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Columns ``weather, orders, revenue``: orders by the weather recorded on them
    (``"(unknown)"`` where none was), most orders first."""
    return _weather(_order_cube(session, resolve_as_of(session, as_of)))


def top_by_revenue(
    session: Session,
    *,
    by: Literal["category", "brand"],
    as_of: datetime | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The ``limit`` product categories or brands with the most net revenue before ``as_of``.

    Returns:
        Columns ``<by>, revenue, orders, units`` (``orders`` counts distinct orders with a
        line of that group; ``units`` sums quantities), highest revenue first. Products
        without a category/brand are grouped as ``"(none)"``.
    """
    if by not in ("category", "brand"):
        raise ValueError(f"by must be 'category' or 'brand', not {by!r}")
    as_of = resolve_as_of(session, as_of)
    key = func.coalesce(getattr(Product, by), _NONE)
    revenue = func.sum(_LINE_REVENUE)
    statement = (
        select(
            key,
            revenue,
            func.count(func.distinct(OrderLine.order_id)),
            func.sum(OrderLine.quantity),
        )
        .join(Order, Order.order_id == OrderLine.order_id)
        .join(Product, Product.product_id == OrderLine.product_id)
        .where(Order.ordered_at < as_of)
        .group_by(key)
        .order_by(revenue.desc(), key)
        .limit(limit)
    )
    frame = _rows(session, statement, [by, "revenue", "orders", "units"])
    return frame.astype({"revenue": "float64", "orders": "int64", "units": "float64"})


def store_overview(
    session: Session, *, as_of: datetime | None = None, top: int = 10
) -> StoreOverview:
    """Everything on the overview page in one call (see :class:`StoreOverview`).

    Args:
        as_of: only data strictly before it counts; ``None`` = just after the newest data.
        top: how many categories and brands to keep.
    """
    as_of = resolve_as_of(session, as_of)
    # One grouped scan of orders and one of events feed every chart and mix.
    orders = _order_cube(session, as_of)
    events = _event_cube(session, as_of)
    activity, events_by_type, period = _activity(orders, events, as_of, None)
    return StoreOverview(
        as_of=as_of,
        period=period,
        # The cubes already hold the totals: no third pass over the big tables.
        kpis=_kpis(
            session,
            as_of,
            orders=int(orders["orders"].sum()),
            revenue=float(orders["revenue"].sum()),
            events=int(events["events"].sum()),
        ),
        activity=activity,
        events_by_type=events_by_type,
        channels=_mix(orders, events, "channel"),
        devices=_mix(orders, events, "device"),
        categories=top_by_revenue(session, by="category", as_of=as_of, limit=top),
        brands=top_by_revenue(session, by="brand", as_of=as_of, limit=top),
        weather=_weather(orders),
    )

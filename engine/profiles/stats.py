"""Per-customer sufficient statistics: the counts and sums every score is a function of.

Batch scoring computes them for the whole store with set-based SQL (``GROUP BY``
in the database; events and order lines are each read once, into temporary
per-(customer, product) groups that every statistic then aggregates), and
:mod:`engine.profiles.tracking` updates one customer's statistics in place when an
event arrives. Scores are a pure function of (statistics, calibration)
(:mod:`engine.profiles.scoring`), so both paths give the same profile.

Definitions (see ``docs/scoring.md``):

* **activity** = every behavioral event except ``purchase`` (a purchase is
  counted once, through its order) plus every order; an anonymous event is the
  customer's when its ``anonymous_id`` is linked to them (``identity_links``);
* **weekend** = Saturday/Sunday, **night** = 22:00-05:59 (store clock, UTC as
  stored), **mobile** = ``device = 'mobile'`` or channel ``mobile_web|ios|android``;
* **time decay**: an observation at ``t`` weighs ``exp(lambda * days(t - T0))``
  with a fixed origin ``T0``; the decayed value as of ``A`` is that sum times
  ``exp(-lambda * days(A - T0))``, so sums stay additive and the decay is
  applied when read (shares do not depend on ``A`` at all).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    case,
    cast,
    column,
    extract,
    func,
    literal,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from engine.models import Customer, Event, IdentityLink, Order, OrderLine, Product, Review

T0 = datetime(2000, 1, 1)
"""Origin of the time-decay weights (any fixed moment works; it cancels in shares)."""
_T0_EPOCH = (T0 - datetime(1970, 1, 1)).total_seconds()

INTEREST_HALF_LIFE_DAYS = 90.0
"""Half-life of category/brand interest (views and purchased lines)."""
RATING_HALF_LIFE_DAYS = 180.0
"""Half-life of a review's weight in the emotional state."""
INTEREST_LAMBDA = math.log(2.0) / INTEREST_HALF_LIFE_DAYS
RATING_LAMBDA = math.log(2.0) / RATING_HALF_LIFE_DAYS

FREQUENCY_WINDOW = timedelta(days=365)
IMPULSE_WINDOW_SECONDS = 30 * 60.0
MOBILE_CHANNELS = ("mobile_web", "ios", "android")

COUNT_COLUMNS = [
    "orders", "orders_365", "lines", "disc_lines", "branded_lines", "top2_lines",
    "viewed_lines", "quick_lines", "views", "searches", "activity", "weekend", "night",
    "mobile", "reviews", "interest_events",
]
FLOAT_COLUMNS = ["spend", "rating_wsum", "rating_w", "interest_total", "top_interest"]
STATS_COLUMNS = ["customer_id", *COUNT_COLUMNS, *FLOAT_COLUMNS, "top_category"]
"""Columns of :func:`compute_stats`'s frame (one row per customer)."""


def decay_weight(at: datetime, lam: float) -> float:
    """``exp(lam * days(at - T0))``: the un-normalised weight of an observation at ``at``."""
    return math.exp(lam * ((at - T0).total_seconds() / 86400.0))


def decay_factor(as_of: datetime, lam: float) -> float:
    """Multiply a stored weight sum by this to read it as of ``as_of``."""
    return math.exp(-lam * ((as_of - T0).total_seconds() / 86400.0))


# --------------------------------------------------------------------------- SQL helpers


def _epoch_seconds(column: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(extract("epoch", column), Float)


def _days_since_t0(column: Any, dialect: str) -> ColumnElement[float]:
    return (_epoch_seconds(column, dialect) - _T0_EPOCH) / 86400.0


def weekday_hour(ts: Any, dialect: str) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """Portable ``(day of week, hour)`` of a timestamp column; day 0 = Sunday, 6 = Saturday.

    SQLite stores timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` text, so the hour
    is a substring (cheaper than ``strftime`` at millions of rows) and the weekday
    ``strftime('%w')``; PostgreSQL uses ``extract`` (``dow`` is also 0 = Sunday).
    """
    if dialect == "sqlite":
        return (
            # The date part only: strftime rounds fractional seconds, so a moment
            # like 23:59:59.9999999 would otherwise count as the next day.
            cast(func.strftime("%w", func.substr(ts, 1, 10)), Integer),
            cast(func.substr(ts, 12, 2), Integer),
        )
    return cast(extract("dow", ts), Integer), cast(extract("hour", ts), Integer)


def _flags(ts: Any, channel: Any, device: Any, dialect: str) -> dict[str, ColumnElement[int]]:
    """0/1 expressions for weekend, night and mobile activity (portable SQL)."""
    dow, hour = weekday_hour(ts, dialect)
    return {
        "weekend": case((dow.in_([0, 6]), 1), else_=0),
        "night": case((or_(hour >= 22, hour < 6), 1), else_=0),
        "mobile": case(
            (or_(device == "mobile", channel.in_(MOBILE_CHANNELS)), 1), else_=0
        ),
    }


def _stitched_events(as_of: Any, customer_ids: Sequence[Any] | None) -> Any:
    """Events before ``as_of`` with ``cid``: their own customer, else the linked one.

    With ``customer_ids`` the source is a UNION ALL of two indexed lookups
    (own id; anonymous id linked to them) instead of a join over every event.
    """
    cols = (
        Event.event_type, Event.product_id, Event.occurred_at, Event.channel, Event.device,
    )
    if customer_ids is None:
        cid = func.coalesce(Event.customer_id, IdentityLink.customer_id).label("cid")
        statement = (
            select(cid, *cols)
            .outerjoin(IdentityLink, IdentityLink.anonymous_id == Event.anonymous_id)
            .where(Event.occurred_at < as_of)
        )
        return statement.subquery("e")
    ids = list(customer_ids)
    own = select(Event.customer_id.label("cid"), *cols).where(
        Event.customer_id.in_(ids), Event.occurred_at < as_of
    )
    linked = (
        select(IdentityLink.customer_id.label("cid"), *cols)
        .join(IdentityLink, IdentityLink.anonymous_id == Event.anonymous_id)
        .where(
            # coalesce(...) = '' rather than IS NULL: an index on events.customer_id would
            # otherwise tempt the planner into scanning every anonymous event in the store
            # instead of following identity_links (customer) -> events (anonymous_id).
            func.coalesce(Event.customer_id, "") == "",
            IdentityLink.customer_id.in_(ids),
            Event.occurred_at < as_of,
        )
    )
    return union_all(own, linked).subquery("e")


def _lines(as_of: Any, customer_ids: Sequence[Any] | None) -> Any:
    statement = (
        select(
            Order.customer_id.label("cid"), Order.ordered_at, OrderLine.product_id,
            (OrderLine.quantity * OrderLine.unit_price).label("amount"),
            case(
                (
                    or_(
                        OrderLine.discount > 0,
                        and_(Product.list_price.is_not(None),
                             OrderLine.unit_price < Product.list_price),
                    ),
                    1,
                ),
                else_=0,
            ).label("discounted"),
            Product.brand, Product.category,
        )
        .join(Order, Order.order_id == OrderLine.order_id)
        .join(Product, Product.product_id == OrderLine.product_id)
        .where(Order.ordered_at < as_of)
    )
    if customer_ids is not None:
        statement = statement.where(Order.customer_id.in_(list(customer_ids)))
    return statement.subquery("l")


def _frame(session: Session, statement: Any) -> pd.DataFrame:
    result = session.execute(statement)
    keys = list(result.keys())
    # Column-wise from plain tuples: pandas probes every Row object for attributes
    # (an exception per row inside SQLAlchemy), which costs more than the query.
    columns = list(zip(*result.fetchall(), strict=False)) or [()] * len(keys)
    frame = pd.DataFrame({k: list(v) for k, v in zip(keys, columns, strict=True)}, columns=keys)
    for name in frame.columns:
        # PostgreSQL's SUM of integers is NUMERIC: Decimal objects, which do not mix
        # with floats in pandas arithmetic.
        if frame[name].dtype == object and len(frame) and isinstance(
            frame[name].iloc[0], Decimal
        ):
            frame[name] = frame[name].astype(float)
    return frame


# --------------------------------------------------------------------------- queries
#
# Events and order lines are each read ONCE: one GROUP BY pass reduces them to
# per-(customer, product) groups (``eg``: events; ``lg``: lines per customer,
# product and order time), and every statistic is an aggregate over those much
# smaller groups. For the whole store the groups are materialised in temporary
# tables (each later query reads them instead of re-scanning events); for a few
# customers they stay inline subqueries (indexed look-ups; no DDL on hot paths).


_EVENT_GROUPS = "tmp_profile_event_groups"
_LINE_GROUPS = "tmp_profile_line_groups"
_BATCH_CACHE_KIB = 192 * 1024


class _CreateTempTableAs(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE name AS <select>`` (SQLite and PostgreSQL alike)."""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any]) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTempTableAs)
def _compile_create_temp(element: _CreateTempTableAs, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


def _event_groups(as_of: Any, ids: Sequence[Any] | None, dialect: str) -> Select[Any]:
    """One pass over the (stitched) events: per (customer, product) counts, flags,
    the decayed view weight and the first view (null when not viewed)."""
    e = _stitched_events(as_of, ids)
    active = e.c.event_type != "purchase"
    view = e.c.event_type == "product_view"
    flags = _flags(e.c.occurred_at, e.c.channel, e.c.device, dialect)
    return (
        select(
            e.c.cid, e.c.product_id,
            func.sum(case((view, 1), else_=0)).label("views"),
            func.sum(case((e.c.event_type == "search", 1), else_=0)).label("searches"),
            func.sum(case((active, 1), else_=0)).label("activity"),
            *(func.sum(case((active, flag), else_=0)).label(name)
              for name, flag in flags.items()),
            func.sum(case(
                (view, func.exp(INTEREST_LAMBDA * _days_since_t0(e.c.occurred_at, dialect))),
                else_=0.0,
            )).label("view_weight"),
            func.min(case((view, e.c.occurred_at))).label("first_view"),
        )
        .where(e.c.cid.is_not(None))
        .group_by(e.c.cid, e.c.product_id)
    )


def _line_groups(as_of: Any, ids: Sequence[Any] | None) -> Select[Any]:
    """One pass over order lines joined to their order and product: ``cid,
    product_id, ordered_at, brand, category, n`` (1), ``spend``, ``disc`` (0/1).

    Not grouped: lines are nearly unique per (customer, product, order time), so a
    GROUP BY would sort them for nothing; the later aggregates read this instead
    of joining order lines, orders and products again.
    """
    lines = _lines(as_of, ids)
    return select(
        lines.c.cid, lines.c.product_id, lines.c.ordered_at, lines.c.brand, lines.c.category,
        literal(1, Integer).label("n"),
        lines.c.amount.label("spend"),
        lines.c.discounted.label("disc"),
    )


def _drop_temp(session: Session) -> None:
    for name in (_EVENT_GROUPS, _LINE_GROUPS):
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _materialise(session: Session, name: str, query: Select[Any], *, index: bool) -> Any:
    """``query`` as a temporary table (an object with ``.c`` like a subquery),
    with an index on ``(cid, product_id)`` when ``index`` (the impulse join probes it)."""
    session.execute(_CreateTempTableAs(name, query))
    if index:
        session.execute(text(f"CREATE INDEX {name}_key ON {name} (cid, product_id)"))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {name}"))  # temp tables are never auto-analysed
    subquery = query.subquery()
    return table(name, *(column(c.name, c.type) for c in subquery.c))


def _event_counts(session: Session, eg: Any) -> pd.DataFrame:
    names = ("views", "searches", "activity", "weekend", "night", "mobile")
    return _frame(session, select(
        eg.c.cid.label("customer_id"), *(func.sum(eg.c[n]).label(n) for n in names)
    ).group_by(eg.c.cid))


def _order_counts(session: Session, as_of: datetime, ids: Sequence[str] | None) -> pd.DataFrame:
    dialect = session.get_bind().dialect.name
    flags = _flags(Order.ordered_at, Order.channel, Order.device, dialect)
    since = as_of - FREQUENCY_WINDOW
    statement = select(
        Order.customer_id,
        func.count().label("orders"),
        func.count().label("activity"),
        func.sum(case((Order.ordered_at >= since, 1), else_=0)).label("orders_365"),
        *(func.sum(flag).label(name) for name, flag in flags.items()),
    ).where(Order.ordered_at < as_of).group_by(Order.customer_id)
    if ids is not None:
        statement = statement.where(Order.customer_id.in_(list(ids)))
    return _frame(session, statement)


def _line_counts(session: Session, lg: Any) -> pd.DataFrame:
    return _frame(session, select(
        lg.c.cid.label("customer_id"),
        func.sum(lg.c.n).label("lines"),
        func.sum(lg.c.disc).label("disc_lines"),
        func.sum(lg.c.spend).label("spend"),
    ).group_by(lg.c.cid))


def _brand_counts(session: Session, lg: Any) -> pd.DataFrame:
    """Columns ``customer_id, brand, n``: purchased lines per brand."""
    frame = _frame(session, select(
        lg.c.cid.label("customer_id"), lg.c.brand, func.sum(lg.c.n).label("n")
    ).where(lg.c.brand.is_not(None)).group_by(lg.c.cid, lg.c.brand))
    if frame.empty:
        return pd.DataFrame(columns=["customer_id", "brand", "n"])
    frame["n"] = frame["n"].astype("int64")
    return frame


def _category_interest(session: Session, eg: Any, lg: Any) -> pd.DataFrame:
    """Columns ``customer_id, category, n, weight``: views + purchased lines, decay sums."""
    dialect = session.get_bind().dialect.name
    views = (
        select(
            eg.c.cid.label("customer_id"), Product.category,
            func.sum(eg.c.views).label("n"),
            func.sum(eg.c.view_weight).label("weight"),
        )
        .join(Product, Product.product_id == eg.c.product_id)
        .where(eg.c.views > 0, Product.category.is_not(None))
        .group_by(eg.c.cid, Product.category)
    )
    bought = (
        select(
            lg.c.cid.label("customer_id"), lg.c.category,
            func.sum(lg.c.n).label("n"),
            func.sum(lg.c.n * func.exp(
                INTEREST_LAMBDA * _days_since_t0(lg.c.ordered_at, dialect))).label("weight"),
        )
        .where(lg.c.category.is_not(None))
        .group_by(lg.c.cid, lg.c.category)
    )
    frame = pd.concat([_frame(session, views), _frame(session, bought)], ignore_index=True)
    if frame.empty:
        return pd.DataFrame(columns=["customer_id", "category", "n", "weight"])
    frame["weight"] = frame["weight"].astype(float)
    frame["n"] = frame["n"].astype("int64")
    return frame.groupby(["customer_id", "category"], as_index=False)[["n", "weight"]].sum()


def impulse_statement(
    session: Session, as_of: Any, ids: Sequence[Any] | None,
    eg: Any = None, lg: Any = None,
) -> Any:
    """Per customer: lines whose product was viewed at or before the order
    (``viewed_lines``), and those ordered within 30 minutes of that first view
    (``quick_lines``). ``as_of`` and the ids may be bound parameters (tracking
    builds the one-customer statement once and reuses it). ``eg``/``lg``: the
    event and line groups when already materialised (default: inline subqueries).
    """
    dialect = session.get_bind().dialect.name
    if eg is None:
        eg = _event_groups(as_of, ids, dialect).subquery("eg")
    if lg is None:
        lg = _line_groups(as_of, ids).subquery("lg")
    first, bought = eg, lg
    gap = _epoch_seconds(bought.c.ordered_at, dialect) - _epoch_seconds(
        first.c.first_view, dialect)
    return (
        select(
            bought.c.cid.label("customer_id"),
            func.sum(bought.c.n).label("viewed_lines"),
            func.sum(case((gap <= IMPULSE_WINDOW_SECONDS, bought.c.n), else_=0))
            .label("quick_lines"),
        )
        # Materialised groups carry an index on (cid, product_id); inline ones are
        # aggregate subqueries, which SQLite materialises and indexes automatically.
        .join(first, and_(first.c.cid == bought.c.cid,
                          first.c.product_id == bought.c.product_id))
        .where(first.c.first_view.is_not(None), first.c.first_view <= bought.c.ordered_at)
        .group_by(bought.c.cid)
    )


def _review_sums(session: Session, as_of: datetime, ids: Sequence[str] | None) -> pd.DataFrame:
    dialect = session.get_bind().dialect.name
    weight = func.exp(RATING_LAMBDA * _days_since_t0(Review.reviewed_at, dialect))
    statement = select(
        Review.customer_id,
        func.count().label("reviews"),
        func.sum(Review.rating * weight).label("rating_wsum"),
        func.sum(weight).label("rating_w"),
    ).where(Review.reviewed_at < as_of).group_by(Review.customer_id)
    if ids is not None:
        statement = statement.where(Review.customer_id.in_(list(ids)))
    return _frame(session, statement)


# --------------------------------------------------------------------------- the frame


def _top2(brands: pd.DataFrame) -> pd.DataFrame:
    """``customer_id, branded_lines, top2_lines`` from per-brand counts, vectorised."""
    if brands.empty:
        return pd.DataFrame(columns=["customer_id", "branded_lines", "top2_lines"])
    ranked = brands.sort_values(["customer_id", "n"], ascending=[True, False], kind="stable")
    rank = ranked.groupby("customer_id").cumcount()
    total = ranked.groupby("customer_id")["n"].sum()
    top2 = ranked.loc[rank.to_numpy() < 2].groupby("customer_id")["n"].sum()
    return pd.DataFrame({"branded_lines": total, "top2_lines": top2}).reset_index()


def _top_interest(interest: pd.DataFrame) -> pd.DataFrame:
    """``customer_id, interest_events, interest_total, top_interest, top_category``."""
    if interest.empty:
        return pd.DataFrame(
            columns=["customer_id", "interest_events", "interest_total", "top_interest",
                     "top_category"]
        )
    # Ties go to the alphabetically first category, the same rule tracking uses.
    ranked = interest.sort_values(
        ["customer_id", "weight", "category"], ascending=[True, False, True], kind="stable"
    )
    grouped = ranked.groupby("customer_id", sort=True)
    first = grouped.head(1).set_index("customer_id")
    return pd.DataFrame({
        "interest_events": grouped["n"].sum(),
        "interest_total": grouped["weight"].sum(),
        "top_interest": first["weight"],
        "top_category": first["category"],
    }).reset_index()


def compute_stats(
    session: Session,
    *,
    as_of: datetime,
    customer_ids: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every customer's sufficient statistics from data strictly before ``as_of``.

    Args:
        session: an open session (nothing is written).
        as_of: the moment; only rows stamped strictly before it are read.
        customer_ids: restrict to these customers (default: every customer in
            ``customers``, including those without any data).

    Returns:
        ``(stats, brands, interest)``: ``stats`` has :data:`STATS_COLUMNS` (one
        row per customer, counts as int, no NaN except ``top_category``);
        ``brands`` has ``customer_id, brand, n``; ``interest`` has
        ``customer_id, category, n, weight`` (decay sums, see module docs).
    """
    if customer_ids is None:
        customers = _frame(session, select(Customer.customer_id).order_by(Customer.customer_id))
    else:
        customers = pd.DataFrame({"customer_id": sorted(set(customer_ids))})
    dialect = session.get_bind().dialect.name
    event_groups = _event_groups(as_of, customer_ids, dialect)
    line_groups = _line_groups(as_of, customer_ids)
    whole_store = customer_ids is None
    restore: list[str] = []
    if whole_store and dialect == "sqlite":
        # Millions of grouped rows overflow SQLite's default 2 MB page caches, and the
        # sorts and temporary tables then spill to disk. Bounded (2 x 192 MiB), and
        # restored below: the cache belongs to the pooled connection.
        for schema in ("main", "temp"):
            previous = session.execute(text(f"PRAGMA {schema}.cache_size")).scalar()
            restore.append(f"PRAGMA {schema}.cache_size={int(previous or 0)}")
            session.execute(text(f"PRAGMA {schema}.cache_size=-{_BATCH_CACHE_KIB}"))
    if whole_store:
        _drop_temp(session)
        eg = _materialise(session, _EVENT_GROUPS, event_groups, index=True)
        lg = _materialise(session, _LINE_GROUPS, line_groups, index=False)
    else:
        eg, lg = event_groups.subquery("eg"), line_groups.subquery("lg")
    brands = _brand_counts(session, lg)
    interest = _category_interest(session, eg, lg)
    parts = [
        _event_counts(session, eg),
        _order_counts(session, as_of, customer_ids),
        _line_counts(session, lg),
        _frame(session, impulse_statement(session, as_of, customer_ids, eg, lg)),
        _review_sums(session, as_of, customer_ids),
        _top2(brands),
        _top_interest(interest),
    ]
    if whole_store:
        # Not in a ``finally``: after a failed statement PostgreSQL refuses every other
        # until rollback; a leftover table is dropped by the next run's first step.
        _drop_temp(session)
    for statement in restore:
        session.execute(text(statement))
    stats = customers[["customer_id"]].copy()
    for part in parts:
        if part.empty:
            continue
        part = part.copy()
        # Orders and events both carry weekend/night/mobile: add them up.
        overlap = [c for c in part.columns if c != "customer_id" and c in stats.columns]
        stats = stats.merge(part, on="customer_id", how="left", suffixes=("", "_r"))
        for name in overlap:
            stats[name] = stats[name].fillna(0) + stats.pop(f"{name}_r").fillna(0)
    for name in COUNT_COLUMNS:
        stats[name] = (
            pd.to_numeric(stats[name], errors="coerce").fillna(0).astype("int64")
            if name in stats else np.zeros(len(stats), dtype=np.int64)
        )
    for name in FLOAT_COLUMNS:
        stats[name] = (
            pd.to_numeric(stats[name], errors="coerce").fillna(0.0).astype(float)
            if name in stats else np.zeros(len(stats))
        )
    if "top_category" not in stats:
        stats["top_category"] = None
    stats["top_category"] = stats["top_category"].astype(object).where(
        stats["top_category"].notna(), None
    )
    return stats[STATS_COLUMNS].reset_index(drop=True), brands, interest


# --------------------------------------------------------------------------- one customer


def nested_stats(
    brands: pd.DataFrame, interest: pd.DataFrame
) -> dict[str, dict[str, dict[str, float]]]:
    """Per customer: ``{"brands": {brand: n}, "interest": {category: [n, weight]}}``.

    Tracking needs these to update top-2 brands and the top category
    incrementally. Building one JSON-able dict per customer is serialisation
    (one pass over the grouped rows), not aggregation.
    """
    out: dict[str, dict[str, Any]] = {}
    for cid, brand, n in zip(brands["customer_id"].tolist(), brands["brand"].tolist(),
                             brands["n"].tolist(), strict=True):
        out.setdefault(cid, {"brands": {}, "interest": {}})["brands"][brand] = int(n)
    for cid, category, n, weight in zip(
        interest["customer_id"].tolist(), interest["category"].tolist(),
        interest["n"].tolist(), interest["weight"].tolist(), strict=True,
    ):
        out.setdefault(cid, {"brands": {}, "interest": {}})["interest"][category] = [
            int(n), float(weight)
        ]
    return out


def stats_row(stats: pd.DataFrame, index: int) -> dict[str, Any]:
    """Row ``index`` of a stats frame as a plain dict (JSON-able)."""
    row = stats.iloc[index]
    out: dict[str, Any] = {"customer_id": str(row["customer_id"])}
    for name in COUNT_COLUMNS:
        out[name] = int(row[name])
    for name in FLOAT_COLUMNS:
        out[name] = float(row[name])
    out["top_category"] = row["top_category"] if isinstance(row["top_category"], str) else None
    return out


def refresh_derived(stats: dict[str, Any], nested: dict[str, Any]) -> None:
    """Recompute the brand/category summary fields of one customer's stats from ``nested``."""
    counts = sorted(nested.get("brands", {}).values(), reverse=True)
    stats["branded_lines"] = int(sum(counts))
    stats["top2_lines"] = int(sum(counts[:2]))
    interest = nested.get("interest", {})
    stats["interest_events"] = int(sum(v[0] for v in interest.values()))
    stats["interest_total"] = float(sum(v[1] for v in interest.values()))
    if interest:
        category, (_, weight) = min(interest.items(), key=lambda kv: (-kv[1][1], kv[0]))
        stats["top_category"], stats["top_interest"] = category, float(weight)
    else:
        stats["top_category"], stats["top_interest"] = None, 0.0


def activity_flags(at: datetime, channel: str | None, device: str | None) -> dict[str, int]:
    """The same weekend/night/mobile flags as the SQL, for one event or order."""
    return {
        "weekend": int(at.weekday() >= 5),
        "night": int(at.hour >= 22 or at.hour < 6),
        "mobile": int(device == "mobile" or channel in MOBILE_CHANNELS),
    }

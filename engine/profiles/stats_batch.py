"""The batch statistics of a set of customers, in set-based SQL (one range of
:func:`engine.profiles.stats.compute_stats`).

How it stays fast on SQLite (which has no hash aggregation, so every ``GROUP BY``
that does not follow an index sorts its input): events and orders are read
through covering indexes in customer order, so per-customer and per-(customer,
product) groups stream without sorting or table look-ups; the intermediate groups
go to temporary tables keyed by customer first, so every later aggregate streams
too; per-customer "top" values (top category, top two brands) are small
correlated look-ups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from engine.profiles.stats_definitions import (
    COUNT_COLUMNS,
    FLOAT_COLUMNS,
    FREQUENCY_WINDOW,
    IMPULSE_WINDOW_SECONDS,
    INTEREST_LAMBDA,
    LINE_TIME,
    RATING_LAMBDA,
    STATS_COLUMNS,
)
from engine.profiles.stats_dialect import CustomerSet, Dialect, read_frame, statement

_VIEWS, _LINES, _INTEREST = "tmp_pf_views", "tmp_pf_lines", "tmp_pf_interest"


def _drop_temp(connection: Connection) -> None:
    for name in (_VIEWS, _LINES, _INTEREST):
        connection.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _create_temp(connection: Connection, d: Dialect) -> None:
    ts, cid, category = d.timestamp, d.key(64), d.key(100)
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE {_VIEWS} (cid {cid} NOT NULL, category {category} NOT NULL, "
            f"product_id {cid} NOT NULL, n INTEGER NOT NULL, weight FLOAT NOT NULL, "
            f"first_view {ts} NOT NULL, PRIMARY KEY (cid, category, product_id)){d.keyed}"
        )
    )
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE {_LINES} (cid {cid} NOT NULL, category {category} NOT NULL, "
            f"order_id {cid} NOT NULL, line_no INTEGER NOT NULL, product_id {cid} NOT NULL, "
            f"ordered_at {ts} NOT NULL, brand VARCHAR(100), spend FLOAT NOT NULL, "
            f"disc INTEGER NOT NULL, first_view {ts}, "
            f"PRIMARY KEY (cid, category, order_id, line_no)){d.keyed}"
        )
    )
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE {_INTEREST} (cid {cid} NOT NULL, "
            f"category {category} NOT NULL, n INTEGER NOT NULL, weight FLOAT NOT NULL, "
            f"PRIMARY KEY (cid, category)){d.keyed}"
        )
    )


def _analyze(connection: Connection, *tables: str) -> None:
    """PostgreSQL never auto-analyses temporary tables: give the planner their sizes."""
    if connection.dialect.name == "postgresql":
        for name in tables:
            connection.execute(text(f"ANALYZE {name}"))


def _stitched(customers: CustomerSet, join: str = "") -> str:
    """FROM/WHERE of the anonymous events linked to the customers (alias ``e``, link ``k``).

    ``coalesce(e.customer_id, '') = ''`` rather than ``IS NULL`` keeps the planner
    on identity_links -> events(anonymous_id) instead of scanning events by customer.
    """
    return (
        f"FROM identity_links k JOIN events e ON e.anonymous_id = k.anonymous_id {join} "
        f"WHERE coalesce(e.customer_id, '') = '' AND {customers.where('k.customer_id')} "
        # A link counts from its linked_at: as of T only links made before T stitch.
        "AND k.linked_at < :as_of"
    )


def compute_part(connection: Connection, as_of: datetime, customers: CustomerSet) -> pd.DataFrame:
    """The statistics of the customers in ``customers`` (only those with any data)."""
    d = Dialect(connection.dialect.name)
    params = {"as_of": as_of, "since": as_of - FREQUENCY_WINDOW, **customers.params()}

    def run(sql: str) -> Any:
        return connection.execute(statement(sql, customers), params)

    def fetch(sql: str) -> pd.DataFrame:
        return read_frame(connection, statement(sql, customers), params)

    view_weight = d.decay("e.occurred_at", INTEREST_LAMBDA)
    # The category is the product's: SQLite takes it as an aggregate, so the groups
    # stay those of the covering index; PostgreSQL (hash aggregation) groups by it.
    category = "max(coalesce(p.category, ''))" if d.name == "sqlite" else "coalesce(p.category, '')"
    by_category = "" if d.name == "sqlite" else ", p.category"
    view_groups = f"{category}, e.product_id, count(*), sum({view_weight}), min(e.occurred_at)"
    before = f"{d.unindexed('e.occurred_at')} < :as_of"
    view_filter = f"e.event_type = 'product_view' AND {before}"
    _drop_temp(connection)
    _create_temp(connection, d)
    # Views per (customer, product): the covering index yields them in this order.
    run(
        f"INSERT INTO {_VIEWS} (cid, category, product_id, n, weight, first_view) "
        f"SELECT e.customer_id, {view_groups} "
        "FROM events e JOIN products p ON p.product_id = e.product_id "
        f"WHERE {customers.where('e.customer_id')} AND {view_filter} "
        f"GROUP BY e.customer_id, e.product_id{by_category}"
    )
    run(
        f"INSERT INTO {_VIEWS} (cid, category, product_id, n, weight, first_view) "
        f"SELECT k.customer_id, {view_groups} "
        f"{_stitched(customers, 'JOIN products p ON p.product_id = e.product_id')} "
        f"AND {view_filter} GROUP BY k.customer_id, e.product_id{by_category} "
        "ON CONFLICT (cid, category, product_id) DO UPDATE SET "
        f"n = {_VIEWS}.n + excluded.n, weight = {_VIEWS}.weight + excluded.weight, "
        f"first_view = {d.least(f'{_VIEWS}.first_view', 'excluded.first_view')}"
    )
    _analyze(connection, _VIEWS)
    counts = (
        "sum(CASE WHEN e.event_type = 'product_view' THEN 1 ELSE 0 END) AS views, "
        "sum(CASE WHEN e.event_type = 'search' THEN 1 ELSE 0 END) AS searches, "
        "count(*) AS activity, sum(e.at_weekend) AS weekend, sum(e.at_night) AS night, "
        "sum(e.on_mobile) AS mobile"
    )
    activity = fetch(
        f"SELECT e.customer_id AS customer_id, {counts} "
        f"FROM events e WHERE {customers.where('e.customer_id')} "
        f"AND e.event_type <> 'purchase' AND {before} "
        "GROUP BY e.customer_id "
        "UNION ALL "
        f"SELECT k.customer_id, {counts} {_stitched(customers)} "
        f"AND e.event_type <> 'purchase' AND {before} "
        "GROUP BY k.customer_id"
    )
    orders = fetch(
        "SELECT customer_id, count(*) AS orders, count(*) AS activity, "
        "sum(CASE WHEN ordered_at >= :since THEN 1 ELSE 0 END) AS orders_365, "
        "sum(at_weekend) AS weekend, sum(at_night) AS night, sum(on_mobile) AS mobile "
        f"FROM orders WHERE {customers.where('customer_id')} "
        f"AND {d.unindexed('ordered_at')} < :as_of "
        "GROUP BY customer_id"
    )
    # Order lines with their first view (if any) of the same product.
    run(
        f"INSERT INTO {_LINES} (cid, category, order_id, line_no, product_id, ordered_at, "
        "brand, spend, disc, first_view) "
        "SELECT o.customer_id, coalesce(p.category, ''), o.order_id, l.line_no, l.product_id, "
        f"{LINE_TIME}, p.brand, l.quantity * l.unit_price, "
        "CASE WHEN l.discount > 0 OR (p.list_price IS NOT NULL "
        "AND l.unit_price < p.list_price) THEN 1 ELSE 0 END, v.first_view "
        # CROSS JOIN: SQLite then reads orders first, through their covering index in
        # customer order (PostgreSQL plans it as the inner join it is); the views are
        # probed by their primary key.
        "FROM orders o CROSS JOIN order_lines l JOIN products p ON p.product_id = l.product_id "
        f"LEFT JOIN {_VIEWS} v ON v.cid = o.customer_id "
        "AND v.category = coalesce(p.category, '') AND v.product_id = l.product_id "
        f"WHERE l.order_id = o.order_id AND {customers.where('o.customer_id')} "
        f"AND {d.unindexed('o.ordered_at')} < :as_of AND {LINE_TIME} < :as_of"
    )
    _analyze(connection, _LINES)
    gap = f"{d.epoch('ordered_at')} - {d.epoch('first_view')}"
    lines = fetch(
        "SELECT cid AS customer_id, count(*) AS lines, sum(disc) AS disc_lines, "
        "sum(spend) AS spend, "
        # Brand loyalty counts products, not lines: rebuying one staple is no brand choice.
        "count(DISTINCT CASE WHEN brand IS NOT NULL THEN product_id END) AS branded_lines, "
        "sum(CASE WHEN first_view <= ordered_at THEN 1 ELSE 0 END) AS viewed_lines, "
        "sum(CASE WHEN first_view <= ordered_at "
        f"AND {gap} <= {IMPULSE_WINDOW_SECONDS!r} THEN 1 ELSE 0 END) AS quick_lines "
        f"FROM {_LINES} GROUP BY cid"
    )
    # Interest per (customer, category): views, then purchased lines on top.
    line_weight = d.decay("ordered_at", INTEREST_LAMBDA)
    if d.name == "sqlite":
        # Two streaming passes (both tables are keyed by customer, category): a union
        # would have to be sorted.
        run(
            f"INSERT INTO {_INTEREST} (cid, category, n, weight) "
            f"SELECT cid, category, sum(n), sum(weight) FROM {_VIEWS} WHERE category <> '' "
            "GROUP BY cid, category"
        )
        run(
            f"INSERT INTO {_INTEREST} (cid, category, n, weight) "
            f"SELECT cid, category, count(*), sum({line_weight}) "
            f"FROM {_LINES} WHERE category <> '' GROUP BY cid, category "
            f"ON CONFLICT (cid, category) DO UPDATE SET n = {_INTEREST}.n + excluded.n, "
            f"weight = {_INTEREST}.weight + excluded.weight"
        )
    else:
        run(
            f"INSERT INTO {_INTEREST} (cid, category, n, weight) "
            "SELECT cid, category, sum(n), sum(weight) FROM ("
            f"SELECT cid, category, n, weight FROM {_VIEWS} WHERE category <> '' UNION ALL "
            f"SELECT cid, category, 1, {line_weight} FROM {_LINES} WHERE category <> ''"
            ") u GROUP BY cid, category"
        )
    _analyze(connection, _INTEREST)
    interest = fetch(
        "SELECT cid AS customer_id, sum(n) AS interest_events, sum(weight) AS interest_total "
        f"FROM {_INTEREST} GROUP BY cid"
    )
    tops = fetch(_tops_sql(d, customers))
    review_weight = d.decay("reviewed_at", RATING_LAMBDA)
    reviews = fetch(
        "SELECT customer_id, count(*) AS reviews, "
        f"sum(rating * {review_weight}) AS rating_wsum, sum({review_weight}) AS rating_w "
        f"FROM reviews WHERE {customers.where('customer_id')} AND reviewed_at < :as_of "
        "GROUP BY customer_id"
    )
    _drop_temp(connection)

    tops = tops.fillna({"brand_1": 0, "brand_2": 0})
    tops["top2_lines"] = tops.pop("brand_1").astype("int64") + tops.pop("brand_2").astype("int64")
    return _combine([activity, orders, lines, interest, tops, reviews])


def _tops_sql(d: Dialect, customers: CustomerSet) -> str:
    """Per customer: the top category and its weight (ties: alphabetical), and the
    distinct products bought of their first and second brand (``brand_1``, ``brand_2``)."""
    if d.name == "sqlite":
        # Small look-ups per customer into the customer-keyed tables: no global sort.
        brand_rank = (
            f"(SELECT count(DISTINCT b.product_id) FROM {_LINES} b WHERE b.cid = c.customer_id "
            "AND b.brand IS NOT NULL GROUP BY b.brand "
            "ORDER BY count(DISTINCT b.product_id) DESC LIMIT 1{offset})"
        )
        top = (
            f"(SELECT i.{{column}} FROM {_INTEREST} i WHERE i.cid = c.customer_id "
            "ORDER BY i.weight DESC, i.category LIMIT 1)"
        )
        return (
            "SELECT c.customer_id AS customer_id, "
            f"{top.format(column='category')} AS top_category, "
            f"{top.format(column='weight')} AS top_interest, "
            f"{brand_rank.format(offset='')} AS brand_1, "
            f"{brand_rank.format(offset=' OFFSET 1')} AS brand_2 "
            f"FROM customers c WHERE {customers.where('c.customer_id')}"
        )
    # PostgreSQL: set-based (hash aggregation and one sort beat 100,000 sub-plans).
    return (
        "SELECT coalesce(t.cid, b.cid) AS customer_id, t.category AS top_category, "
        "t.weight AS top_interest, "
        "b.brand_1, b.brand_2 FROM "
        f"(SELECT DISTINCT ON (cid) cid, category, weight FROM {_INTEREST} "
        "ORDER BY cid, weight DESC, category) t FULL JOIN "
        "(SELECT cid, sum(CASE WHEN r = 1 THEN n END) AS brand_1, "
        "sum(CASE WHEN r = 2 THEN n END) AS brand_2 FROM "
        "(SELECT cid, count(DISTINCT product_id) AS n, row_number() OVER (PARTITION BY cid "
        f"ORDER BY count(DISTINCT product_id) DESC) AS r FROM {_LINES} WHERE brand IS NOT NULL "
        "GROUP BY cid, brand) ranked WHERE r <= 2 GROUP BY cid) b ON b.cid = t.cid"
    )


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Outer-join per-customer parts; columns present twice (events and orders both
    carry weekend/night/mobile/activity) are added up."""
    out: pd.DataFrame | None = None
    for part in parts:
        if part["customer_id"].duplicated().any():  # own and stitched events
            part = part.groupby("customer_id", sort=False).sum(min_count=1).reset_index()
        part = part.set_index("customer_id")
        if out is None:
            out = part
            continue
        shared = [c for c in part.columns if c in out.columns]
        out = out.join(part, how="outer", suffixes=("", "_r"))
        for name in shared:
            out[name] = out[name].fillna(0) + out.pop(f"{name}_r").fillna(0)
    assert out is not None
    out.index.name = "customer_id"
    return out.reset_index()


def typed_stats(stats: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": stats["customer_id"].astype(str).to_numpy()})
    for name in COUNT_COLUMNS:
        out[name] = (
            pd.to_numeric(stats[name], errors="coerce").fillna(0).astype("int64")
            if name in stats
            else np.zeros(len(stats), dtype=np.int64)
        )
    for name in FLOAT_COLUMNS:
        out[name] = (
            pd.to_numeric(stats[name], errors="coerce").fillna(0.0).astype(float)
            if name in stats
            else np.zeros(len(stats))
        )
    top = stats["top_category"] if "top_category" in stats else pd.Series([None] * len(stats))
    out["top_category"] = pd.Series(
        [v if isinstance(v, str) else None for v in top.tolist()], dtype=object
    )
    return out[STATS_COLUMNS].sort_values("customer_id", kind="stable").reset_index(drop=True)

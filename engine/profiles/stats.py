"""Per-customer sufficient statistics: the counts and sums every score is a function of.

Batch scoring (:func:`compute_stats`) computes them for the whole store with
set-based SQL, and :mod:`engine.profiles.tracking` updates one customer's
statistics in place when an event arrives (with the one-customer queries at the
end of this module). Scores are a pure function of (statistics, calibration)
(:mod:`engine.profiles.scoring`), so both paths give the same profile.

Definitions (see ``docs/scoring.md``):

* **activity** = every behavioral event except ``purchase`` (a purchase is
  counted once, through its order) plus every order; an anonymous event is the
  customer's when its ``anonymous_id`` is linked to them (``identity_links``);
* **weekend**, **night**, **mobile**: the generated 0/1 columns of ``events``
  and ``orders`` (:class:`engine.models.activity_flag`; :func:`activity_flags`
  is the same rule in Python);
* **interest**: views and purchased lines per category, time-decayed;
* **time decay**: an observation at ``t`` weighs ``exp(lambda * days(t - T0))``
  with a fixed origin ``T0``; the decayed value as of ``A`` is that sum times
  ``exp(-lambda * days(A - T0))``, so sums stay additive and the decay is
  applied when read (shares do not depend on ``A`` at all).

How the batch stays fast on SQLite (which has no hash aggregation, so every
``GROUP BY`` that does not follow an index sorts its input): events and orders
are read through covering indexes in customer order, so per-customer and
per-(customer, product) groups stream without sorting or table look-ups; the
intermediate groups go to temporary tables keyed by customer first, so every
later aggregate streams too; per-customer "top" values (top category, top two
brands) are small correlated look-ups. A large store's customers are split into
ranges scored concurrently, each range in its own process (measured: two
threads of one process ran the same ranges in 21 s each against 8 s in two
processes, most likely SQLite's process-wide locks such as its allocator's).
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, DateTime, Engine, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from engine.frames import existing_customers
from engine.models import MOBILE_CHANNELS, NIGHT_HOURS, Customer
from engine.profiles.emotion import RATING_HALF_LIFE_DAYS

T0 = datetime(2000, 1, 1)
"""Origin of the time-decay weights (any fixed moment works; it cancels in shares)."""
_T0_EPOCH = (T0 - datetime(1970, 1, 1)).total_seconds()

INTEREST_HALF_LIFE_DAYS = 90.0
"""Half-life of category/brand interest (views and purchased lines)."""
INTEREST_LAMBDA = math.log(2.0) / INTEREST_HALF_LIFE_DAYS
RATING_LAMBDA = math.log(2.0) / RATING_HALF_LIFE_DAYS

FREQUENCY_WINDOW = timedelta(days=365)
IMPULSE_WINDOW_SECONDS = 30 * 60.0
# A line's own time (aliases ``l`` and ``o``): the till's stamp, else the order's.
LINE_TIME = "coalesce(l.ordered_at, o.ordered_at)"

COUNT_COLUMNS = [
    "orders", "orders_365", "lines", "disc_lines", "branded_lines", "top2_lines",
    "viewed_lines", "quick_lines", "views", "searches", "activity", "weekend", "night",
    "mobile", "reviews", "interest_events",
]
FLOAT_COLUMNS = ["spend", "rating_wsum", "rating_w", "interest_total", "top_interest"]
STATS_COLUMNS = ["customer_id", *COUNT_COLUMNS, *FLOAT_COLUMNS, "top_category"]
"""Columns of :func:`compute_stats`'s frame (one row per customer)."""

MAX_WORKERS = 4
"""Upper bound on the processes of one batch (also bounded by the CPUs)."""
MIN_PARTITION_CUSTOMERS = 20_000
"""Stores smaller than two of these are scored in one piece (a process costs ~1 s)."""
_BATCH_CACHE_KIB = 256 * 1024
"""SQLite page cache per batch connection while it runs (restored afterwards)."""
_BATCH_WORK_MEM_MIB = 128
"""PostgreSQL ``work_mem`` of a batch transaction (per sort or hash; the default is 4 MB)."""


def decay_weight(at: datetime, lam: float) -> float:
    """``exp(lam * days(at - T0))``: the un-normalised weight of an observation at ``at``."""
    return math.exp(lam * ((at - T0).total_seconds() / 86400.0))


def decay_factor(as_of: datetime, lam: float) -> float:
    """Multiply a stored weight sum by this to read it as of ``as_of``."""
    return math.exp(-lam * ((as_of - T0).total_seconds() / 86400.0))


def activity_flags(at: datetime, channel: str | None, device: str | None) -> dict[str, int]:
    """The weekend/night/mobile flags of one event or order (the generated columns' rule)."""
    return {
        "weekend": int(at.weekday() >= 5),
        "night": int(at.hour >= NIGHT_HOURS[0] or at.hour < NIGHT_HOURS[1]),
        "mobile": int(device == "mobile" or channel in MOBILE_CHANNELS),
    }


# --------------------------------------------------------------------------- SQL dialect bits


@dataclass(frozen=True)
class _Dialect:
    """The few spellings SQLite and PostgreSQL do not share."""

    name: str

    def epoch(self, column: str) -> str:
        if self.name == "sqlite":
            return f"((julianday({column}) - 2440587.5) * 86400.0)"
        # date_part is double precision; EXTRACT is NUMERIC since PostgreSQL 14, and
        # exp() of a NUMERIC is computed to dozens of digits (many times slower).
        return f"date_part('epoch', {column})"

    def decay(self, column: str, lam: float) -> str:
        """``exp(lam * days since T0)`` of a timestamp column."""
        return f"exp({lam!r} * ({self.epoch(column)} - {_T0_EPOCH!r}) / 86400.0)"

    def unindexed(self, column: str) -> str:
        """``column`` in a form SQLite will not use an index for (``+column``): the time
        filters must not steer the planner off the customer-ordered covering indexes."""
        return f"+{column}" if self.name == "sqlite" else column

    def least(self, a: str, b: str) -> str:
        return f"min({a}, {b})" if self.name == "sqlite" else f"LEAST({a}, {b})"

    def key(self, length: int) -> str:
        """Type of a key column of a temporary table: PostgreSQL compares ``"C"``-collated
        text bytewise (any other collation goes through the C library, several times slower)."""
        return f"VARCHAR({length})" + (' COLLATE "C"' if self.name == "postgresql" else "")

    @property
    def keyed(self) -> str:
        """Table suffix: SQLite stores a keyed temporary table as its primary-key B-tree."""
        return " WITHOUT ROWID" if self.name == "sqlite" else ""

    @property
    def timestamp(self) -> str:
        return "DATETIME" if self.name == "sqlite" else "TIMESTAMP"


@dataclass(frozen=True)
class _Customers:
    """Which customers a batch part covers: a range ``[lo, hi)``, a list, or all."""

    lo: str | None = None
    hi: str | None = None
    ids: tuple[str, ...] | None = None

    def where(self, column: str) -> str:
        if self.ids is not None:
            return f"{column} IN :ids"
        parts = [f"{column} IS NOT NULL"]
        if self.lo is not None:
            parts.append(f"{column} >= :lo")
        if self.hi is not None:
            parts.append(f"{column} < :hi")
        return " AND ".join(parts)

    def params(self) -> dict[str, Any]:
        if self.ids is not None:
            return {"ids": list(self.ids)}
        return {k: v for k, v in (("lo", self.lo), ("hi", self.hi)) if v is not None}


def _statement(sql: str, customers: _Customers) -> TextClause:
    statement = text(sql)
    binds = [bindparam("as_of", type_=DateTime()), bindparam("since", type_=DateTime())]
    binds = [b for b in binds if f":{b.key}" in sql]
    if customers.ids is not None and ":ids" in sql:
        binds.append(bindparam("ids", expanding=True))
    return statement.bindparams(*binds)


def _frame(connection: Connection, statement: Any, params: dict[str, Any]) -> pd.DataFrame:
    result = connection.execute(statement, params)
    keys = list(result.keys())
    # Column-wise from plain tuples: cheaper than pandas probing each Row object.
    columns = list(zip(*result.fetchall(), strict=False)) or [()] * len(keys)
    frame = pd.DataFrame({k: list(v) for k, v in zip(keys, columns, strict=True)}, columns=keys)
    for name in frame.columns:
        # PostgreSQL's SUM of integers is NUMERIC: Decimal objects do not mix with floats.
        present = frame[name].dropna()
        if frame[name].dtype == object and len(present) and isinstance(present.iloc[0], Decimal):
            frame[name] = frame[name].astype(float)
    return frame


# --------------------------------------------------------------------------- batch parts

_VIEWS, _LINES, _INTEREST = "tmp_pf_views", "tmp_pf_lines", "tmp_pf_interest"


def _drop_temp(connection: Connection) -> None:
    for name in (_VIEWS, _LINES, _INTEREST):
        connection.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _create_temp(connection: Connection, d: _Dialect) -> None:
    ts, cid, category = d.timestamp, d.key(64), d.key(100)
    connection.execute(text(
        f"CREATE TEMPORARY TABLE {_VIEWS} (cid {cid} NOT NULL, category {category} NOT NULL, "
        f"product_id {cid} NOT NULL, n INTEGER NOT NULL, weight FLOAT NOT NULL, "
        f"first_view {ts} NOT NULL, PRIMARY KEY (cid, category, product_id)){d.keyed}"
    ))
    connection.execute(text(
        f"CREATE TEMPORARY TABLE {_LINES} (cid {cid} NOT NULL, category {category} NOT NULL, "
        f"order_id {cid} NOT NULL, line_no INTEGER NOT NULL, product_id {cid} NOT NULL, "
        f"ordered_at {ts} NOT NULL, brand VARCHAR(100), spend FLOAT NOT NULL, "
        f"disc INTEGER NOT NULL, first_view {ts}, "
        f"PRIMARY KEY (cid, category, order_id, line_no)){d.keyed}"
    ))
    connection.execute(text(
        f"CREATE TEMPORARY TABLE {_INTEREST} (cid {cid} NOT NULL, category {category} NOT NULL, "
        f"n INTEGER NOT NULL, weight FLOAT NOT NULL, PRIMARY KEY (cid, category)){d.keyed}"
    ))


def _analyze(connection: Connection, *tables: str) -> None:
    """PostgreSQL never auto-analyses temporary tables: give the planner their sizes."""
    if connection.dialect.name == "postgresql":
        for name in tables:
            connection.execute(text(f"ANALYZE {name}"))


def _stitched(customers: _Customers, join: str = "") -> str:
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


def _part(connection: Connection, as_of: datetime, customers: _Customers) -> pd.DataFrame:
    """The statistics of the customers in ``customers`` (only those with any data)."""
    d = _Dialect(connection.dialect.name)
    params = {"as_of": as_of, "since": as_of - FREQUENCY_WINDOW, **customers.params()}

    def run(sql: str) -> Any:
        return connection.execute(_statement(sql, customers), params)

    def fetch(sql: str) -> pd.DataFrame:
        return _frame(connection, _statement(sql, customers), params)

    view_weight = d.decay("e.occurred_at", INTEREST_LAMBDA)
    # The category is the product's: SQLite takes it as an aggregate, so the groups
    # stay those of the covering index; PostgreSQL (hash aggregation) groups by it.
    category = "max(coalesce(p.category, ''))" if d.name == "sqlite" else \
        "coalesce(p.category, '')"
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


def _tops_sql(d: _Dialect, customers: _Customers) -> str:
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


# --------------------------------------------------------------------------- the frame


def _partitions(ids: list[str], workers: int) -> list[_Customers]:
    """Up to ``workers`` customer-id ranges of about equal size, from the ids in the
    database's order."""
    workers = min(workers, len(ids) // MIN_PARTITION_CUSTOMERS)
    if workers <= 1:
        return [_Customers()]
    bounds = [None, *(ids[len(ids) * k // workers] for k in range(1, workers)), None]
    return [_Customers(lo=bounds[k], hi=bounds[k + 1]) for k in range(workers)]


def _workers(engine: Engine) -> int:
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return 1  # every connection to an in-memory database is a different database
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


@contextmanager
def _batch_connection(connection: Connection) -> Iterator[Connection]:
    """``connection`` set up for a batch: on SQLite a large page cache for the duration
    (restored after); on PostgreSQL sort/hash memory for the rest of the transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET LOCAL work_mem = '{_BATCH_WORK_MEM_MIB}MB'"))
        if not connection.info.get("used_temp_tables"):
            # Temporary tables live in local buffers (8 MB by default), settable only
            # before a session's first temporary table.
            connection.execute(text(f"SET temp_buffers = '{_BATCH_WORK_MEM_MIB * 4}MB'"))
        connection.info["used_temp_tables"] = True
    if connection.dialect.name != "sqlite":
        yield connection
        return
    restore = []
    for schema in ("main", "temp"):
        previous = connection.execute(text(f"PRAGMA {schema}.cache_size")).scalar()
        restore.append(f"PRAGMA {schema}.cache_size={int(previous or 0)}")
        connection.execute(text(f"PRAGMA {schema}.cache_size=-{_BATCH_CACHE_KIB}"))
    try:
        yield connection
    finally:
        for statement in restore:
            connection.execute(text(statement))


def part_in_process(url: str, as_of: datetime, customers: _Customers) -> pd.DataFrame:
    """One range of the batch in a worker process, on its own connection (read-only)."""
    from engine.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection, _batch_connection(connection) as batch:
            frame = _part(batch, as_of, customers)
            connection.rollback()
            return frame
    finally:
        engine.dispose()


worker_peak_mib = 0.0
"""Largest peak resident memory (MiB) of any worker process so far (for the benchmark)."""


def _run_worker(url: str, as_of: datetime, customers: _Customers) -> pd.DataFrame:
    """One range in a child process (see :mod:`engine.profiles.stats_worker`)."""
    proc = subprocess.run(
        [sys.executable, "-m", "engine.profiles.stats_worker"],
        input=pickle.dumps((url, as_of, customers)), capture_output=True, check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise RuntimeError(f"batch scoring worker failed: {' '.join(tail)}")
    frame, peak_mib = pickle.loads(proc.stdout)
    global worker_peak_mib
    worker_peak_mib = max(worker_peak_mib, float(peak_mib))
    return frame  # type: ignore[no-any-return]


def compute_stats(
    session: Session,
    *,
    as_of: datetime,
    customer_ids: Sequence[str] | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Every customer's sufficient statistics from data strictly before ``as_of``.

    Args:
        session: an open session (nothing is written but temporary tables).
        as_of: the moment; only rows stamped strictly before it are read.
        customer_ids: restrict to these customers (default: every customer that
            exists as of ``as_of``, see :func:`engine.frames.existing_customers`,
            including those signed up without any data yet).
        workers: processes for the whole store (default: one per CPU, at most
            :data:`MAX_WORKERS`, and only for stores of at least two
            :data:`MIN_PARTITION_CUSTOMERS`). The first range is read on the
            session's connection, the others in worker processes, which see what
            is committed.

    Returns:
        Frame with :data:`STATS_COLUMNS`, one row per customer sorted by id,
        counts as int, no NaN except ``top_category`` (``None`` without interest).
    """
    connection = session.connection()
    if customer_ids is None:
        # Only customers that exist as of the moment (a later first sign does not count).
        customers = _frame(connection, select(Customer.customer_id).where(
            existing_customers(as_of)).order_by(Customer.customer_id), {})
        engine = connection.engine
        partitions = _partitions(customers["customer_id"].tolist(),
                                 workers if workers is not None else _workers(engine))
        url = engine.url.render_as_string(hide_password=False)
        # The other ranges run in child processes (threads here only wait for them)
        # while this one reads the first range on the session's connection.
        with ThreadPoolExecutor(max_workers=max(1, len(partitions) - 1)) as waiters:
            futures = [waiters.submit(_run_worker, url, as_of, p) for p in partitions[1:]]
            with _batch_connection(connection) as batch:
                parts = [_part(batch, as_of, partitions[0])]
            parts += [future.result() for future in futures]
    else:
        ids = tuple(sorted(set(customer_ids)))
        customers = pd.DataFrame({"customer_id": list(ids)})
        parts = [_part(connection, as_of, _Customers(ids=ids))] if ids else []
    stats = customers[["customer_id"]]
    found = [p for p in parts if not p.empty]
    if found:
        stats = stats.merge(pd.concat(found, ignore_index=True), on="customer_id", how="left")
    return _typed(stats)


def _typed(stats: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": stats["customer_id"].astype(str).to_numpy()})
    for name in COUNT_COLUMNS:
        out[name] = (pd.to_numeric(stats[name], errors="coerce").fillna(0).astype("int64")
                     if name in stats else np.zeros(len(stats), dtype=np.int64))
    for name in FLOAT_COLUMNS:
        out[name] = (pd.to_numeric(stats[name], errors="coerce").fillna(0.0).astype(float)
                     if name in stats else np.zeros(len(stats)))
    top = stats["top_category"] if "top_category" in stats else pd.Series([None] * len(stats))
    out["top_category"] = pd.Series([v if isinstance(v, str) else None for v in top.tolist()],
                                    dtype=object)
    return out[STATS_COLUMNS].sort_values("customer_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- one customer
#
# Tracking keeps one customer's statistics current with O(1) counter updates plus
# these indexed look-ups; they implement the batch definitions for one customer
# (tests compare the two on random event sequences).


_ONE_CUSTOMER_VIEWS = (
    "SELECT e.product_id AS product_id, e.occurred_at AS occurred_at FROM events e "
    "WHERE e.customer_id = :cid AND e.event_type = 'product_view' "
    "AND e.occurred_at < :as_of "
    "UNION ALL SELECT e.product_id, e.occurred_at FROM identity_links k "
    "JOIN events e ON e.anonymous_id = k.anonymous_id "
    "WHERE k.customer_id = :cid AND coalesce(e.customer_id, '') = '' "
    "AND e.event_type = 'product_view' AND e.occurred_at < :as_of AND k.linked_at < :as_of"
)
"""Views of ``:cid`` before ``:as_of``, own and stitched: ``product_id, occurred_at``."""


def _one_customer_lines(join: str = "") -> str:
    return (
        "FROM orders o JOIN order_lines l ON l.order_id = o.order_id "
        f"JOIN products p ON p.product_id = l.product_id {join} "
        f"WHERE o.customer_id = :cid AND o.ordered_at < :as_of AND {LINE_TIME} < :as_of"
    )


_ONE_CUSTOMER: dict[tuple[str, str], TextClause] = {}


def _one(kind: str, dialect: str) -> TextClause:
    """The one-customer statement ``kind``, built once per dialect."""
    key = (kind, dialect)
    if key not in _ONE_CUSTOMER:
        d = _Dialect(dialect)
        views = _ONE_CUSTOMER_VIEWS
        sql = {
            "interest": (
                "SELECT category, sum(n) AS n, sum(w) AS w FROM ("
                f"SELECT p.category AS category, count(*) AS n, "
                f"sum({d.decay('v.occurred_at', INTEREST_LAMBDA)}) AS w "
                f"FROM ({views}) v JOIN products p ON p.product_id = v.product_id "
                "WHERE p.category IS NOT NULL GROUP BY p.category "
                "UNION ALL SELECT p.category, count(*), "
                f"sum({d.decay(LINE_TIME, INTEREST_LAMBDA)}) {_one_customer_lines()} "
                "AND p.category IS NOT NULL GROUP BY p.category"
                ") t GROUP BY category"
            ),
            "brands": (
                f"SELECT p.brand, count(DISTINCT l.product_id) {_one_customer_lines()} "
                "AND p.brand IS NOT NULL "
                "GROUP BY p.brand"
            ),
            "impulse": (
                f"SELECT sum(CASE WHEN f.first_view <= {LINE_TIME} THEN 1 ELSE 0 END), "
                f"sum(CASE WHEN f.first_view <= {LINE_TIME} AND "
                f"{d.epoch(LINE_TIME)} - {d.epoch('f.first_view')} <= "
                f"{IMPULSE_WINDOW_SECONDS!r} THEN 1 ELSE 0 END) "
                + _one_customer_lines(
                    f"JOIN (SELECT product_id, min(occurred_at) AS first_view FROM ({views}) v "
                    "GROUP BY product_id) f ON f.product_id = l.product_id"
                )
            ),
            "orders_365": (
                "SELECT count(*) FROM orders WHERE customer_id = :cid "
                "AND ordered_at >= :since AND ordered_at < :as_of"
            ),
        }[kind]
        binds = [bindparam("as_of", type_=DateTime())]
        if ":since" in sql:
            binds.append(bindparam("since", type_=DateTime()))
        _ONE_CUSTOMER[key] = text(sql).bindparams(*binds)
    return _ONE_CUSTOMER[key]


def customer_interest(session: Session, customer_id: str, as_of: datetime
                      ) -> dict[str, tuple[int, float]]:
    """One customer's interest per category: ``{category: (n, decay sum)}``."""
    rows = session.connection().execute(_one("interest", session.get_bind().dialect.name),
                           {"cid": customer_id, "as_of": as_of})
    return {str(c): (int(n), float(w)) for c, n, w in rows}


def customer_brands(session: Session, customer_id: str, as_of: datetime) -> dict[str, int]:
    """One customer's distinct purchased products per brand."""
    rows = session.connection().execute(_one("brands", session.get_bind().dialect.name),
                           {"cid": customer_id, "as_of": as_of})
    return {str(b): int(n) for b, n in rows}


def customer_impulse(session: Session, customer_id: str, as_of: datetime) -> tuple[int, int]:
    """``(viewed_lines, quick_lines)`` of one customer."""
    row = session.connection().execute(_one("impulse", session.get_bind().dialect.name),
                          {"cid": customer_id, "as_of": as_of}).first()
    return (int(row[0] or 0), int(row[1] or 0)) if row is not None else (0, 0)


def customer_orders_365(session: Session, customer_id: str, as_of: datetime) -> int:
    """Orders of one customer in the :data:`FREQUENCY_WINDOW` before ``as_of``."""
    return int(session.connection().execute(
        _one("orders_365", session.get_bind().dialect.name),
        {"cid": customer_id, "as_of": as_of, "since": as_of - FREQUENCY_WINDOW},
    ).scalar() or 0)


def apply_interest(stats: dict[str, Any], interest: dict[str, tuple[int, float]],
                   brands: dict[str, int] | None = None) -> None:
    """Set the interest (and, given ``brands``, brand) fields of one customer's stats."""
    stats["interest_events"] = int(sum(n for n, _ in interest.values()))
    stats["interest_total"] = float(sum(w for _, w in interest.values()))
    if interest:
        # Ties go to the alphabetically first category, as in the batch.
        category, (_, weight) = min(interest.items(), key=lambda kv: (-kv[1][1], kv[0]))
        stats["top_category"], stats["top_interest"] = category, float(weight)
    else:
        stats["top_category"], stats["top_interest"] = None, 0.0
    if brands is not None:
        counts = sorted(brands.values(), reverse=True)
        stats["branded_lines"] = int(sum(counts))
        stats["top2_lines"] = int(sum(counts[:2]))

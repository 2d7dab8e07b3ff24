"""The history-dependent statistics of many customers at once, each as of their own
moment: what real-time tracking re-reads after writing events (one customer for
``track``, every customer of a run for ``track_many``), in one statement.

Each customer comes with up to three moments (:class:`HistoryAsOf`): orders in the
:data:`~engine.profiles.stats_definitions.FREQUENCY_WINDOW` as of ``orders_at``;
impulse lines (viewed, then bought within the window) and per-category interest as
of ``interest_at``; distinct purchased products per brand as of ``brands_at`` (a part
is skipped where its moment is ``None``). The definitions are those of the batch
(:mod:`engine.profiles.stats_batch`) and of the one-customer look-ups of
:mod:`engine.profiles.stats`, which the tests compare them with; only the shape
differs: the customers and their moments are a ``VALUES`` list joined to the store,
so a batch of events costs one round trip, not one to four per customer.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, String, bindparam, text
from sqlalchemy.sql.elements import TextClause

from engine.profiles.stats_definitions import (
    FREQUENCY_WINDOW,
    IMPULSE_WINDOW_SECONDS,
    INTEREST_LAMBDA,
    LINE_TIME,
)
from engine.profiles.stats_dialect import Dialect

CHUNK = 400
"""Customers per statement (5 parameters each: far below SQLite's and PostgreSQL's limits)."""


@dataclass(frozen=True)
class HistoryAsOf:
    """One customer and the moments their history-dependent statistics are read as of."""

    customer_id: str
    orders_at: datetime
    interest_at: datetime | None = None
    brands_at: datetime | None = None


@dataclass
class History:
    """What was read for one customer (each part only where its moment was given)."""

    orders_365: int = 0
    viewed_lines: int = 0
    quick_lines: int = 0
    interest: dict[str, tuple[int, float]] | None = None
    """``{category: (views and lines, decay sum)}``"""
    brands: dict[str, int] | None = None
    """``{brand: distinct purchased products}``"""


_ID, _MOMENT = String(), DateTime()
"""One type object for every parameter: each new one would be adapted to the dialect
again when the statement runs."""


def _sql(dialect: str, n: int) -> TextClause:
    d = Dialect(dialect)

    def moment(name: str) -> str:
        # PostgreSQL types a VALUES column of NULLs as text; SQLite must not cast at all
        # (CAST AS DATETIME is numeric there): its timestamps are ISO text
        return f"CAST(:{name} AS TIMESTAMP)" if dialect == "postgresql" else f":{name}"

    rows = ", ".join(
        f"(:c{i}, {moment(f's{i}')}, {moment(f'o{i}')}, {moment(f'i{i}')}, {moment(f'b{i}')})"
        for i in range(n)
    )
    # CROSS JOIN: SQLite then joins in this order (each customer's orders, their lines,
    # each line's product and first view); PostgreSQL plans it as any inner join
    lines = (
        "FROM w CROSS JOIN orders o CROSS JOIN order_lines l CROSS JOIN products p {join}"
        "WHERE o.customer_id = w.cid AND o.ordered_at < w.{at} AND l.order_id = o.order_id "
        f"AND p.product_id = l.product_id {{on}}AND {LINE_TIME} < w.{{at}}"
    )
    views = (
        # the customer's own views, and the anonymous ones of ids linked to them
        "SELECT w.cid AS cid, e.product_id AS product_id, e.occurred_at AS occurred_at "
        "FROM w JOIN events e ON e.customer_id = w.cid AND e.event_type = 'product_view' "
        "AND e.occurred_at < w.interest_at "
        "UNION ALL SELECT w.cid, e.product_id, e.occurred_at FROM w "
        "JOIN identity_links k ON k.customer_id = w.cid AND k.linked_at < w.interest_at "
        "JOIN events e ON e.anonymous_id = k.anonymous_id "
        "WHERE coalesce(e.customer_id, '') = '' AND e.event_type = 'product_view' "
        "AND e.occurred_at < w.interest_at"
    )
    first_view = (
        "CROSS JOIN (SELECT cid, product_id, min(occurred_at) AS first_view FROM v "
        "GROUP BY cid, product_id) f "
    )
    first_view_on = "AND f.cid = w.cid AND f.product_id = l.product_id "
    quick = f"{d.epoch(LINE_TIME)} - {d.epoch('f.first_view')} <= {IMPULSE_WINDOW_SECONDS!r}"
    none_text, none_float = "CAST(NULL AS VARCHAR(100))", "CAST(NULL AS FLOAT)"
    sql = (
        f"WITH w (cid, since, orders_at, interest_at, brands_at) AS (VALUES {rows}), "
        f"v AS ({views}) "
        f"SELECT 'o' AS kind, w.cid AS cid, {none_text} AS name, count(*) AS n, "
        f"{none_float} AS x FROM w JOIN orders o ON o.customer_id = w.cid "
        "AND o.ordered_at >= w.since AND o.ordered_at < w.orders_at GROUP BY w.cid "
        f"UNION ALL SELECT 'q', w.cid, {none_text}, "
        f"sum(CASE WHEN f.first_view <= {LINE_TIME} THEN 1 ELSE 0 END), "
        f"CAST(sum(CASE WHEN f.first_view <= {LINE_TIME} AND {quick} THEN 1 ELSE 0 END) "
        "AS FLOAT) "
        + lines.format(at="interest_at", join=first_view, on=first_view_on)
        + " GROUP BY w.cid "
        "UNION ALL SELECT 'i', t.cid, t.category, sum(t.n), sum(t.x) FROM ("
        f"SELECT v.cid AS cid, p.category AS category, count(*) AS n, "
        f"sum({d.decay('v.occurred_at', INTEREST_LAMBDA)}) AS x "
        "FROM v JOIN products p ON p.product_id = v.product_id "
        "WHERE p.category IS NOT NULL GROUP BY v.cid, p.category "
        f"UNION ALL SELECT w.cid, p.category, count(*), "
        f"sum({d.decay(LINE_TIME, INTEREST_LAMBDA)}) "
        + lines.format(at="interest_at", join="", on="")
        + " AND p.category IS NOT NULL "
        "GROUP BY w.cid, p.category) t GROUP BY t.cid, t.category "
        f"UNION ALL SELECT 'b', w.cid, p.brand, count(DISTINCT l.product_id), {none_float} "
        + lines.format(at="brands_at", join="", on="")
        + " AND p.brand IS NOT NULL "
        "GROUP BY w.cid, p.brand"
    )
    binds: list[Any] = []
    for i in range(n):
        binds.append(bindparam(f"c{i}", type_=_ID))
        binds += [bindparam(f"{p}{i}", type_=_MOMENT) for p in "soib"]
    return text(sql).bindparams(*binds)


@functools.lru_cache(maxsize=64)
def _statement(dialect: str, n: int) -> TextClause:
    """The statement for ``n`` customers, built once per dialect and size."""
    return _sql(dialect, n)


def _size(n: int) -> int:
    """Statements exist for 1..8 customers, then multiples of 8 (padded with rows that
    match nobody), so a batch's varied sizes reuse a few statements."""
    return n if n <= 8 else -(-n // 8) * 8


def read_history(connection: Connection, wanted: Sequence[HistoryAsOf]) -> dict[str, History]:
    """The history-dependent statistics of ``wanted`` (distinct customers), each as of its
    own moments, in one statement per :data:`CHUNK` customers."""
    out = {
        w.customer_id: History(
            interest={} if w.interest_at is not None else None,
            brands={} if w.brands_at is not None else None,
        )
        for w in wanted
    }
    dialect = connection.dialect.name
    for start in range(0, len(wanted), CHUNK):
        chunk = list(wanted[start : start + CHUNK])
        params: dict[str, Any] = {}
        for i in range(_size(len(chunk))):
            if i < len(chunk):
                w = chunk[i]
                params.update(
                    {
                        f"c{i}": w.customer_id,
                        f"s{i}": w.orders_at - FREQUENCY_WINDOW,
                        f"o{i}": w.orders_at,
                        f"i{i}": w.interest_at,
                        f"b{i}": w.brands_at,
                    }
                )
            else:  # padding: a NULL id matches nothing
                params.update(dict.fromkeys((f"{p}{i}" for p in "csoib"), None))
        for kind, cid, name, n, x in connection.execute(
            _statement(dialect, _size(len(chunk))), params
        ):
            got = out.get(cid)
            if got is None:
                continue
            if kind == "o":
                got.orders_365 = int(n or 0)
            elif kind == "q":
                got.viewed_lines, got.quick_lines = int(n or 0), int(x or 0)
            elif kind == "i" and got.interest is not None:
                got.interest[str(name)] = (int(n), float(x))
            elif kind == "b" and got.brands is not None:
                got.brands[str(name)] = int(n)
    return out

"""Per-customer sufficient statistics: the counts and sums every score is a function of.

Batch scoring (:func:`compute_stats`) computes them for the whole store with
set-based SQL, and :mod:`engine.profiles.tracking` updates one customer's
statistics in place when an event arrives (with the one-customer queries in this
module). Scores are a pure function of (statistics, calibration)
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

Where each part lives (every name is importable from here):

* :mod:`engine.profiles.stats_definitions`: the columns, decay, windows, flags;
* :mod:`engine.profiles.stats_dialect`: SQLite/PostgreSQL spellings, customer sets;
* :mod:`engine.profiles.stats_batch`: one range of customers in set-based SQL;
* :mod:`engine.profiles.stats_parallel`: ranges in worker processes, :func:`compute_stats`;
* this module: one customer's indexed look-ups;
* :mod:`engine.profiles.stats_history`: what tracking re-reads, many customers at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from engine.profiles.stats_definitions import (
    COUNT_COLUMNS,
    FLOAT_COLUMNS,
    FREQUENCY_WINDOW,
    IMPULSE_WINDOW_SECONDS,
    INTEREST_HALF_LIFE_DAYS,
    INTEREST_LAMBDA,
    LINE_TIME,
    RATING_LAMBDA,
    STATS_COLUMNS,
    T0,
    activity_flags,
    decay_factor,
    decay_weight,
)
from engine.profiles.stats_dialect import Dialect
from engine.profiles.stats_parallel import MAX_WORKERS, MIN_PARTITION_CUSTOMERS, compute_stats

__all__ = [
    "COUNT_COLUMNS",
    "FLOAT_COLUMNS",
    "FREQUENCY_WINDOW",
    "IMPULSE_WINDOW_SECONDS",
    "INTEREST_HALF_LIFE_DAYS",
    "INTEREST_LAMBDA",
    "LINE_TIME",
    "MAX_WORKERS",
    "MIN_PARTITION_CUSTOMERS",
    "RATING_LAMBDA",
    "STATS_COLUMNS",
    "T0",
    "activity_flags",
    "apply_interest",
    "compute_stats",
    "customer_brands",
    "customer_impulse",
    "customer_interest",
    "customer_orders_365",
    "decay_factor",
    "decay_weight",
]

# One customer
#
# The batch definitions for one customer, as indexed look-ups (tests compare them with
# the batch). Tracking reads the same statistics for one customer or many at once in
# one statement (:mod:`engine.profiles.stats_history`, compared with these).


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
        d = Dialect(dialect)
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


def customer_interest(
    session: Session, customer_id: str, as_of: datetime
) -> dict[str, tuple[int, float]]:
    """One customer's interest per category: ``{category: (n, decay sum)}``."""
    rows = session.connection().execute(
        _one("interest", session.get_bind().dialect.name), {"cid": customer_id, "as_of": as_of}
    )
    return {str(c): (int(n), float(w)) for c, n, w in rows}


def customer_brands(session: Session, customer_id: str, as_of: datetime) -> dict[str, int]:
    """One customer's distinct purchased products per brand."""
    rows = session.connection().execute(
        _one("brands", session.get_bind().dialect.name), {"cid": customer_id, "as_of": as_of}
    )
    return {str(b): int(n) for b, n in rows}


def customer_impulse(session: Session, customer_id: str, as_of: datetime) -> tuple[int, int]:
    """``(viewed_lines, quick_lines)`` of one customer."""
    row = (
        session.connection()
        .execute(
            _one("impulse", session.get_bind().dialect.name), {"cid": customer_id, "as_of": as_of}
        )
        .first()
    )
    return (int(row[0] or 0), int(row[1] or 0)) if row is not None else (0, 0)


def customer_orders_365(session: Session, customer_id: str, as_of: datetime) -> int:
    """Orders of one customer in the :data:`FREQUENCY_WINDOW` before ``as_of``."""
    return int(
        session.connection()
        .execute(
            _one("orders_365", session.get_bind().dialect.name),
            {"cid": customer_id, "as_of": as_of, "since": as_of - FREQUENCY_WINDOW},
        )
        .scalar()
        or 0
    )


def apply_interest(
    stats: dict[str, Any],
    interest: dict[str, tuple[int, float]],
    brands: dict[str, int] | None = None,
) -> None:
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

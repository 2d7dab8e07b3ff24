"""What one event and a batch of events have in common when tracked: the result, an
event's O(1) contribution to a customer's statistics, the history-dependent look-ups,
and the profile, statistics and segments computed from statistics (for one customer
or many at once, with the same arithmetic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from engine.models import Profile, ProfileStats, ScoreCalibration
from engine.profiles.emotion import state_one
from engine.profiles.profile import _batch, _now, latest_calibration, stats_record
from engine.profiles.scoring import SCORES, Calibration, enough_one, score_one
from engine.profiles.segments import Rules, segments_for
from engine.profiles.stats import (
    COUNT_COLUMNS,
    FLOAT_COLUMNS,
    RATING_LAMBDA,
    activity_flags,
    apply_interest,
    compute_stats,
    decay_weight,
)
from engine.profiles.stats_history import HistoryAsOf, read_history
from engine.profiles.track_sql import SQL


@dataclass(frozen=True)
class Before:
    """A customer's stored profile before the tracked event(s): raw scores, segments,
    emotional state."""

    scores: dict[str, float]
    segments: list[str]
    emotional_state: str | None


@dataclass
class TrackResult:
    """What tracking did with one event.

    ``status``: ``recorded`` (profile updated), ``duplicate`` (``event_id`` seen
    before: nothing written), ``anonymous`` (stored; no customer to update yet), or
    (from :func:`engine.profiles.track_batch.track_many` only) ``refused`` (invalid:
    nothing written; ``error`` says why).
    """

    status: str
    customer_id: str | None
    event_id: str | None
    scores: dict[str, float | None] = field(default_factory=dict)
    """The nine scores; ``None`` where there is not enough data."""
    segments: list[str] = field(default_factory=list)
    emotional_state: str | None = None
    before: Before | None = None
    """The customer's stored profile before (``None``: they had none); only where
    ``carries_profile``."""
    carries_profile: bool = True
    """False for a customer's earlier events in a batch: the customer's profile is
    updated once per batch, and their last recorded event carries it."""
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "customer_id": self.customer_id,
            "event_id": self.event_id,
            "scores": dict(self.scores),
            "segments": list(self.segments),
            "emotional_state": self.emotional_state,
        }


def before_of(stored: Any, segments: Sequence[str]) -> Before | None:
    """The :class:`Before` of a ``stored`` row (``SQL.stored``), None without a profile."""
    if stored is None:
        return None
    return Before(
        {name: float(getattr(stored, f"before_{name}")) for name in SCORES},
        sorted(segments),
        stored.state_before,
    )


def zero_stats() -> dict[str, Any]:
    """The statistics of a customer with no data at all."""
    return {
        **dict.fromkeys(COUNT_COLUMNS, 0),
        **dict.fromkeys(FLOAT_COLUMNS, 0.0),
        "top_category": None,
    }


def stats_of(session: Session, customer_id: str, as_of: datetime) -> dict[str, Any]:
    """One customer's statistics recomputed from the store (the batch definitions)."""
    return stats_record(compute_stats(session, as_of=as_of, customer_ids=[customer_id]).iloc[0])


def store_calibration(session: Session, as_of: datetime) -> tuple[int, Calibration]:
    """The newest batch run's calibration, else one fitted on the store as of ``as_of``
    (and recorded, so the profiles tracking creates point at it)."""
    newest = latest_calibration(session)
    if newest is None:
        calibration = _batch(session, as_of, None).calibration
        newest = ScoreCalibration(as_of=as_of, computed_at=_now(), reference=calibration.as_dict())
        session.add(newest)
        session.flush()
    return newest.id, Calibration.from_dict(newest.reference)


def apply_event(stats: dict[str, Any], ev: Mapping[str, Any], product: Any) -> None:
    """Add one event's O(1) contribution to a customer's statistics (the batch rules).

    ``product`` is the event's product row (``price``, ``list_price``), if any.
    """
    at = ev["occurred_at"]
    kind = ev["event_type"]
    if kind == "purchase" and product is None:
        return  # no order (write_event_rows): the batch counts purchases by their orders
    # A purchase counts once, through its order; every other event is activity.
    stats["activity"] += 1
    for name, flag in activity_flags(at, ev["channel"], ev["device"]).items():
        stats[name] += flag
    if kind == "product_view":
        stats["views"] += 1
    elif kind == "search":
        stats["searches"] += 1
    elif kind == "review" and is_review(ev):
        stats["reviews"] += 1
        weight = decay_weight(at, RATING_LAMBDA)
        stats["rating_wsum"] += ev["rating"] * weight
        stats["rating_w"] += weight
    elif kind == "purchase":
        assert product is not None
        price = float(product.price or 0.0)
        stats["orders"] += 1
        stats["lines"] += 1
        stats["spend"] += price
        if product.list_price is not None and price < product.list_price:
            stats["disc_lines"] += 1


def is_review(ev: Mapping[str, Any]) -> bool:
    """Whether a ``review`` event makes a review row (the batch reads reviews from those):
    it names a product and a rating."""
    return ev["product_id"] is not None and ev["rating"] is not None


@dataclass
class EventRows:
    """The rows an event adds beside itself: a purchase's order and its line, a review's
    review row (each list empty otherwise)."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)


def event_rows(
    ev: Mapping[str, Any], product: Any, customer_id: str | None, row_id: int
) -> EventRows:
    """The order (``trk-<event_id or row id>``, one line of quantity 1 at the product's
    price) of a purchase, the review row of a review (``ev`` stored as row ``row_id``)."""
    out = EventRows()
    key = f"trk-{ev['event_id'] or row_id}"
    if ev["event_type"] == "purchase" and product is not None:
        assert customer_id is not None
        out.orders.append(
            {
                "order_id": key,
                "customer_id": customer_id,
                "ordered_at": ev["occurred_at"],
                "channel": ev["channel"],
                "device": ev["device"],
                "location": ev["location"],
                "weather": ev["weather"],
            }
        )
        out.lines.append(
            {
                "order_id": key,
                "line_no": 1,
                "product_id": product.product_id,
                "quantity": 1.0,
                "unit_price": float(product.price or 0.0),
                "discount": 0.0,
            }
        )
    elif ev["event_type"] == "review" and is_review(ev):
        out.reviews.append(
            {
                "review_id": key,
                "customer_id": customer_id,
                "product_id": ev["product_id"],
                "rating": ev["rating"],
                "reviewed_at": ev["occurred_at"],
            }
        )
    return out


def write_rows(conn: Connection, rows: Sequence[EventRows]) -> None:
    """Insert the :class:`EventRows` of many events: one statement per table (orders
    before their lines)."""
    for statement, chosen in (
        (SQL.insert_order, [r for e in rows for r in e.orders]),
        (SQL.insert_line, [r for e in rows for r in e.lines]),
        (SQL.insert_review, [r for e in rows for r in e.reviews]),
    ):
        if chosen:
            conn.execute(statement, chosen if len(chosen) > 1 else chosen[0])


def refresh_history(session: Session, wanted: Sequence[tuple[dict[str, Any], HistoryAsOf]]) -> None:
    """Re-read the history-dependent statistics of each ``(stats, moments)``: orders in
    the frequency window as of ``orders_at``; impulse lines and interest as of
    ``interest_at``; brands as of ``brands_at`` (each skipped when ``None``); one
    statement for all of them (:func:`engine.profiles.stats_history.read_history`)."""
    found = read_history(session.connection(), [moments for _, moments in wanted])
    for stats, moments in wanted:
        got = found[moments.customer_id]
        stats["orders_365"] = got.orders_365
        if got.interest is not None:
            stats["viewed_lines"], stats["quick_lines"] = got.viewed_lines, got.quick_lines
            apply_interest(stats, got.interest)
        if got.brands is not None:
            brands: dict[str, Any] = {}
            apply_interest(brands, {}, got.brands)
            stats["branded_lines"], stats["top2_lines"] = (
                brands["branded_lines"],
                brands["top2_lines"],
            )


def moments(customer_id: str, as_of: datetime, interest: bool, brands: bool) -> HistoryAsOf:
    """What one customer's events make tracking re-read, all as of ``as_of``: orders
    always, interest and impulse when ``interest``, brands when ``brands``."""
    return HistoryAsOf(customer_id, as_of, as_of if interest else None, as_of if brands else None)


def kinds_refreshed(kind: str) -> tuple[bool, bool]:
    """(interest and impulse, brands): what one event of ``kind`` makes tracking re-read
    (orders in the frequency window are re-read after every event)."""
    return kind in ("product_view", "purchase"), kind == "purchase"


@dataclass
class Computed:
    """One customer's new profile, statistics and segments (rows ready to write)."""

    customer_id: str
    profile: dict[str, Any]
    figures: dict[str, Any]
    segments: list[str]
    given: dict[str, float | None]
    state: str


def compute_rows(
    items: Sequence[tuple[str, dict[str, Any], Calibration, int | None, datetime]],
    rules: Rules,
    min_evidence: Mapping[str, int],
    computed_at: datetime,
) -> list[Computed]:
    """The profiles of ``items`` = ``(customer_id, stats, calibration, calibration_id,
    as_of)``, each with the batch's arithmetic in plain floats (:func:`score_one`: the
    same numbers as the vectorised batch, without numpy's cost for one customer)."""
    out: list[Computed] = []
    for customer_id, stats, calibration, calibration_id, as_of in items:
        raw = score_one(stats, calibration)
        enough = enough_one(stats, min_evidence)
        # Stored as computed (NOT NULL columns, masked by every reader); reported and
        # segmented only where there is enough evidence.
        given = {k: (v if enough[k] else None) for k, v in raw.items()}
        state = state_one(stats["rating_wsum"], stats["rating_w"], stats["reviews"])
        total = stats["interest_total"]
        share = 100.0 * stats["top_interest"] / total if total > 0 else 0.0
        segments = segments_for(
            given, stats["top_category"], share, stats["interest_events"], rules
        )
        out.append(
            Computed(
                customer_id,
                {
                    "customer_id": customer_id,
                    "as_of": as_of,
                    "computed_at": computed_at,
                    "calibration_id": calibration_id,
                    "emotional_state": state,
                    **raw,
                },
                {"customer_id": customer_id, "as_of": as_of, **stats},
                segments,
                given,
                state,
            )
        )
    return out


def expire(session: Session, customer_ids: Sequence[str]) -> None:
    """Objects of these customers the session holds are stale after the Core writes."""
    if not session.identity_map:  # (a tracking transaction usually holds none)
        return
    for customer_id in customer_ids:
        for model in (Profile, ProfileStats):
            held = session.identity_map.get(session.identity_key(model, customer_id))
            if held is not None:
                session.expire(held)

"""What one event and a batch of events have in common when tracked: the result, an
event's O(1) contribution to a customer's statistics, the history-dependent look-ups,
and the profile, statistics and segments computed from statistics (for one customer
or many at once, with the same arithmetic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from engine.models import Profile, ProfileStats, ScoreCalibration
from engine.profiles.emotion import state_of, weighted_mean
from engine.profiles.profile import _batch, _now, latest_calibration, stats_record
from engine.profiles.scoring import SCORES, Calibration, evidence_mask, score_columns
from engine.profiles.segments import Rules, segments_for
from engine.profiles.stats import (
    COUNT_COLUMNS,
    FLOAT_COLUMNS,
    RATING_LAMBDA,
    activity_flags,
    apply_interest,
    compute_stats,
    customer_brands,
    customer_impulse,
    customer_interest,
    customer_orders_365,
    decay_weight,
)


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
            "status": self.status, "customer_id": self.customer_id, "event_id": self.event_id,
            "scores": dict(self.scores), "segments": list(self.segments),
            "emotional_state": self.emotional_state,
        }


def before_of(stored: Any, segments: Sequence[str]) -> Before | None:
    """The :class:`Before` of a ``stored`` row (``SQL.stored``), None without a profile."""
    if stored is None:
        return None
    return Before({name: float(getattr(stored, f"before_{name}")) for name in SCORES},
                  sorted(segments), stored.state_before)


def zero_stats() -> dict[str, Any]:
    """The statistics of a customer with no data at all."""
    return {**dict.fromkeys(COUNT_COLUMNS, 0), **dict.fromkeys(FLOAT_COLUMNS, 0.0),
            "top_category": None}


def stats_of(session: Session, customer_id: str, as_of: datetime) -> dict[str, Any]:
    """One customer's statistics recomputed from the store (the batch definitions)."""
    return stats_record(compute_stats(session, as_of=as_of, customer_ids=[customer_id]).iloc[0])


def store_calibration(session: Session, as_of: datetime) -> tuple[int, Calibration]:
    """The newest batch run's calibration, else one fitted on the store as of ``as_of``
    (and recorded, so the profiles tracking creates point at it)."""
    newest = latest_calibration(session)
    if newest is None:
        calibration = _batch(session, as_of, None).calibration
        newest = ScoreCalibration(as_of=as_of, computed_at=_now(),
                                  reference=calibration.as_dict())
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


def refresh_history(session: Session, stats: dict[str, Any], customer_id: str, *,
                    orders_at: datetime | None, interest_at: datetime | None,
                    brands_at: datetime | None) -> None:
    """Re-read the history-dependent statistics: orders in the frequency window as of
    ``orders_at``; impulse lines and interest as of ``interest_at``; brands as of
    ``brands_at`` (each skipped when ``None``)."""
    if orders_at is not None:
        stats["orders_365"] = customer_orders_365(session, customer_id, orders_at)
    if interest_at is not None:
        stats["viewed_lines"], stats["quick_lines"] = customer_impulse(
            session, customer_id, interest_at)
        apply_interest(stats, customer_interest(session, customer_id, interest_at))
    if brands_at is not None:
        brands: dict[str, Any] = {}
        apply_interest(brands, {}, customer_brands(session, customer_id, brands_at))
        stats["branded_lines"], stats["top2_lines"] = brands["branded_lines"], \
            brands["top2_lines"]


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


def compute_rows(items: Sequence[tuple[str, dict[str, Any], Calibration, int | None, datetime]],
                 rules: Rules, min_evidence: Mapping[str, int], computed_at: datetime
                 ) -> list[Computed]:
    """The profiles of ``items`` = ``(customer_id, stats, calibration, calibration_id,
    as_of)``: scores of all customers of one calibration computed at once (the same
    arithmetic as for one)."""
    groups: dict[tuple[int | None, int], list[int]] = {}
    for position, item in enumerate(items):
        groups.setdefault((item[3], id(item[2])), []).append(position)
    out: list[Computed | None] = [None] * len(items)
    for positions in groups.values():
        chosen = [items[p] for p in positions]
        columns = {name: np.array([item[1][name] for item in chosen])
                   for name in (*COUNT_COLUMNS, *FLOAT_COLUMNS)}
        scores = score_columns(columns, chosen[0][2])
        enough = evidence_mask(columns, min_evidence)
        means = weighted_mean(columns["rating_wsum"], columns["rating_w"])
        states = state_of(np.where(columns["reviews"] > 0, means, 0.0), columns["reviews"])
        for row, (position, item) in enumerate(zip(positions, chosen, strict=True)):
            customer_id, stats, _, calibration_id, as_of = item
            raw = {k: float(v[row]) for k, v in scores.items()}
            # Stored as computed (NOT NULL columns, masked by every reader); reported and
            # segmented only where there is enough evidence.
            given = {k: (v if bool(enough[k][row]) else None) for k, v in raw.items()}
            state = str(states[row])
            total = stats["interest_total"]
            share = 100.0 * stats["top_interest"] / total if total > 0 else 0.0
            segments = segments_for(given, stats["top_category"], share,
                                    stats["interest_events"], rules)
            out[position] = Computed(
                customer_id,
                {"customer_id": customer_id, "as_of": as_of, "computed_at": computed_at,
                 "calibration_id": calibration_id, "emotional_state": state, **raw},
                {"customer_id": customer_id, "as_of": as_of, **stats},
                segments, given, state)
    return [c for c in out if c is not None]


def expire(session: Session, customer_ids: Sequence[str]) -> None:
    """Objects of these customers the session holds are stale after the Core writes."""
    for customer_id in customer_ids:
        for model in (Profile, ProfileStats):
            held = session.identity_map.get(session.identity_key(model, customer_id))
            if held is not None:
                session.expire(held)

"""Real time: record one behavioral event and update that customer's profile at once.

:func:`track` validates the event (nothing is written when it is invalid),
stores it (idempotent on ``event_id``), and updates the customer's sufficient
statistics in place: O(1) counter updates plus at most two indexed look-ups
(orders in the frequency window; the customer's first views for impulse). The
scores are then recomputed with the calibration stored with the profile, so the
result equals a batch recompute as of the same moment with that calibration
(``tests/engine/profiles/test_tracking.py`` checks it with random event sequences).

A ``purchase`` event also becomes an order of one line (``order_id`` =
``trk-<event_id or row id>``, quantity 1 at the product's current price); a
``review`` event with its rating also becomes a review row. An event carrying
both ``customer_id`` and a new ``anonymous_id`` links the two; that customer's
statistics are then recomputed from the store (their earlier anonymous events
become theirs, each counted once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import (
    DEVICES,
    EVENT_TYPES,
    WEATHERS,
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Profile,
    Review,
    SegmentMembership,
)
from engine.profiles.emotion import state_of, weighted_mean
from engine.profiles.profile import _batch, _clean, _now, profile_details
from engine.profiles.scoring import SCORES, Calibration, score_columns
from engine.profiles.segments import Rules, load_rules, normalise_rules, segments_for
from engine.profiles.stats import (
    FREQUENCY_WINDOW,
    INTEREST_LAMBDA,
    RATING_LAMBDA,
    activity_flags,
    compute_stats,
    decay_weight,
    impulse_statement,
    nested_stats,
    refresh_derived,
)
from engine.timeutil import newest_timestamp, to_utc_naive

_JUST_AFTER = timedelta(microseconds=1)
NEEDS_PRODUCT = ("product_view", "cart_add", "wishlist_add", "purchase", "review")
NEEDS_CUSTOMER = ("purchase", "review")
_LENGTHS = {
    "event_id": 64, "customer_id": 64, "anonymous_id": 64, "product_id": 64, "query": 200,
    "channel": 32, "location": 100,
}


@dataclass
class TrackResult:
    """What :func:`track` did.

    ``status``: ``recorded`` (profile updated), ``duplicate`` (``event_id`` seen
    before: nothing written), or ``anonymous`` (stored; no customer to update yet).
    """

    status: str
    customer_id: str | None
    event_id: str | None
    scores: dict[str, float] = field(default_factory=dict)
    segments: list[str] = field(default_factory=list)
    emotional_state: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "customer_id": self.customer_id, "event_id": self.event_id,
            "scores": dict(self.scores), "segments": list(self.segments),
            "emotional_state": self.emotional_state,
        }


def _text(event: Mapping[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(f"invalid {name} {value!r}: expected a string")
    text = str(value).strip()
    if not text:
        return None
    limit = _LENGTHS.get(name)
    if limit is not None and len(text) > limit:
        raise ValidationError(f"invalid {name}: longer than {limit} characters")
    return text


def validate_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """Check one event (the import format of CONTRACT.md) and return its clean fields.

    Raises:
        ValidationError: naming the field, the value and the valid values.
    """
    if not isinstance(event, Mapping):
        raise ValidationError("invalid event: expected a JSON object")
    clean: dict[str, Any] = {}
    event_type = _text(event, "event_type")
    if event_type is None:
        raise ValidationError(
            f"missing event_type; valid values: {', '.join(EVENT_TYPES)}"
        )
    if event_type.lower() not in EVENT_TYPES:
        raise ValidationError(
            f"invalid event_type {event_type!r}; valid values: {', '.join(EVENT_TYPES)}"
        )
    clean["event_type"] = event_type.lower()
    raw_time = _text(event, "occurred_at")
    if raw_time is None:
        raise ValidationError("missing occurred_at: expected an ISO 8601 datetime")
    try:
        clean["occurred_at"] = to_utc_naive(
            datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        )
    except ValueError as exc:
        raise ValidationError(
            f"invalid occurred_at {raw_time!r}: expected an ISO 8601 datetime, "
            "e.g. 2024-06-01T12:00:00"
        ) from exc
    for name in ("event_id", "customer_id", "anonymous_id", "product_id", "query", "channel",
                 "location"):
        clean[name] = _text(event, name)
    if clean["customer_id"] is None and clean["anonymous_id"] is None:
        raise ValidationError("missing customer_id or anonymous_id: an event needs at least one")
    for name, valid in (("device", DEVICES), ("weather", WEATHERS)):
        value = _text(event, name)
        if value is not None and value.lower() not in valid:
            raise ValidationError(f"invalid {name} {value!r}; valid values: {', '.join(valid)}")
        clean[name] = value.lower() if value is not None else None
    if clean["channel"] is not None:
        clean["channel"] = clean["channel"].lower()
    rating = event.get("rating")
    clean["rating"] = None
    if rating is not None and rating != "":
        bad = ValidationError(f"invalid rating {rating!r}; valid values: 1, 2, 3, 4, 5")
        if isinstance(rating, bool):
            raise bad
        try:
            number = float(rating)
        except (TypeError, ValueError) as exc:
            raise bad from exc
        if not (1 <= number <= 5 and number == int(number)):
            raise bad
        clean["rating"] = int(number)
    if clean["event_type"] in NEEDS_PRODUCT and clean["product_id"] is None:
        raise ValidationError(f"missing product_id: a {clean['event_type']} event needs one")
    if clean["event_type"] == "review" and clean["rating"] is None:
        raise ValidationError("missing rating: a review event needs one; valid values: 1..5")
    return clean


_IMPULSE_STATEMENTS: dict[str, Any] = {}


def _impulse_for_one(session: Session) -> Any:
    """The impulse query for one customer, built once per dialect with bound parameters
    (building the SQL expression costs more than running it)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _IMPULSE_STATEMENTS:
        _IMPULSE_STATEMENTS[dialect] = impulse_statement(
            session, bindparam("one_as_of", type_=DateTime()), [bindparam("one_customer")]
        )
    return _IMPULSE_STATEMENTS[dialect]


def _stats_of(
    session: Session, customer_id: str, as_of: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    stats, brands, interest = compute_stats(session, as_of=as_of, customer_ids=[customer_id])
    nested = nested_stats(brands, interest).get(customer_id, {"brands": {}, "interest": {}})
    return _clean(stats.to_dict("records")[0]), nested


def _store_calibration(session: Session, as_of: datetime) -> Calibration:
    """The calibration of the newest stored profile, else fitted on the store as of ``as_of``."""
    details = session.scalar(
        select(Profile.details).order_by(Profile.computed_at.desc()).limit(1)
    )
    if details and "calibration" in details:
        return Calibration.from_dict(details["calibration"])
    return _batch(session, as_of, None).calibration


def _apply(
    stats: dict[str, Any],
    nested: dict[str, Any],
    ev: dict[str, Any],
    product: Product | None,
) -> None:
    """Add one event's contribution to a customer's statistics (the batch rules, one row)."""
    at = ev["occurred_at"]
    flags = activity_flags(at, ev["channel"], ev["device"])
    kind = ev["event_type"]
    # A purchase counts once, through its order; every other event is activity.
    stats["activity"] += 1
    for name, flag in flags.items():
        stats[name] += flag
    category = product.category if product is not None else None
    if kind == "product_view":
        stats["views"] += 1
    elif kind == "search":
        stats["searches"] += 1
    elif kind == "review":
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
        if product.brand is not None:
            brands = nested["brands"]
            brands[product.brand] = int(brands.get(product.brand, 0)) + 1
    if kind in ("product_view", "purchase") and category is not None:
        n, weight = nested["interest"].get(category, [0, 0.0])
        nested["interest"][category] = [int(n) + 1, float(weight) + decay_weight(
            at, INTEREST_LAMBDA)]


def track(
    session: Session,
    event: Mapping[str, Any],
    *,
    rules: Rules | None = None,
    computed_at: datetime | None = None,
) -> TrackResult:
    """Validate and store one event, then update its customer's profile and segments.

    Args:
        session: an open session; everything happens in its transaction (the
            caller commits), so the event, the profile and the memberships are
            written together or not at all.
        event: one event in the import format (``event_type``, ``occurred_at``,
            ``customer_id`` and/or ``anonymous_id``; optional ``event_id,
            product_id, query, channel, device, location, weather, rating``).
        rules: segment rules (default: the store's).
        computed_at: bookkeeping stamp of the rewritten rows (default: now).

    Returns:
        A :class:`TrackResult` with the customer's new scores and segments.

    Raises:
        ValidationError: the event is invalid (nothing is written).
    """
    ev = validate_event(event)
    product = session.get(Product, ev["product_id"]) if ev["product_id"] else None
    if ev["product_id"] and product is None:
        raise ValidationError(f"invalid product_id {ev['product_id']!r}: no such product")
    if ev["event_id"] is not None and session.scalar(
        select(Event.id).where(Event.event_id == ev["event_id"])
    ) is not None:
        return TrackResult("duplicate", ev["customer_id"], ev["event_id"])
    link = session.get(IdentityLink, ev["anonymous_id"]) if ev["anonymous_id"] else None
    customer_id = ev["customer_id"] or (link.customer_id if link is not None else None)
    if ev["event_type"] in NEEDS_CUSTOMER and customer_id is None:
        raise ValidationError(
            f"missing customer_id: a {ev['event_type']} event needs a customer_id "
            "(or an anonymous_id already linked to a customer)"
        )

    # ---- every check passed: write.
    if ev["customer_id"] is not None and session.get(Customer, ev["customer_id"]) is None:
        session.add(Customer(customer_id=ev["customer_id"]))
        session.flush()
    relinked = False
    if ev["anonymous_id"] is not None and ev["customer_id"] is not None and link is None:
        session.add(IdentityLink(anonymous_id=ev["anonymous_id"],
                                 customer_id=ev["customer_id"], linked_at=ev["occurred_at"]))
        relinked = True
    row_id = session.execute(
        insert(Event).values(
            event_id=ev["event_id"], customer_id=ev["customer_id"],
            anonymous_id=ev["anonymous_id"], event_type=ev["event_type"],
            product_id=ev["product_id"], query=ev["query"], occurred_at=ev["occurred_at"],
            channel=ev["channel"], device=ev["device"], location=ev["location"],
            weather=ev["weather"], rating=ev["rating"],
        ).returning(Event.id)
    ).scalar_one()
    key = f"trk-{ev['event_id'] or row_id}"
    if ev["event_type"] == "purchase":
        assert product is not None and customer_id is not None
        session.execute(insert(Order).values(
            order_id=key, customer_id=customer_id, ordered_at=ev["occurred_at"],
            channel=ev["channel"], device=ev["device"], location=ev["location"],
            weather=ev["weather"],
        ))
        session.execute(insert(OrderLine).values(
            order_id=key, line_no=1, product_id=product.product_id, quantity=1.0,
            unit_price=float(product.price or 0.0), discount=0.0,
        ))
    elif ev["event_type"] == "review":
        session.execute(insert(Review).values(
            review_id=key, customer_id=customer_id, product_id=ev["product_id"],
            rating=ev["rating"], reviewed_at=ev["occurred_at"],
        ))
    if customer_id is None:
        return TrackResult("anonymous", None, ev["event_id"])

    profile = session.get(Profile, customer_id)
    details = profile.details if profile is not None else None
    if profile is not None and details and "stats" in details and not relinked:
        as_of = max(profile.as_of, ev["occurred_at"] + _JUST_AFTER)
        calibration = Calibration.from_dict(details.get("calibration"))
        stats = dict(details["stats"])
        nested = {"brands": dict(details["nested"]["brands"]),
                  "interest": {k: list(v) for k, v in details["nested"]["interest"].items()}}
        _apply(stats, nested, ev, product)
        stats["orders_365"] = int(session.scalar(
            select(func.count()).select_from(Order).where(
                Order.customer_id == customer_id,
                Order.ordered_at >= as_of - FREQUENCY_WINDOW,
                Order.ordered_at < as_of,
            )
        ) or 0)
        if ev["event_type"] in ("product_view", "purchase"):
            impulse = session.execute(
                _impulse_for_one(session), {"one_customer": customer_id, "one_as_of": as_of}
            ).first()
            stats["viewed_lines"] = int(impulse[1]) if impulse else 0
            stats["quick_lines"] = int(impulse[2] or 0) if impulse else 0
        refresh_derived(stats, nested)
    else:
        newest = newest_timestamp(session)
        as_of = max(
            ev["occurred_at"] + _JUST_AFTER,
            (newest + _JUST_AFTER) if newest is not None else ev["occurred_at"],
            profile.as_of if profile is not None else ev["occurred_at"],
        )
        calibration = (
            Calibration.from_dict(details["calibration"])
            if details and "calibration" in details else _store_calibration(session, as_of)
        )
        stats, nested = _stats_of(session, customer_id, as_of)
    return _write_profile(
        session, customer_id, stats, nested, calibration, as_of,
        normalise_rules(rules) if rules is not None else load_rules(session),
        computed_at or _now(), profile, ev["event_id"],
    )


def _write_profile(
    session: Session,
    customer_id: str,
    stats: dict[str, Any],
    nested: dict[str, Any],
    calibration: Calibration,
    as_of: datetime,
    rules: Rules,
    computed_at: datetime,
    profile: Profile | None,
    event_id: str | None,
) -> TrackResult:
    scores = {k: float(v) for k, v in score_columns(stats, calibration).items()}
    mean = float(weighted_mean(stats["rating_wsum"], stats["rating_w"]))
    state = str(state_of(mean if stats["reviews"] else 0.0, stats["reviews"]))
    total = stats["interest_total"]
    share = 100.0 * stats["top_interest"] / total if total > 0 else 0.0
    segments = segments_for(scores, stats["top_category"], share, stats["interest_events"],
                            rules)
    details = profile_details(stats, nested, calibration)
    previous = (profile.details or {}).get("segments") if profile is not None else None
    details["segments"] = segments
    if profile is None:
        profile = Profile(customer_id=customer_id)
        session.add(profile)
    profile.as_of = as_of
    profile.computed_at = computed_at
    for name in SCORES:
        setattr(profile, name, scores[name])
    profile.emotional_state = state
    profile.details = details
    if previous == segments:
        # Memberships unchanged: keep their rows (their as_of is the last change).
        session.flush()
        return TrackResult("recorded", customer_id, event_id, scores, segments, state)
    session.execute(delete(SegmentMembership).where(SegmentMembership.customer_id == customer_id))
    if segments:
        session.execute(insert(SegmentMembership), [
            {"customer_id": customer_id, "segment": s, "computed_at": computed_at,
             "as_of": as_of} for s in segments
        ])
    session.flush()
    return TrackResult("recorded", customer_id, event_id, scores, segments, state)

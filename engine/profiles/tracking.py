"""Real time: record one behavioral event and update that customer's profile at once.

:func:`track` validates the event (nothing is written when it is invalid),
stores it (idempotent on ``event_id``), and updates the customer's sufficient
statistics (``profile_stats``) in place: O(1) counter updates, plus indexed
one-customer look-ups for what depends on history (orders in the frequency
window; for views and purchases the first views behind impulse buying and the
per-category interest; for purchases the per-brand lines). The scores are then
recomputed with the calibration of the batch run the profile belongs to, so the
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
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.db import checkpoint_in_background
from engine.errors import ValidationError
from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Profile,
    ProfileStats,
    Review,
    ScoreCalibration,
    SegmentMembership,
)
from engine.profiles.emotion import state_of, weighted_mean
from engine.profiles.profile import (
    _batch,
    _now,
    latest_calibration,
    stats_record,
    stored_calibration,
)
from engine.profiles.scoring import Calibration, evidence_mask, score_columns
from engine.profiles.segments import (
    Rules,
    load_min_evidence,
    load_rules,
    normalise_rules,
    segments_for,
)
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
from engine.profiles.validation import NEEDS_CUSTOMER, validate_event
from engine.timeutil import newest_timestamp

_JUST_AFTER = timedelta(microseconds=1)


@dataclass
class TrackResult:
    """What :func:`track` did.

    ``status``: ``recorded`` (profile updated), ``duplicate`` (``event_id`` seen
    before: nothing written), or ``anonymous`` (stored; no customer to update yet).
    """

    status: str
    customer_id: str | None
    event_id: str | None
    scores: dict[str, float | None] = field(default_factory=dict)
    """The nine scores; ``None`` where there is not enough data."""
    segments: list[str] = field(default_factory=list)
    emotional_state: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "customer_id": self.customer_id, "event_id": self.event_id,
            "scores": dict(self.scores), "segments": list(self.segments),
            "emotional_state": self.emotional_state,
        }


def _stored(session: Session, customer_id: str) -> tuple[Profile | None, ProfileStats | None]:
    """The customer's stored profile and statistics, in one query."""
    found = session.execute(
        select(Profile, ProfileStats)
        .outerjoin(ProfileStats, ProfileStats.customer_id == Profile.customer_id)
        .where(Profile.customer_id == customer_id)
    ).first()
    return (found[0], found[1]) if found is not None else (None, None)


def _stats_of(session: Session, customer_id: str, as_of: datetime) -> dict[str, Any]:
    return stats_record(compute_stats(session, as_of=as_of, customer_ids=[customer_id]).iloc[0])


def _store_calibration(session: Session, as_of: datetime) -> tuple[int, Calibration]:
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


def _apply(stats: dict[str, Any], ev: dict[str, Any], product: Any) -> None:
    """Add one event's O(1) contribution to a customer's statistics (the batch rules).

    ``product`` is the event's product row (``price``, ``list_price``), if any.
    """
    at = ev["occurred_at"]
    kind = ev["event_type"]
    # A purchase counts once, through its order; every other event is activity.
    stats["activity"] += 1
    for name, flag in activity_flags(at, ev["channel"], ev["device"]).items():
        stats[name] += flag
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


def _refresh_history(session: Session, stats: dict[str, Any], customer_id: str,
                     kind: str, as_of: datetime) -> None:
    """Re-read the history-dependent statistics one event of ``kind`` can change."""
    stats["orders_365"] = customer_orders_365(session, customer_id, as_of)
    if kind in ("product_view", "purchase"):
        stats["viewed_lines"], stats["quick_lines"] = customer_impulse(
            session, customer_id, as_of)
        apply_interest(stats, customer_interest(session, customer_id, as_of),
                       customer_brands(session, customer_id, as_of)
                       if kind == "purchase" else None)


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
            written together or not at all. With other writers about, open it with
            :func:`engine.db.run_write` (or :func:`engine.db.write_scope`): it then
            holds the customer's rows from the first read to the commit, and a
            transaction that lost a race (two writers creating one new customer) is
            rerun whole.
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
    conn = session.connection()
    checkpoint_in_background(conn)
    product = (conn.execute(_SQL.product, {"pid": ev["product_id"]}).first()
               if ev["product_id"] else None)
    if ev["product_id"] and product is None:
        raise ValidationError(f"invalid product_id {ev['product_id']!r}: no such product")
    if ev["event_id"] is not None and conn.execute(
        _SQL.duplicate, {"eid": ev["event_id"]}
    ).first() is not None:
        return TrackResult("duplicate", ev["customer_id"], ev["event_id"])
    linked_to = (conn.execute(_SQL.link, {"aid": ev["anonymous_id"]}).scalar()
                 if ev["anonymous_id"] else None)
    customer_id = ev["customer_id"] or linked_to
    if ev["event_type"] in NEEDS_CUSTOMER and customer_id is None:
        raise ValidationError(
            f"missing customer_id: a {ev['event_type']} event needs a customer_id "
            "(or an anonymous_id already linked to a customer)"
        )
    if customer_id and conn.dialect.name == "postgresql":
        conn.execute(_SQL.lock, {"cid": customer_id})
    stored = conn.execute(_SQL.stored, {"cid": customer_id}).first() if customer_id else None

    # ---- every check passed: write.
    if ev["customer_id"] is not None and stored is None:
        # a no-op when the customer exists, or another writer creates them meanwhile
        conn.execute(_SQL.insert_customer[conn.dialect.name], {"customer_id": ev["customer_id"]})
    relinked = ev["anonymous_id"] is not None and ev["customer_id"] is not None \
        and linked_to is None
    if relinked:
        conn.execute(_SQL.insert_link, {"anonymous_id": ev["anonymous_id"],
                                        "customer_id": ev["customer_id"],
                                        "linked_at": ev["occurred_at"]})
    row_id = conn.execute(_SQL.insert_event, {k: ev[k] for k in _EVENT_FIELDS}).scalar_one()
    key = f"trk-{ev['event_id'] or row_id}"
    if ev["event_type"] == "purchase":
        assert product is not None and customer_id is not None
        conn.execute(_SQL.insert_order, {
            "order_id": key, "customer_id": customer_id, "ordered_at": ev["occurred_at"],
            "channel": ev["channel"], "device": ev["device"], "location": ev["location"],
            "weather": ev["weather"],
        })
        conn.execute(_SQL.insert_line, {
            "order_id": key, "line_no": 1, "product_id": product.product_id, "quantity": 1.0,
            "unit_price": float(product.price or 0.0), "discount": 0.0,
        })
    elif ev["event_type"] == "review":
        conn.execute(_SQL.insert_review, {
            "review_id": key, "customer_id": customer_id, "product_id": ev["product_id"],
            "rating": ev["rating"], "reviewed_at": ev["occurred_at"],
        })
    if customer_id is None:
        return TrackResult("anonymous", None, ev["event_id"])

    calibration_id = stored.calibration_id if stored is not None else None
    calibration = stored_calibration(session, calibration_id)
    has_stats = stored is not None and stored.stats_customer_id is not None
    if stored is not None and has_stats and calibration is not None and not relinked:
        as_of = max(stored.profile_as_of, ev["occurred_at"] + _JUST_AFTER)
        stats = stats_record(stored._mapping)
        _apply(stats, ev, product)
        _refresh_history(session, stats, customer_id, ev["event_type"], as_of)
    else:
        newest = newest_timestamp(session)
        as_of = max(
            ev["occurred_at"] + _JUST_AFTER,
            (newest + _JUST_AFTER) if newest is not None else ev["occurred_at"],
            stored.profile_as_of if stored is not None else ev["occurred_at"],
        )
        if calibration is None:
            calibration_id, calibration = _store_calibration(session, as_of)
        stats = _stats_of(session, customer_id, as_of)
    result = _write_profile(
        session, customer_id, stats, calibration, calibration_id, as_of,
        normalise_rules(rules) if rules is not None else load_rules(session),
        computed_at or _now(), stored is not None, has_stats, ev["event_id"],
    )
    _expire(session, customer_id)
    return result


def _expire(session: Session, customer_id: str) -> None:
    """Objects of this customer the session holds are stale after the Core writes."""
    for model in (Profile, ProfileStats):
        held = session.identity_map.get(session.identity_key(model, customer_id))
        if held is not None:
            session.expire(held)


def _write_profile(
    session: Session,
    customer_id: str,
    stats: dict[str, Any],
    calibration: Calibration,
    calibration_id: int | None,
    as_of: datetime,
    rules: Rules,
    computed_at: datetime,
    has_profile: bool,
    has_stats: bool,
    event_id: str | None,
) -> TrackResult:
    conn = session.connection()
    scores = {k: float(v) for k, v in score_columns(stats, calibration).items()}
    enough = evidence_mask(stats, load_min_evidence(session))
    # Stored as computed (NOT NULL columns, masked by every reader); reported and
    # segmented only where there is enough evidence.
    given = {k: (v if bool(enough[k]) else None) for k, v in scores.items()}
    mean = float(weighted_mean(stats["rating_wsum"], stats["rating_w"]))
    state = str(state_of(mean if stats["reviews"] else 0.0, stats["reviews"]))
    total = stats["interest_total"]
    share = 100.0 * stats["top_interest"] / total if total > 0 else 0.0
    segments = segments_for(given, stats["top_category"], share, stats["interest_events"],
                            rules)
    profile = {"customer_id": customer_id, "as_of": as_of, "computed_at": computed_at,
               "calibration_id": calibration_id, "emotional_state": state, **scores}
    figures = {"customer_id": customer_id, "as_of": as_of, **stats}
    key = {"b_customer_id": customer_id}
    if has_profile:
        conn.execute(_SQL.update_profile, {**profile, **key})
    else:
        conn.execute(_SQL.insert_profile, profile)
    if has_stats:
        conn.execute(_SQL.update_stats, {**figures, **key})
    else:
        conn.execute(_SQL.insert_stats, figures)
    previous = sorted(conn.execute(_SQL.memberships, {"cid": customer_id}).scalars())
    if previous != segments:
        # Memberships change only when the segments do (their as_of is the last change).
        conn.execute(_SQL.delete_memberships, {"cid": customer_id})
        if segments:
            conn.execute(_SQL.insert_membership, [
                {"customer_id": customer_id, "segment": s, "computed_at": computed_at,
                 "as_of": as_of} for s in segments
            ])
    return TrackResult("recorded", customer_id, event_id, given, segments, state)


_EVENT_FIELDS = ("event_id", "customer_id", "anonymous_id", "event_type", "product_id", "query",
                 "occurred_at", "channel", "device", "location", "weather", "rating")


def _keyed_update(table: Any, key: str) -> Any:
    """``UPDATE table SET <every other column given> WHERE key = :b_key``."""
    return update(table).where(table.c[key] == bindparam(f"b_{key}"))


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


class _Statements:
    """The hot path's statements, built once (building SQL costs more than running it)."""

    def __init__(self) -> None:
        products, events = _table(Product), _table(Event)
        profiles, stats = _table(Profile), _table(ProfileStats)
        memberships = _table(SegmentMembership)
        self.product = select(
            products.c.product_id, products.c.price, products.c.list_price, products.c.brand,
            products.c.category,
        ).where(products.c.product_id == bindparam("pid"))
        self.duplicate = select(events.c.id).where(events.c.event_id == bindparam("eid")).limit(1)
        links = _table(IdentityLink)
        self.link = select(links.c.customer_id).where(links.c.anonymous_id == bindparam("aid"))
        self.stored = (
            select(profiles.c.as_of.label("profile_as_of"), profiles.c.calibration_id,
                   stats.c.customer_id.label("stats_customer_id"),
                   *(stats.c[name] for name in (*COUNT_COLUMNS, *FLOAT_COLUMNS,
                                                "top_category")))
            .select_from(profiles.outerjoin(stats, stats.c.customer_id == profiles.c.customer_id))
            .where(profiles.c.customer_id == bindparam("cid"))
        )
        # PostgreSQL: lock the customer's profile until commit, so two writers of one
        # customer take turns; a statement of its own, so that `stored`, run after the
        # wait, reads the other writer's committed statistics too (a join locking one
        # side re-reads only that side). SQLite: the store is locked at BEGIN IMMEDIATE.
        self.lock = (select(profiles.c.customer_id)
                     .where(profiles.c.customer_id == bindparam("cid")).with_for_update())
        customers = _table(Customer)
        self.insert_customer = {
            "sqlite": sqlite_insert(customers).on_conflict_do_nothing(),
            "postgresql": postgresql_insert(customers).on_conflict_do_nothing(),
        }
        self.insert_link = insert(links)
        self.insert_event = insert(events).returning(events.c.id)
        self.insert_order = insert(_table(Order))
        self.insert_line = insert(_table(OrderLine))
        self.insert_review = insert(_table(Review))
        self.insert_profile = insert(profiles)
        self.update_profile = _keyed_update(profiles, "customer_id")
        self.insert_stats = insert(stats)
        self.update_stats = _keyed_update(stats, "customer_id")
        self.memberships = select(memberships.c.segment).where(
            memberships.c.customer_id == bindparam("cid"))
        self.delete_memberships = delete(memberships).where(
            memberships.c.customer_id == bindparam("cid"))
        self.insert_membership = insert(memberships)


_SQL = _Statements()

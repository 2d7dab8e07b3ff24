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

A ``purchase`` event of a product also becomes an order of one line (``order_id`` =
``trk-<event_id or row id>``, quantity 1 at the product's current price); a
``review`` event with its product and rating also becomes a review row (without them
they are stored as events only, as the importer stores them). An event carrying
both ``customer_id`` and a new ``anonymous_id`` links the two; that customer's
statistics are then recomputed from the store (their earlier anonymous events
become theirs, each counted once). A customer the event creates starts from
nothing (every row naming a customer references it, so nothing else is theirs); one
who exists without a profile is recomputed from the store.

Many events at once: :func:`engine.profiles.track_batch.track_many` (the same result,
set-based). The pieces both share are in :mod:`engine.profiles.track_core` and
:mod:`engine.profiles.track_sql`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine.db import checkpoint_in_background
from engine.errors import ValidationError
from engine.profiles.profile import _now, stats_record, stored_calibration
from engine.profiles.segments import Rules, load_segment_settings, normalise_rules
from engine.profiles.track_core import (
    Computed,
    TrackResult,
    apply_event,
    before_of,
    compute_rows,
    event_rows,
    expire,
    kinds_refreshed,
    moments,
    refresh_history,
    stats_of,
    store_calibration,
    write_rows,
    zero_stats,
)
from engine.profiles.track_sql import EVENT_FIELDS, SQL
from engine.profiles.validation import NEEDS_CUSTOMER, validate_event
from engine.timeutil import newest_timestamp

JUST_AFTER = timedelta(microseconds=1)
"""A profile tracked from an event at ``t`` is as of ``t`` plus this (data strictly before)."""

__all__ = ["JUST_AFTER", "TrackResult", "track", "write_event_rows"]


def write_event_rows(
    session: Session, ev: Mapping[str, Any], product: Any, customer_id: str | None, row_id: int
) -> None:
    """The order (and line) of a purchase, the review row of a review (``ev`` stored as
    row ``row_id``). A purchase of no product makes no order, a review without a product
    or a rating no review row: they stay events, as when imported."""
    write_rows(session.connection(), [event_rows(ev, product, customer_id, row_id)])


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
        A :class:`TrackResult` with the customer's new scores and segments, and their
        profile before.

    Raises:
        ValidationError: the event is invalid (nothing is written).
    """
    ev = validate_event(event)
    conn = session.connection()
    checkpoint_in_background(conn)
    found = conn.execute(
        SQL.checks, {"pid": ev["product_id"], "eid": ev["event_id"], "aid": ev["anonymous_id"]}
    ).one()
    product = found if found.product_id is not None else None
    if ev["product_id"] and product is None:
        raise ValidationError(f"invalid product_id {ev['product_id']!r}: no such product")
    if ev["event_id"] is not None and found.duplicate_id is not None:
        return TrackResult("duplicate", ev["customer_id"], ev["event_id"])
    linked_to = found.linked_to
    customer_id = ev["customer_id"] or linked_to
    if ev["event_type"] in NEEDS_CUSTOMER and customer_id is None:
        raise ValidationError(
            f"missing customer_id: a {ev['event_type']} event needs a customer_id "
            "(or an anonymous_id already linked to a customer)"
        )
    locking = bool(customer_id) and conn.dialect.name == "postgresql"
    locked = locking and conn.execute(SQL.lock, {"cid": customer_id}).first() is not None
    stored = conn.execute(SQL.stored, {"cid": customer_id}).first() if customer_id else None
    if locking and stored is not None and not locked:
        # the profile was created by another writer between the lock (which found
        # nothing to hold) and the read: hold it now, and read it again under the lock
        conn.execute(SQL.lock, {"cid": customer_id})
        stored = conn.execute(SQL.stored, {"cid": customer_id}).first()

    # ---- every check passed: write.
    fresh = False
    if ev["customer_id"] is not None and stored is None:
        # a no-op when the customer exists, or another writer creates them meanwhile
        fresh = (
            conn.execute(
                SQL.insert_customer[conn.dialect.name], {"customer_id": ev["customer_id"]}
            ).rowcount
            == 1
        )
    relinked = (
        ev["anonymous_id"] is not None and ev["customer_id"] is not None and linked_to is None
    )
    if relinked:
        conn.execute(
            SQL.insert_link,
            {
                "anonymous_id": ev["anonymous_id"],
                "customer_id": ev["customer_id"],
                "linked_at": ev["occurred_at"],
            },
        )
    row_id = conn.execute(SQL.insert_event, {k: ev[k] for k in EVENT_FIELDS}).scalar_one()
    write_event_rows(session, ev, product, customer_id, row_id)
    if customer_id is None:
        return TrackResult("anonymous", None, ev["event_id"])

    calibration_id = stored.calibration_id if stored is not None else None
    calibration = stored_calibration(session, calibration_id)
    has_stats = stored is not None and stored.stats_customer_id is not None
    interest, brands = kinds_refreshed(ev["event_type"])
    if stored is not None and has_stats and calibration is not None and not relinked:
        as_of = max(stored.profile_as_of, ev["occurred_at"] + JUST_AFTER)
        stats = stats_record(stored._mapping)
        apply_event(stats, ev, product)
        refresh_history(session, [(stats, moments(customer_id, as_of, interest, brands))])
    else:
        newest = newest_timestamp(session)
        as_of = max(
            ev["occurred_at"] + JUST_AFTER,
            (newest + JUST_AFTER) if newest is not None else ev["occurred_at"],
            stored.profile_as_of if stored is not None else ev["occurred_at"],
        )
        if calibration is None:
            calibration_id, calibration = store_calibration(session, as_of)
        if fresh and not relinked:
            # created just now: nothing but this event can be theirs (every row naming a
            # customer references customers), so its contribution is their statistics
            stats = zero_stats()
            apply_event(stats, ev, product)
            refresh_history(session, [(stats, moments(customer_id, as_of, interest, brands))])
        else:
            stats = stats_of(session, customer_id, as_of)
    saved_rules, min_evidence = load_segment_settings(session)
    rules = normalise_rules(rules) if rules is not None else saved_rules
    computed = compute_rows(
        [(customer_id, stats, calibration, calibration_id, as_of)],
        rules,
        min_evidence,
        computed_at or _now(),
    )[0]
    previous = _write_profile(
        session,
        computed,
        stored is not None,
        has_stats,
        _segments(stored.segments_before) if stored is not None else None,
    )
    expire(session, [customer_id])
    return TrackResult(
        "recorded",
        customer_id,
        ev["event_id"],
        computed.given,
        computed.segments,
        computed.state,
        before_of(stored, previous),
    )


def _segments(joined: str | None) -> list[str]:
    """The memberships of a ``stored`` row's ``segments_before``, sorted."""
    return sorted(joined.split(",")) if joined else []


def _write_profile(
    session: Session,
    computed: Computed,
    has_profile: bool,
    has_stats: bool,
    previous: list[str] | None,
) -> list[str]:
    """Write one customer's profile, statistics and (when they changed) memberships;
    returns the memberships before (``previous`` when the caller read them already)."""
    conn = session.connection()
    key = {"b_customer_id": computed.customer_id}
    if has_profile:
        conn.execute(SQL.update_profile, {**computed.profile, **key})
    else:
        conn.execute(SQL.insert_profile, computed.profile)
    if has_stats:
        conn.execute(SQL.update_stats, {**computed.figures, **key})
    else:
        conn.execute(SQL.insert_stats, computed.figures)
    if previous is None:
        previous = sorted(conn.execute(SQL.memberships, {"cid": computed.customer_id}).scalars())
    if previous != computed.segments:
        # Memberships change only when the segments do (their as_of is the last change).
        conn.execute(SQL.delete_memberships, {"cid": computed.customer_id})
        if computed.segments:
            conn.execute(
                SQL.insert_membership,
                [
                    {
                        "customer_id": computed.customer_id,
                        "segment": s,
                        "computed_at": computed.profile["computed_at"],
                        "as_of": computed.profile["as_of"],
                    }
                    for s in computed.segments
                ],
            )
    return previous

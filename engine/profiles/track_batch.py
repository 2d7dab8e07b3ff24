"""Real time, many events at once: :func:`track_many` gives the store the same content as
:func:`engine.profiles.tracking.track` called on each event in turn (refused events
skipped), with set-based reads and writes and one profile update per customer.

How it stays equal to one event at a time:

* every check (validation, the product, ``event_id`` seen before in the store or
  earlier in the batch, the customer an ``anonymous_id`` is linked to, including
  links made earlier in the batch) is decided for the whole batch first, in order,
  and nothing is written for a refused event;
* a customer's counters are sums (the order of events does not change them) and
  their profile's ``as_of`` is the latest of its own and each event's moment;
* what depends on history is re-read once, after the writes, as of the moment one at
  a time would have read it last: orders in the frequency window as of the
  customer's last event, impulse lines and interest as of their last view or
  purchase, brands as of their last purchase (later events of other kinds do not
  change those). A customer created by the batch has no other data (every row
  naming a customer references it), so they start from nothing;
* the events that make ``track`` recompute a customer from the store (a new link of
  an ``anonymous_id``, a customer who exists without a profile, a store never scored)
  are tracked on their own, by ``track``, after everything before them is written.

Segment memberships are rewritten once per customer when the batch changed them
(their ``as_of`` is then the customer's ``as_of`` after the batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db import checkpoint_in_background
from engine.profiles.profile import _now, latest_calibration, stats_record, stored_calibration
from engine.profiles.segments import Rules, load_segment_settings, normalise_rules
from engine.profiles.stats_history import HistoryAsOf
from engine.profiles.track_checks import CHUNK, Accepted, check_events, chunked_rows
from engine.profiles.track_core import (
    Before,
    TrackResult,
    apply_event,
    before_of,
    compute_rows,
    event_rows,
    expire,
    kinds_refreshed,
    refresh_history,
    write_rows,
    zero_stats,
)
from engine.profiles.track_sql import EVENT_FIELDS, SQL
from engine.profiles.tracking import JUST_AFTER, track
from engine.timeutil import newest_timestamp

"""Ids per ``IN (...)`` list."""


def track_many(
    session: Session,
    events: Sequence[Mapping[str, Any]],
    *,
    rules: Rules | None = None,
    computed_at: datetime | None = None,
) -> list[TrackResult]:
    """Validate and store many events, then update each affected customer's profile and
    segments once: the store ends as :func:`~engine.profiles.tracking.track` on each
    event in turn would leave it (a refused event skipped).

    Args:
        session: an open session; everything happens in its transaction (the caller
            commits; with other writers about, open it with :func:`engine.db.run_write`).
        events: events in the import format, in the order they happened to arrive.
        rules: segment rules (default: the store's).
        computed_at: bookkeeping stamp of the rewritten rows (default: now).

    Returns:
        One :class:`TrackResult` per event, in order: ``refused`` (with ``error``;
        nothing written for it), ``duplicate``, ``anonymous`` or ``recorded``. A
        customer's last recorded event carries their profile after the batch and
        before it (``before``); their earlier ones say ``carries_profile=False``.
    """
    conn = session.connection()
    checkpoint_in_background(conn)
    accepted, decided = check_events(conn, events)
    customers = {a.customer_id for a in accepted if a.customer_id}
    locking = bool(customers) and conn.dialect.name == "postgresql"
    locked = (
        {r.customer_id for r in chunked_rows(conn, SQL.lock_many, customers)} if locking else set()
    )
    stored = {r.customer_id: r for r in chunked_rows(conn, SQL.stored_many, customers)}
    if locking and set(stored) - locked:
        # profiles another writer created between the lock (which found nothing to hold)
        # and the read: hold them now, and read them again under the lock
        late = set(stored) - locked
        chunked_rows(conn, SQL.lock_many, late)
        stored.update((r.customer_id, r) for r in chunked_rows(conn, SQL.stored_many, late))
    existing = {
        r.customer_id
        for r in chunked_rows(conn, SQL.customers_many, (c for c in customers if c not in stored))
    }
    scored = latest_calibration(session)
    ready = {
        c
        for c, r in stored.items()
        if r.stats_customer_id is not None
        and stored_calibration(session, r.calibration_id) is not None
    }
    known = existing | set(stored)
    fresh: set[str] = set()
    for item in accepted:
        who = item.customer_id
        if who is None:
            continue
        if (
            item.relinked
            or scored is None
            or (who not in ready and who not in fresh and who in known)
        ):
            item.slow = True  # track recomputes this customer from the store
            ready.add(who)
        elif who not in ready and who not in fresh:
            fresh.add(who)  # created by this batch: nothing else is theirs
    state = _Batch(session, rules, computed_at or _now(), stored, scored)
    run: list[Accepted] = []
    for item in accepted:
        if not item.slow:
            run.append(item)
            continue
        state.run(run, fresh)
        run = []
        decided[item.index] = state.one(item)
    state.run(run, fresh)
    decided.update(state.results)
    return state.finish([decided[i] for i in range(len(events))])


class _Batch:
    """The writes of :func:`track_many`, one run of events at a time."""

    def __init__(
        self,
        session: Session,
        rules: Rules | None,
        computed_at: datetime,
        stored: dict[str, Any],
        scored: Any,
    ) -> None:
        self.session, self.computed_at = session, computed_at
        self.conn = session.connection()
        saved_rules, self.min_evidence = load_segment_settings(session)
        self.rules = normalise_rules(rules) if rules is not None else saved_rules
        self.stored, self.scored = stored, scored
        self.results: dict[int, TrackResult] = {}
        self.stale: set[str] = set()
        """Customers whose ``stored`` row a run has since rewritten."""
        self.before: dict[str, Before | None] = {}
        self.memberships: dict[str, list[str]] | None = None

    def one(self, item: Accepted) -> TrackResult:
        """An event ``track`` recomputes its customer for, tracked by ``track``."""
        result = track(self.session, item.raw, rules=self.rules, computed_at=self.computed_at)
        assert item.customer_id is not None
        self.before.setdefault(item.customer_id, result.before)
        self.stale.add(item.customer_id)
        return result

    def _previous(self, customers: Iterable[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {c: [] for c in customers}
        for row in chunked_rows(self.conn, SQL.memberships_many, found):
            found[row.customer_id].append(row.segment)
        return {c: sorted(s) for c, s in found.items()}

    def run(self, run: list[Accepted], fresh: set[str]) -> None:
        """Write a run of events none of which needs a recompute, then each of their
        customers' profile once."""
        if not run:
            return
        conn = self.conn
        again = {a.customer_id for a in run if a.customer_id in self.stale}
        if again:
            self.stored.update(
                (r.customer_id, r) for r in chunked_rows(conn, SQL.stored_many, again)
            )
            self.stale -= again
        new = sorted(
            {a.customer_id for a in run if a.customer_id in fresh and a.customer_id is not None}
        )
        # one at a time, a new customer's first event is as of the store's newest moment
        # once it is written: the newest before this run, or an event of it up to there
        newest = newest_timestamp(self.session) if new else None
        if new:
            conn.execute(SQL.insert_customer[conn.dialect.name], [{"customer_id": c} for c in new])
        ids = (
            conn.execute(SQL.insert_events, [{k: a.ev[k] for k in EVENT_FIELDS} for a in run])
            .scalars()
            .all()
        )
        write_rows(
            conn,
            [
                event_rows(item.ev, item.product, item.customer_id, row_id)
                for item, row_id in zip(run, ids, strict=True)
                if item.ev["event_type"] in ("purchase", "review")
            ],
        )
        mine: dict[str, list[Accepted]] = {}
        for item in run:
            if item.customer_id is None:
                self.results[item.index] = TrackResult("anonymous", None, item.ev["event_id"])
            else:
                mine.setdefault(item.customer_id, []).append(item)
        previous = self._previous(mine)
        items, flags = [], {}
        history: list[tuple[dict[str, Any], HistoryAsOf]] = []
        for customer_id, own in mine.items():
            row = self.stored.get(customer_id)
            self.before.setdefault(customer_id, before_of(row, previous[customer_id]))
            if customer_id in fresh:
                first = own[0].index
                upto = max(
                    [a.ev["occurred_at"] for a in run if a.index <= first]
                    + ([newest] if newest is not None else [])
                )
                as_of = upto + JUST_AFTER
                stats, calibration_id = zero_stats(), self.scored.id
                calibration = stored_calibration(self.session, calibration_id)
            else:
                assert row is not None
                as_of, stats = row.profile_as_of, stats_record(row._mapping)
                calibration_id = row.calibration_id
                calibration = stored_calibration(self.session, calibration_id)
            interest_at = brands_at = None
            for item in own:
                as_of = max(as_of, item.ev["occurred_at"] + JUST_AFTER)
                apply_event(stats, item.ev, item.product)
                interest, brands = kinds_refreshed(item.ev["event_type"])
                interest_at = as_of if interest else interest_at
                brands_at = as_of if brands else brands_at
            history.append((stats, HistoryAsOf(customer_id, as_of, interest_at, brands_at)))
            assert calibration is not None
            items.append((customer_id, stats, calibration, calibration_id, as_of))
            flags[customer_id] = (
                row is not None,
                row is not None and row.stats_customer_id is not None,
            )
        refresh_history(self.session, history)  # one read for every customer of the run
        computed = compute_rows(items, self.rules, self.min_evidence, self.computed_at)
        self._write(computed, flags, previous)
        for done in computed:
            for item in mine[done.customer_id]:
                self.results[item.index] = TrackResult(
                    "recorded",
                    done.customer_id,
                    item.ev["event_id"],
                    done.given,
                    done.segments,
                    done.state,
                )
        self.stale.update(mine)  # re-read if a later run has them again
        fresh.difference_update(mine)
        expire(self.session, list(mine))

    def _write(
        self,
        computed: list[Any],
        flags: dict[str, tuple[bool, bool]],
        previous: dict[str, list[str]],
    ) -> None:
        conn = self.conn

        def keyed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**r, "b_customer_id": r["customer_id"]} for r in rows]

        for statement, rows in (
            (SQL.update_profile, keyed([c.profile for c in computed if flags[c.customer_id][0]])),
            (SQL.insert_profile, [c.profile for c in computed if not flags[c.customer_id][0]]),
            (SQL.update_stats, keyed([c.figures for c in computed if flags[c.customer_id][1]])),
            (SQL.insert_stats, [c.figures for c in computed if not flags[c.customer_id][1]]),
        ):
            if rows:
                conn.execute(statement, rows)
        # Memberships change only when the segments do.
        changed = [c for c in computed if previous[c.customer_id] != c.segments]
        if changed:
            for start in range(0, len(changed), CHUNK):
                conn.execute(
                    SQL.delete_memberships_many,
                    {"ids": [c.customer_id for c in changed[start : start + CHUNK]]},
                )
            rows = [
                {
                    "customer_id": c.customer_id,
                    "segment": s,
                    "computed_at": self.computed_at,
                    "as_of": c.profile["as_of"],
                }
                for c in changed
                for s in c.segments
            ]
            if rows:
                conn.execute(SQL.insert_membership, rows)

    def finish(self, results: list[TrackResult]) -> list[TrackResult]:
        """Only a customer's last recorded event carries their profile (and before)."""
        last: dict[str, int] = {}
        for index, result in enumerate(results):
            if result.status == "recorded" and result.customer_id is not None:
                last[result.customer_id] = index
        for index, result in enumerate(results):
            if result.status != "recorded" or result.customer_id is None:
                continue
            if last[result.customer_id] == index:
                result.before = self.before.get(result.customer_id)
                result.carries_profile = True
            else:
                result.scores, result.segments, result.emotional_state = {}, [], None
                result.before, result.carries_profile = None, False
        return results

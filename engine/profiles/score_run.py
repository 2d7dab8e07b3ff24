"""``personalize score``: recompute every profile and membership in batch and store them.

Two ways to run it:

* :func:`score_store` in the caller's session and transaction (seeding, tests: no
  other writer about);
* :func:`score_store_concurrently` while ``track`` or the storefront API may be
  writing: it reads and computes in one transaction, without holding any lock, then
  writes in a second, short one that holds the write lock (SQLite ``BEGIN
  IMMEDIATE``; PostgreSQL ``LOCK TABLE ... IN EXCLUSIVE MODE``). Before it writes, it
  compares each stored profile's stamp (``computed_at``) with the one it saw before
  reading: a profile that changed meanwhile was updated by ``track`` with data the
  batch did not see, so the run leaves that customer's profile, statistics and
  memberships as tracked (they equal a batch recompute at their own ``as_of`` with
  their calibration); the next run refits them. Tracking that arrives during the
  write waits for the lock and then applies on top of the new rows. Nothing is lost,
  and nothing newer is overwritten with an older snapshot (``docs/concurrency.md``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from engine.bulk import insert_frame
from engine.db import run_write, session_scope
from engine.models import Profile, ProfileStats, ScoreCalibration, SegmentMembership
from engine.profiles.profile import _Batch, _batch, _now
from engine.profiles.scoring import SCORES, score_columns
from engine.profiles.segments import (
    Rules,
    assign_segments,
    load_rules,
    normalise_rules,
    replace_memberships,
)
from engine.timeutil import resolve_as_of

# PostgreSQL: what track writes, locked against it (profiles first, as track locks it).
_LOCK = text("LOCK TABLE profiles, profile_stats, segment_memberships IN EXCLUSIVE MODE")


@dataclass
class ScoreRunReport:
    """What a score run did; ``kept`` counts the customers whose profile was tracked
    while the run computed, so it kept their newer tracked state."""

    as_of: datetime
    computed_at: datetime
    customers: int
    memberships: int
    segment_sizes: dict[str, int]
    calibration: dict[str, float]
    kept: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "computed_at": self.computed_at,
            "customers": self.customers,
            "memberships": self.memberships,
            "segment_sizes": dict(self.segment_sizes),
            "calibration": dict(self.calibration),
            "kept": self.kept,
        }


@dataclass
class _Computed:
    as_of: datetime
    computed_at: datetime
    batch: _Batch
    members: pd.DataFrame


def _compute(
    session: Session, as_of: datetime | None, rules: Rules | None, computed_at: datetime | None
) -> _Computed:
    as_of = resolve_as_of(session, as_of)
    rules = normalise_rules(rules) if rules is not None else load_rules(session)
    batch = _batch(session, as_of, None)
    return _Computed(as_of, computed_at or _now(), batch, assign_segments(batch.profiles, rules))


def _stamps(session: Session) -> dict[str, datetime]:
    """Each stored profile's ``computed_at``: what tells a tracked profile apart."""
    return {c: t for c, t in session.execute(select(Profile.customer_id, Profile.computed_at))}


def _write(session: Session, run: _Computed, keep: Collection[str] = ()) -> ScoreRunReport:
    """Replace every stored profile, statistics row and membership with the run's, except
    those of the customers in ``keep``."""
    keep = set(keep)
    calibration = ScoreCalibration(
        as_of=run.as_of, computed_at=run.computed_at, reference=run.batch.calibration.as_dict()
    )
    session.add(calibration)
    session.flush()
    scored = ~run.batch.profiles["customer_id"].isin(keep)
    rows = run.batch.profiles.loc[scored, ["customer_id", *SCORES, "emotional_state"]].copy()
    stats = run.batch.stats.loc[~run.batch.stats["customer_id"].isin(keep)].copy()
    assert (rows["customer_id"].to_numpy() == stats["customer_id"].to_numpy()).all()
    # The stored columns hold the formula's value even without enough evidence (they are
    # NOT NULL); every reader masks them with the evidence in profile_stats.
    raw = score_columns(stats, run.batch.calibration)
    for name in SCORES:
        rows[name] = np.asarray(raw[name], dtype=float)
    rows["as_of"] = run.as_of
    rows["computed_at"] = run.computed_at
    rows["calibration_id"] = calibration.id
    stats["as_of"] = run.as_of
    members = run.members.loc[~run.members["customer_id"].isin(keep)]
    for model in (SegmentMembership, ProfileStats, Profile):
        statement = delete(model)
        if keep:
            statement = statement.where(model.customer_id.not_in(sorted(keep)))
        session.execute(statement)
    connection = session.connection()
    # The bulk fast path (executemany of tuples / COPY).
    insert_frame(connection, Profile.__table__, rows)  # type: ignore[arg-type]
    insert_frame(connection, ProfileStats.__table__, stats)  # type: ignore[arg-type]
    replace_memberships(session, members, as_of=run.as_of, computed_at=run.computed_at)
    sizes = members.groupby("segment").size()
    return ScoreRunReport(
        as_of=run.as_of,
        computed_at=run.computed_at,
        customers=len(rows),
        memberships=len(members),
        segment_sizes={str(k): int(v) for k, v in sizes.items()},
        calibration=run.batch.calibration.as_dict(),
        kept=len(keep),
    )


def score_store(
    session: Session,
    *,
    as_of: datetime | None = None,
    rules: Rules | None = None,
    computed_at: datetime | None = None,
) -> ScoreRunReport:
    """Recompute every profile and membership in batch and replace the stored ones, in
    the caller's transaction (the caller commits).

    Set-based: statistics come from SQL aggregation, scores and segments from
    vectorised frames, and every table is written in bulk. With other writers about,
    use :func:`score_store_concurrently`.

    Args:
        session: an open session (its transaction holds the whole rewrite).
        as_of: use only data strictly before it (default: just after the newest data).
        rules: segment rules (default: the store's).
        computed_at: bookkeeping time stamped on the rows (default: now).
    """
    return _write(session, _compute(session, as_of, rules, computed_at))


def score_store_concurrently(
    engine: Engine,
    *,
    as_of: datetime | None = None,
    rules: Rules | None = None,
    computed_at: datetime | None = None,
) -> ScoreRunReport:
    """:func:`score_store` safe beside concurrent ``track`` (see the module's docstring):
    compute without a lock, then write under the write lock, keeping the customers
    tracked meanwhile. Commits; a write that lost a race is rerun."""
    with session_scope(engine) as session:
        seen = _stamps(session)  # before any data is read: later tracking shows up below
        run = _compute(session, as_of, rules, computed_at)

    def write(session: Session) -> ScoreRunReport:
        if session.connection().dialect.name == "postgresql":
            session.execute(_LOCK)
        now = _stamps(session)
        tracked = {c for c, stamp in now.items() if seen.get(c) != stamp}
        return _write(session, run, keep=tracked)

    return run_write(engine, write)


__all__ = ["ScoreRunReport", "score_store", "score_store_concurrently"]

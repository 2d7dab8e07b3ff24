"""Batch scoring of the store: every customer's profile at once.

* :func:`compute_profiles` computes every customer's scores, emotional state and
  segments as of a moment (nothing is written);
* :mod:`engine.profiles.score_run` does the same and replaces the stored profiles
  and memberships (``personalize score``).

One customer's full profile is :func:`engine.profiles.customer.get_profile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import (
    ProfileStats,
    ScoreCalibration,
)
from engine.profiles.emotion import state_of, weighted_mean
from engine.profiles.scoring import (
    SCORES,
    Calibration,
    fit_calibration,
    score_frame,
)
from engine.profiles.segments import (
    Rules,
    assign_segments,
    load_min_evidence,
    load_rules,
    normalise_rules,
)
from engine.profiles.stats import (
    COUNT_COLUMNS,
    FLOAT_COLUMNS,
    compute_stats,
)
from engine.timeutil import resolve_as_of

HISTORY_LIMIT = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

PROFILE_COLUMNS = [
    "customer_id",
    *SCORES,
    "emotional_state",
    "mean_rating",
    "top_category",
    "category_share",
    "interest_events",
    "orders",
    "lines",
    "activity",
    "reviews",
]
"""Columns of :func:`compute_profiles`."""


def _now() -> datetime:
    # Bookkeeping only (when a row was written); no analytic result reads it.
    return datetime.now(UTC).replace(tzinfo=None)


def profiles_from_stats(
    stats: pd.DataFrame, calibration: Calibration, min_evidence: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """The profile frame (:data:`PROFILE_COLUMNS`) from a stats frame: pure, vectorised.

    A score below its minimum evidence (``min_evidence``, default
    :data:`engine.profiles.scoring.MIN_EVIDENCE`) is NaN.
    """
    frame = score_frame(stats, calibration, min_evidence)
    mean = weighted_mean(stats["rating_wsum"], stats["rating_w"])
    frame["emotional_state"] = state_of(mean, stats["reviews"].to_numpy())
    frame["mean_rating"] = mean
    frame["top_category"] = stats["top_category"].to_numpy()
    total = stats["interest_total"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(
            total > 0,
            100.0 * stats["top_interest"].to_numpy(dtype=float) / np.where(total > 0, total, 1.0),
            0.0,
        )
    frame["category_share"] = share
    for name in ("interest_events", "orders", "lines", "activity", "reviews"):
        frame[name] = stats[name].to_numpy()
    return frame[PROFILE_COLUMNS]


@dataclass
class _Batch:
    as_of: datetime
    stats: pd.DataFrame
    calibration: Calibration
    profiles: pd.DataFrame


def _batch(
    session: Session,
    as_of: datetime,
    calibration: Calibration | None,
    customer_ids: list[str] | None = None,
    min_evidence: Mapping[str, int] | None = None,
) -> _Batch:
    if calibration is None and customer_ids is not None:
        # The calibration is the whole store's, whoever is being scored.
        calibration = fit_calibration(compute_stats(session, as_of=as_of))
    stats = compute_stats(session, as_of=as_of, customer_ids=customer_ids)
    if calibration is None:
        calibration = fit_calibration(stats)
    if min_evidence is None:
        min_evidence = load_min_evidence(session)
    return _Batch(as_of, stats, calibration, profiles_from_stats(stats, calibration, min_evidence))


def compute_profiles(
    session: Session,
    *,
    as_of: datetime | None = None,
    calibration: Calibration | None = None,
    rules: Rules | None = None,
    customer_ids: list[str] | None = None,
    min_evidence: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Every customer's profile as of ``as_of``, computed now (nothing is written).

    Args:
        session: an open session.
        as_of: use only data strictly before it (default: just after the newest data).
        calibration: score against these store-level values instead of fitting
            them on the same data (tracking and its tests freeze them).
        rules: segment rules for the ``segments`` column (default: the store's).
        customer_ids: only these customers (the calibration is still the store's).
        min_evidence: minimum evidence per score (default: the store's,
            :func:`engine.profiles.segments.load_min_evidence`).

    Returns:
        Frame with :data:`PROFILE_COLUMNS` plus ``segments`` (``;``-joined,
        sorted); a score is NaN where there is not enough data for it.
        ``attrs["calibration"]`` and ``attrs["as_of"]`` say what it was computed with.
    """
    as_of = resolve_as_of(session, as_of)
    batch = _batch(session, as_of, calibration, customer_ids, min_evidence)
    rules = normalise_rules(rules) if rules is not None else load_rules(session)
    profiles = batch.profiles.copy()
    members = assign_segments(profiles, rules)
    joined = members.groupby("customer_id")["segment"].agg(lambda s: ";".join(sorted(s)))
    profiles["segments"] = profiles["customer_id"].map(joined).astype(object).fillna("")
    profiles.attrs["calibration"] = batch.calibration.as_dict()
    profiles.attrs["as_of"] = as_of
    return profiles


def stats_record(row: ProfileStats | pd.Series | dict[str, Any]) -> dict[str, Any]:
    """One customer's statistics as a plain dict (ints, floats, ``top_category``)."""
    get = (lambda k: getattr(row, k)) if isinstance(row, ProfileStats) else row.__getitem__
    out: dict[str, Any] = {name: int(get(name)) for name in COUNT_COLUMNS}
    out.update({name: float(get(name)) for name in FLOAT_COLUMNS})
    top = get("top_category")
    out["top_category"] = top if isinstance(top, str) else None
    return out


def latest_calibration(session: Session) -> ScoreCalibration | None:
    """The newest batch run's calibration row, if the store was ever scored."""
    return session.scalars(
        select(ScoreCalibration).order_by(ScoreCalibration.id.desc()).limit(1)
    ).first()


_CALIBRATIONS: dict[tuple[str, int], Calibration] = {}
"""Calibrations by (database, id): rows are never changed, so they can be kept."""


def stored_calibration(session: Session, calibration_id: int | None) -> Calibration | None:
    """The calibration a stored profile was scored with (``None`` if it has none)."""
    if calibration_id is None:
        return None
    engine = session.get_bind().engine
    where = engine.__dict__.get("_personalize_url")
    if where is None:  # rendering the URL costs more than the look-up: once per engine
        where = engine.__dict__["_personalize_url"] = str(engine.url)
    key = (where, calibration_id)
    if key not in _CALIBRATIONS:
        reference = session.scalar(
            select(ScoreCalibration.reference).where(ScoreCalibration.id == calibration_id)
        )
        if reference is None:
            return None
        _CALIBRATIONS[key] = Calibration.from_dict(reference)
    return _CALIBRATIONS[key]


__all__ = [
    "PROFILE_COLUMNS",
    "compute_profiles",
    "latest_calibration",
    "profiles_from_stats",
    "stats_record",
    "stored_calibration",
]

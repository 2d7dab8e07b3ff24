"""The unified customer profile: batch scoring of the store, and one customer's profile.

* :func:`compute_profiles` computes every customer's scores, emotional state and
  segments as of a moment (nothing is written);
* :mod:`engine.profiles.score_run` does the same and replaces the stored profiles
  and memberships (``personalize score``);
* :func:`get_profile` gives one customer's :class:`CustomerProfile`: scores with
  their inputs, segments, emotional state with hints, per-channel activity,
  histories and decayed interests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import UserError
from engine.frames import customer_exists, load_events, load_order_lines, load_reviews
from engine.models import (
    CHANNELS,
    Customer,
    Event,
    IdentityLink,
    Profile,
    ProfileStats,
    ScoreCalibration,
    SegmentMembership,
)
from engine.profiles.emotion import TONES, state_of, unhappy_with, weighted_mean
from engine.profiles.scoring import (
    SCORES,
    Calibration,
    explain,
    fit_calibration,
    score_frame,
)
from engine.profiles.segments import (
    Rules,
    assign_segments,
    load_min_evidence,
    load_rules,
    normalise_rules,
    segments_for,
)
from engine.profiles.stats import (
    COUNT_COLUMNS,
    FLOAT_COLUMNS,
    INTEREST_LAMBDA,
    compute_stats,
    decay_factor,
)
from engine.timeutil import resolve_as_of

HISTORY_LIMIT = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

PROFILE_COLUMNS = [
    "customer_id", *SCORES, "emotional_state", "mean_rating", "top_category",
    "category_share", "interest_events", "orders", "lines", "activity", "reviews",
]
"""Columns of :func:`compute_profiles`."""


def _now() -> datetime:
    # Bookkeeping only (when a row was written); no analytic result reads it.
    return datetime.now(UTC).replace(tzinfo=None)


def profiles_from_stats(stats: pd.DataFrame, calibration: Calibration,
                        min_evidence: Mapping[str, int] | None = None) -> pd.DataFrame:
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
        share = np.where(total > 0, 100.0 * stats["top_interest"].to_numpy(dtype=float)
                         / np.where(total > 0, total, 1.0), 0.0)
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
    return _Batch(as_of, stats, calibration,
                  profiles_from_stats(stats, calibration, min_evidence))


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
    key = (str(session.get_bind().engine.url), calibration_id)
    if key not in _CALIBRATIONS:
        reference = session.scalar(
            select(ScoreCalibration.reference).where(ScoreCalibration.id == calibration_id)
        )
        if reference is None:
            return None
        _CALIBRATIONS[key] = Calibration.from_dict(reference)
    return _CALIBRATIONS[key]


# --------------------------------------------------------------------------- one customer


@dataclass
class ScoreDetail:
    """One score with the evidence behind it (``n`` observations; ``min_n`` needed)."""

    value: float | None
    n: int
    inputs: dict[str, Any]
    explanation: str
    min_n: int = 1

    @property
    def enough(self) -> bool:
        """False when there is not enough data for the score (``value`` is then ``None``)."""
        return self.value is not None


@dataclass
class CustomerProfile:
    """One customer's unified, cross-channel profile as of a moment.

    ``source`` is ``"stored"`` (the row written by score/track) or ``"computed"``
    (computed on the fly for an explicit ``as_of`` or an unscored store).
    History frames: ``searches`` (``occurred_at, query, channel``),
    ``cart_adds``/``wishlist_adds`` (``occurred_at, product_id, channel``), last
    100 each, newest first; ``purchases`` (every order line, newest first, the
    columns of :func:`engine.frames.load_order_lines`). ``category_interest`` and
    ``brand_interest``: frames ``name, weight, share`` (time-decayed, half-life
    90 days, largest first).
    """

    customer_id: str
    name: str | None
    as_of: datetime
    source: str
    computed_at: datetime | None
    scores: dict[str, ScoreDetail]
    segments: list[str]
    emotional_state: str
    mean_rating: float | None
    reviews: int
    tone: str
    unhappy_brands: list[str]
    unhappy_categories: list[str]
    active_hours: list[int]
    active_weekdays: list[str]
    channels: dict[str, dict[str, int]]
    searches: pd.DataFrame
    cart_adds: pd.DataFrame
    wishlist_adds: pd.DataFrame
    purchases: pd.DataFrame
    category_interest: pd.DataFrame
    brand_interest: pd.DataFrame
    stitched: dict[str, int]
    data_points: dict[str, int]
    calibration: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready document (frames become lists of records)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = frame.astype(object).where(frame.notna(), None)
            return [
                {k: (v.isoformat() if isinstance(v, datetime | pd.Timestamp) else v)
                 for k, v in row.items()}
                for row in out.to_dict("records")
            ]

        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "scores": {k: vars(v) for k, v in self.scores.items()},
            "segments": list(self.segments),
            "emotional_state": {
                "state": self.emotional_state,
                "mean_rating": self.mean_rating,
                "reviews": self.reviews,
                "tone": self.tone,
                "unhappy_brands": self.unhappy_brands,
                "unhappy_categories": self.unhappy_categories,
                "active_hours": self.active_hours,
                "active_weekdays": self.active_weekdays,
            },
            "channels": self.channels,
            "histories": {
                "searches": records(self.searches),
                "cart_adds": records(self.cart_adds),
                "wishlist_adds": records(self.wishlist_adds),
                "purchases": records(self.purchases),
            },
            "interests": {
                "categories": records(self.category_interest),
                "brands": records(self.brand_interest),
            },
            "stitched": self.stitched,
            "data_points": self.data_points,
            "calibration": self.calibration,
        }


def _decayed_interest(names: pd.Series, times: pd.Series, as_of: datetime) -> pd.DataFrame:
    if names.empty:
        return pd.DataFrame(columns=["name", "weight", "share"])
    age_days = (pd.Timestamp(as_of) - times).dt.total_seconds().to_numpy() / 86400.0
    weights = np.exp(-INTEREST_LAMBDA * age_days)
    frame = pd.DataFrame({"name": names.to_numpy(), "weight": weights}).dropna(subset=["name"])
    grouped = frame.groupby("name", as_index=False)["weight"].sum()
    total = grouped["weight"].sum()
    grouped["share"] = grouped["weight"] / total if total > 0 else 0.0
    return grouped.sort_values(["weight", "name"], ascending=[False, True]).reset_index(drop=True)


def _history(events: pd.DataFrame, event_type: str, columns: list[str]) -> pd.DataFrame:
    chosen = events.loc[events["event_type"] == event_type, columns]
    return chosen.sort_values("occurred_at", ascending=False).head(HISTORY_LIMIT).reset_index(
        drop=True
    )


def get_profile(
    session: Session,
    customer_id: str,
    *,
    as_of: datetime | None = None,
    calibration: Calibration | None = None,
) -> CustomerProfile:
    """One customer's unified profile.

    Without ``as_of``: the stored profile (as last written by ``score`` or
    ``track``), or computed on the fly when the store was never scored. With
    ``as_of``: computed on the fly from data strictly before it, never read from
    rows computed at another time.

    Args:
        calibration: for a computed profile, the store's calibration as of the same
            moment when the caller has it (e.g. from :func:`compute_profiles`'
            ``attrs``); by default it is fitted on the whole store, which costs a
            batch pass.

    Raises:
        UserError: unknown customer, or one that does not exist yet as of ``as_of``.
    """
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise UserError(f"unknown customer {customer_id!r}")
    min_evidence = load_min_evidence(session)
    if as_of is not None and not customer_exists(session, customer_id, as_of):
        raise UserError(
            f"customer {customer_id!r} has no data before {as_of:%Y-%m-%d %H:%M}: "
            "as of then they are not a customer yet (pick a later --as-of)"
        )
    stored = session.get(Profile, customer_id) if as_of is None else None
    stored_stats = session.get(ProfileStats, customer_id) if stored is not None else None
    stored_cal = stored_calibration(session, stored.calibration_id) if stored else None
    if stored is not None and stored_stats is not None and stored_cal is not None:
        when = stored.as_of
        stats = stats_record(stored_stats)
        calibration = stored_cal
        segments = sorted(session.scalars(
            select(SegmentMembership.segment).where(SegmentMembership.customer_id == customer_id)
        ))
        source, computed_at = "stored", stored.computed_at
    else:
        when = resolve_as_of(session, as_of)
        if calibration is None:
            calibration = fit_calibration(compute_stats(session, as_of=when))
        one = compute_stats(session, as_of=when, customer_ids=[customer_id])
        stats = stats_record(one.iloc[0])
        row = profiles_from_stats(one, calibration, min_evidence).iloc[0]
        segments = segments_for({name: float(row[name]) for name in SCORES},
                                row["top_category"], float(row["category_share"]),
                                int(row["interest_events"]), load_rules(session))
        source, computed_at = "computed", None
    details = explain(stats, calibration, min_evidence)
    mean = weighted_mean(stats["rating_wsum"], stats["rating_w"])
    mean_rating = None if np.isnan(mean) else float(mean)
    state = str(state_of(mean if mean_rating is not None else 0.0, stats["reviews"]))

    events = load_events(session, as_of=when, customer_ids=[customer_id])
    lines = load_order_lines(session, as_of=when, customer_ids=[customer_id])
    reviews = load_reviews(session, as_of=when, customer_ids=[customer_id])
    active = events.loc[events["event_type"] != "purchase", ["occurred_at", "channel"]]
    orders = lines.drop_duplicates("order_id")[["ordered_at", "channel"]]
    stamps = pd.concat([active["occurred_at"], orders["ordered_at"]], ignore_index=True)
    hours = stamps.dt.hour.value_counts()
    days = stamps.dt.day_of_week.value_counts()
    hour_order = sorted(hours.index, key=lambda h: (-hours[h], h))[:3]
    day_order = sorted(days.index, key=lambda d: (-days[d], d))[:2]

    channels: dict[str, dict[str, int]] = {c: {"events": 0, "orders": 0} for c in CHANNELS}
    for channel, n in active["channel"].fillna("unknown").value_counts().items():
        channels.setdefault(str(channel), {"events": 0, "orders": 0})["events"] = int(n)
    for channel, n in orders["channel"].fillna("unknown").value_counts().items():
        channels.setdefault(str(channel), {"events": 0, "orders": 0})["orders"] = int(n)

    reviews = reviews.assign(customer_id=customer_id)
    unhappy_brands = list(unhappy_with(reviews, "brand").get(customer_id, ()))
    unhappy_categories = list(unhappy_with(reviews, "category").get(customer_id, ()))

    views = events.loc[events["event_type"] == "product_view", ["product_id", "occurred_at"]]
    from engine.frames import load_products

    products = load_products(session)[["product_id", "category", "brand"]]
    viewed = views.merge(products, on="product_id", how="left")
    interest_rows = pd.concat([
        viewed[["category", "brand", "occurred_at"]],
        lines[["category", "brand", "ordered_at"]].rename(columns={"ordered_at": "occurred_at"}),
    ], ignore_index=True)

    anonymous_ids = list(session.scalars(
        select(IdentityLink.anonymous_id).where(IdentityLink.customer_id == customer_id)
    ))
    stitched_events = 0
    if anonymous_ids:
        stitched_events = int(session.scalar(
            select(func.count()).select_from(Event).where(
                # coalesce: keep the planner on the anonymous_id index (see stats.py).
                func.coalesce(Event.customer_id, "") == "", Event.anonymous_id.in_(anonymous_ids),
                Event.occurred_at < when,
            )
        ) or 0)

    return CustomerProfile(
        customer_id=customer_id,
        name=customer.name,
        as_of=when,
        source=source,
        computed_at=computed_at,
        scores={k: ScoreDetail(**v) for k, v in details.items()},
        segments=segments,
        emotional_state=state,
        mean_rating=None if mean_rating is None or math.isnan(mean_rating) else mean_rating,
        reviews=int(stats["reviews"]),
        tone=TONES[state],
        unhappy_brands=unhappy_brands,
        unhappy_categories=unhappy_categories,
        active_hours=[int(h) for h in hour_order],
        active_weekdays=[WEEKDAYS[int(d)] for d in day_order],
        channels=channels,
        searches=_history(events, "search", ["occurred_at", "query", "channel"]),
        cart_adds=_history(events, "cart_add", ["occurred_at", "product_id", "channel"]),
        wishlist_adds=_history(events, "wishlist_add", ["occurred_at", "product_id", "channel"]),
        purchases=lines.sort_values("ordered_at", ascending=False, kind="stable")
        .reset_index(drop=True),
        category_interest=_decayed_interest(interest_rows["category"],
                                            interest_rows["occurred_at"], when),
        brand_interest=_decayed_interest(interest_rows["brand"], interest_rows["occurred_at"],
                                         when),
        stitched={"anonymous_ids": len(anonymous_ids), "events": stitched_events},
        data_points={"orders": int(stats["orders"]), "lines": int(stats["lines"]),
                     "activity": int(stats["activity"]), "reviews": int(stats["reviews"])},
        calibration=calibration.as_dict(),
    )


__all__ = [
    "CustomerProfile", "PROFILE_COLUMNS", "ScoreDetail", "compute_profiles",
    "decay_factor", "get_profile", "latest_calibration", "profiles_from_stats",
    "stats_record", "stored_calibration",
]

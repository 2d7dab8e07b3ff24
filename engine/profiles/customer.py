"""One customer's unified profile: scores with their inputs, segments, emotional state with
hints, per-channel activity, histories and decayed interests (:func:`get_profile`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import UserError
from engine.frames import customer_exists, load_events, load_order_lines, load_reviews
from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Profile,
    ProfileStats,
    SegmentMembership,
)
from engine.profiles.emotion import TONES, state_of, unhappy_with, weighted_mean
from engine.profiles.profile import (
    HISTORY_LIMIT,
    WEEKDAYS,
    profiles_from_stats,
    stats_record,
    stored_calibration,
)
from engine.profiles.scoring import (
    SCORES,
    Calibration,
    explain,
    fit_calibration,
)
from engine.profiles.segments import (
    load_min_evidence,
    load_rules,
    segments_for,
)
from engine.profiles.stats import (
    INTEREST_LAMBDA,
    compute_stats,
)
from engine.timeutil import resolve_as_of
from engine.vocabulary import CHANNELS


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
                {
                    k: (v.isoformat() if isinstance(v, datetime | pd.Timestamp) else v)
                    for k, v in row.items()
                }
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
    return (
        chosen.sort_values("occurred_at", ascending=False)
        .head(HISTORY_LIMIT)
        .reset_index(drop=True)
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
        segments = sorted(
            session.scalars(
                select(SegmentMembership.segment).where(
                    SegmentMembership.customer_id == customer_id
                )
            )
        )
        source, computed_at = "stored", stored.computed_at
    else:
        when = resolve_as_of(session, as_of)
        if calibration is None:
            calibration = fit_calibration(compute_stats(session, as_of=when))
        one = compute_stats(session, as_of=when, customer_ids=[customer_id])
        stats = stats_record(one.iloc[0])
        row = profiles_from_stats(one, calibration, min_evidence).iloc[0]
        segments = segments_for(
            {name: float(row[name]) for name in SCORES},
            row["top_category"],
            float(row["category_share"]),
            int(row["interest_events"]),
            load_rules(session),
        )
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
    interest_rows = pd.concat(
        [
            viewed[["category", "brand", "occurred_at"]],
            lines[["category", "brand", "ordered_at"]].rename(
                columns={"ordered_at": "occurred_at"}
            ),
        ],
        ignore_index=True,
    )

    anonymous_ids = list(
        session.scalars(
            select(IdentityLink.anonymous_id).where(IdentityLink.customer_id == customer_id)
        )
    )
    stitched_events = 0
    if anonymous_ids:
        stitched_events = int(
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(
                    # coalesce: keep the planner on the anonymous_id index (see stats.py).
                    func.coalesce(Event.customer_id, "") == "",
                    Event.anonymous_id.in_(anonymous_ids),
                    Event.occurred_at < when,
                )
            )
            or 0
        )

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
        purchases=lines.sort_values("ordered_at", ascending=False, kind="stable").reset_index(
            drop=True
        ),
        category_interest=_decayed_interest(
            interest_rows["category"], interest_rows["occurred_at"], when
        ),
        brand_interest=_decayed_interest(
            interest_rows["brand"], interest_rows["occurred_at"], when
        ),
        stitched={"anonymous_ids": len(anonymous_ids), "events": stitched_events},
        data_points={
            "orders": int(stats["orders"]),
            "lines": int(stats["lines"]),
            "activity": int(stats["activity"]),
            "reviews": int(stats["reviews"]),
        },
        calibration=calibration.as_dict(),
    )


__all__ = ["CustomerProfile", "ScoreDetail", "get_profile"]

"""The followed customer of a live run: what their profile shows now, and what changed.

:func:`look` reads one customer's stored profile (the one ``track()`` just wrote:
scores with their inputs, segments, emotional state) and, with a fitted blend, their
recommendations in the context of their latest event, adapted to their mood as it is
now. :func:`changes` compares two looks and says, in the profile's own terms, why a
score moved ("impulse buying 41 -> 47: bought 3 minutes after first viewing it").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from engine.models import (
    Customer,
    Order,
    OrderLine,
    Product,
    Profile,
    ProfileStats,
    Review,
    SegmentMembership,
)
from engine.profiles.customer import get_profile
from engine.profiles.emotion import UNHAPPY_RATING, state_one, weighted_mean
from engine.profiles.profile import stats_record, stored_calibration
from engine.profiles.scoring import explain
from engine.profiles.segments import load_min_evidence
from engine.recommend import BlendRecommender, Mood, parse_context

LABELS = {
    "lifetime_value": "lifetime value",
    "purchase_frequency": "purchase frequency",
    "price_sensitivity": "price sensitivity",
    "brand_loyalty": "brand loyalty",
    "impulse_buying": "impulse buying",
    "research_intensity": "research intensity",
    "weekend_shopping": "weekend shopping",
    "night_shopping": "night shopping",
    "mobile_usage": "mobile usage",
}
TOP_K = 5


@dataclass
class Look:
    """One customer as their profile shows them at one moment."""

    customer_id: str
    name: str | None
    scores: dict[str, float | None]
    inputs: dict[str, dict[str, Any]]
    segments: list[str]
    emotional_state: str
    mean_rating: float | None
    unhappy_brands: list[str]
    unhappy_categories: list[str]
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    last_purchase: str | None = None

    @property
    def unhappy(self) -> list[str]:
        return sorted({*self.unhappy_brands, *self.unhappy_categories})

    @property
    def top(self) -> list[str]:
        return [r["product_id"] for r in self.recommendations]


_STATS = [c for c in ProfileStats.__table__.c if c.name not in ("customer_id", "as_of")]
_LAST_BOUGHT = (
    select(OrderLine.product_id)
    .join(Order, Order.order_id == OrderLine.order_id)
    .where(Order.customer_id == Profile.customer_id)
    .order_by(Order.ordered_at.desc(), Order.order_id.desc())
    .limit(1)
)
_STORED = (
    # the profile's calibration, its statistics, the name, the memberships (one string)
    # and the product last bought: one read
    select(
        Profile.calibration_id,
        Customer.name,
        *_STATS,
        select(func.aggregate_strings(SegmentMembership.segment, ","))
        .where(SegmentMembership.customer_id == Profile.customer_id)
        .scalar_subquery()
        .label("segments"),
        _LAST_BOUGHT.scalar_subquery().label("last_purchase"),
    )
    .join(ProfileStats, ProfileStats.customer_id == Profile.customer_id)
    .outerjoin(Customer, Customer.customer_id == Profile.customer_id)
    .where(Profile.customer_id == bindparam("cid"))
)
_RATED = (
    select(Review.rating, Product.brand, Product.category)
    .join(Product, Product.product_id == Review.product_id)
    .where(Review.customer_id == bindparam("cid"))
)


def _stored_look(session: Session, customer_id: str) -> Look | None:
    """The look from the rows ``track()`` wrote (profile, statistics, memberships), or
    None when the customer has no stored profile yet. The same figures as
    :func:`engine.profiles.customer.get_profile`, without its histories (two small
    indexed reads instead of a pass over the customer's whole history)."""
    conn = session.connection()
    found = conn.execute(_STORED, {"cid": customer_id}).first()
    calibration = stored_calibration(session, found.calibration_id) if found else None
    if found is None or calibration is None:
        return None
    stats = stats_record(found._mapping)
    details = explain(stats, calibration, load_min_evidence(session))
    mean = float(weighted_mean(stats["rating_wsum"], stats["rating_w"]))
    rated: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
    for rating, *names in conn.execute(_RATED, {"cid": customer_id}):
        for kind, name in zip(rated, names, strict=True):
            if name is not None:
                kind.setdefault(str(name), []).append(int(rating))
    unhappy = [
        sorted(n for n, r in kind.items() if sum(r) / len(r) <= UNHAPPY_RATING) for kind in rated
    ]
    return Look(
        customer_id=customer_id,
        name=found.name,
        scores={
            k: (round(v["value"], 1) if v["value"] is not None else None)
            for k, v in details.items()
        },
        inputs={k: dict(v["inputs"]) for k, v in details.items()},
        segments=sorted(found.segments.split(",")) if found.segments else [],
        emotional_state=state_one(stats["rating_wsum"], stats["rating_w"], stats["reviews"]),
        mean_rating=None if math.isnan(mean) else mean,
        unhappy_brands=unhappy[0],
        unhappy_categories=unhappy[1],
        last_purchase=found.last_purchase,
    )


def _profile_look(session: Session, customer_id: str) -> Look:
    profile = get_profile(session, customer_id)
    purchases = profile.purchases
    return Look(
        customer_id=customer_id,
        name=profile.name,
        scores={
            k: (round(v.value, 1) if v.value is not None else None)
            for k, v in profile.scores.items()
        },
        inputs={k: dict(v.inputs) for k, v in profile.scores.items()},
        segments=list(profile.segments),
        emotional_state=profile.emotional_state,
        mean_rating=profile.mean_rating,
        unhappy_brands=list(profile.unhappy_brands),
        unhappy_categories=list(profile.unhappy_categories),
        last_purchase=str(purchases["product_id"].iloc[0]) if len(purchases) else None,
    )


class Recommendations:
    """A followed customer's recommendations, recomputed only when what they depend on
    changes: their mood, the context of their latest event, or what they bought."""

    def __init__(self, blend: BlendRecommender, names: dict[str, str]) -> None:
        self.blend, self.names = blend, names
        self._key: tuple[Any, ...] | None = None
        self._list: list[dict[str, Any]] = []

    def of(
        self, seen: Look, event: dict[str, Any] | None, exclude: set[str]
    ) -> list[dict[str, Any]]:
        context = context_of(self.blend, event)
        key = (
            seen.customer_id,
            seen.emotional_state,
            tuple(seen.unhappy),
            context,
            frozenset(exclude),
        )
        if key != self._key:
            mood = Mood(
                state=seen.emotional_state,
                unhappy_brands=frozenset(seen.unhappy_brands),
                unhappy_categories=frozenset(seen.unhappy_categories),
                mean_rating=seen.mean_rating,
            )
            self._list = [
                {
                    "product_id": r.product_id,
                    "name": self.names.get(r.product_id, r.product_id),
                    "score": f"{r.score:.0f}",
                    "reason": r.reason,
                }
                for r in self.blend.recommend(
                    seen.customer_id,
                    context,
                    k=TOP_K,
                    exclude=exclude,
                    allow_unknown=True,
                    mood=mood,
                )
            ]
            self._key = key
        return self._list


def look(
    session: Session,
    customer_id: str,
    *,
    recommender: Recommendations | None = None,
    event: dict[str, Any] | None = None,
    exclude: set[str] | None = None,
) -> Look:
    """The customer's stored profile and (with ``recommender``) top recommendations in the
    context of ``event`` (its weather, hour, device), adapted to their current mood.

    Raises:
        engine.errors.UserError: unknown customer.
    """
    seen = _stored_look(session, customer_id) or _profile_look(session, customer_id)
    if recommender is not None:
        seen.recommendations = recommender.of(seen, event, exclude or set())
    return seen


def context_of(blend: BlendRecommender, event: dict[str, Any] | None) -> Any:
    """The recommendation context of an event: its weather, hour, device (and city if known)."""
    if not event:
        return None
    at = datetime.fromisoformat(str(event["occurred_at"]))
    known = blend.data_.known_locations
    location = event.get("location") if event.get("location") in known else None
    return parse_context(
        weather=event.get("weather"),
        time_of_day=at.hour,
        device=event.get("device"),
        location=location,
        known_locations=known,
    )


def _why(
    name: str,
    before: dict[str, Any],
    after: dict[str, Any],
    event: dict[str, Any],
    first_view: datetime | None,
) -> str:
    """Why one score moved: the change of its inputs, said as the event caused it."""
    at = datetime.fromisoformat(str(event["occurred_at"]))
    kind = event["event_type"].replace("_", " ")
    if name == "impulse_buying":
        if after["quick_lines"] > before["quick_lines"]:
            if first_view is not None:
                minutes = max((at - first_view).total_seconds() / 60.0, 0.0)
                return f"bought within {minutes:.0f} minutes of first view"
            return "bought within 30 minutes of first viewing it"
        if after["viewed_then_bought_lines"] > before["viewed_then_bought_lines"]:
            return "bought long after first viewing it (a considered purchase)"
    if name == "night_shopping":
        night = after["night_activity"] > before["night_activity"]
        return f"a {kind} at {at:%H:%M}" + (" (night)" if night else " (daytime)")
    if name == "weekend_shopping":
        return f"a {kind} on a {at:%A}"
    if name == "mobile_usage":
        return f"a {kind} on {event.get('device') or 'an unknown device'}"
    if name == "lifetime_value":
        return f"net spend {before['net_spend']:.2f} -> {after['net_spend']:.2f}"
    if name == "purchase_frequency":
        return (
            f"orders in the last 365 days {before['orders_last_365d']} -> "
            f"{after['orders_last_365d']}"
        )
    if name == "price_sensitivity":
        extra = after["discounted_lines"] > before["discounted_lines"]
        return (
            "bought at a discount" if extra else "bought at full price"
        ) + f" ({after['discounted_lines']} of {after['lines']} lines discounted)"
    if name == "brand_loyalty":
        top = after["top2_brand_lines"] > before["top2_brand_lines"]
        return (
            "bought from one of their two favourite brands" if top else "bought from another brand"
        )
    if name == "research_intensity":
        return (
            f"views+searches per order {before['research_per_order']:.2f} -> "
            f"{after['research_per_order']:.2f}"
        )
    moved = [
        f"{k.replace('_', ' ')} {before[k]} -> {after[k]}"
        for k in after
        if before.get(k) != after[k] and not k.startswith("store")
    ]
    return "; ".join(moved) or f"a {kind}"


def changes(
    before: Look | None, after: Look, event: dict[str, Any], *, first_view: datetime | None = None
) -> list[str]:
    """What changed between two looks at one customer, each with its reason."""
    if before is None:
        return []
    out = []
    for name, value in after.scores.items():
        old = before.scores.get(name)
        if value is None or (old is not None and round(old) == round(value)):
            continue
        why = _why(name, before.inputs[name], after.inputs[name], event, first_view)
        shown = "n/a" if old is None else f"{old:.0f}"
        out.append(f"{LABELS[name]} {shown} -> {value:.0f}: {why}")
    for segment in sorted(set(after.segments) - set(before.segments)):
        out.append(f"joined segment {segment}")
    for segment in sorted(set(before.segments) - set(after.segments)):
        out.append(f"left segment {segment}")
    if after.emotional_state != before.emotional_state:
        rating = f", rated {event.get('rating')} star(s)" if event.get("rating") else ""
        mean = f" (mean rating {after.mean_rating:.1f})" if after.mean_rating is not None else ""
        out.append(
            f"emotional state {before.emotional_state} -> {after.emotional_state}{rating}{mean}"
        )
    for name in sorted(set(after.unhappy) - set(before.unhappy)):
        out.append(f"now unhappy with {name}: its products are held back")
    if after.recommendations and after.top != before.top:
        new = [r["name"] for r in after.recommendations if r["product_id"] not in before.top]
        out.append(
            "recommendations changed" + (f": new {', '.join(new[:3])}" if new else ": re-ranked")
        )
    return out


__all__ = ["LABELS", "Look", "Recommendations", "changes", "context_of", "look"]

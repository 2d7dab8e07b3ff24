"""The followed customer of a live run: what their profile shows now, and what changed.

:func:`look` reads one customer's stored profile (the one ``track()`` just wrote:
scores with their inputs, segments, emotional state) and, with a fitted blend, their
recommendations in the context of their latest event, adapted to their mood as it is
now. :func:`changes` compares two looks and says, in the profile's own terms, why a
score moved ("impulse buying 41 -> 47: bought 3 minutes after first viewing it").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.profiles.customer import get_profile
from engine.recommend import BlendRecommender, Mood, parse_context

LABELS = {
    "lifetime_value": "lifetime value", "purchase_frequency": "purchase frequency",
    "price_sensitivity": "price sensitivity", "brand_loyalty": "brand loyalty",
    "impulse_buying": "impulse buying", "research_intensity": "research intensity",
    "weekend_shopping": "weekend shopping", "night_shopping": "night shopping",
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
    unhappy: list[str]
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    last_purchase: str | None = None

    @property
    def top(self) -> list[str]:
        return [r["product_id"] for r in self.recommendations]


def look(session: Session, customer_id: str, *, blend: BlendRecommender | None = None,
         event: dict[str, Any] | None = None, exclude: set[str] | None = None,
         names: dict[str, str] | None = None) -> Look:
    """The customer's stored profile and (with ``blend``) top recommendations in the
    context of ``event`` (its weather, hour, device), adapted to their current mood.

    Raises:
        engine.errors.UserError: unknown customer.
    """
    profile = get_profile(session, customer_id)
    purchases = profile.purchases
    seen = Look(
        customer_id=customer_id, name=profile.name,
        scores={k: (round(v.value, 1) if v.value is not None else None)
                for k, v in profile.scores.items()},
        inputs={k: dict(v.inputs) for k, v in profile.scores.items()},
        segments=list(profile.segments), emotional_state=profile.emotional_state,
        mean_rating=profile.mean_rating,
        unhappy=sorted(profile.unhappy_brands + profile.unhappy_categories),
        last_purchase=str(purchases["product_id"].iloc[0]) if len(purchases) else None,
    )
    if blend is not None:
        mood = Mood(state=profile.emotional_state,
                    unhappy_brands=frozenset(profile.unhappy_brands),
                    unhappy_categories=frozenset(profile.unhappy_categories),
                    mean_rating=profile.mean_rating)
        seen.recommendations = [
            {"product_id": r.product_id, "name": (names or {}).get(r.product_id, r.product_id),
             "score": round(r.score, 1), "reason": r.reason}
            for r in blend.recommend(customer_id, context_of(blend, event), k=TOP_K,
                                     exclude=exclude or (), allow_unknown=True, mood=mood)
        ]
    return seen


def context_of(blend: BlendRecommender, event: dict[str, Any] | None) -> Any:
    """The recommendation context of an event: its weather, hour, device (and city if known)."""
    if not event:
        return None
    at = datetime.fromisoformat(str(event["occurred_at"]))
    known = blend.data_.known_locations
    location = event.get("location") if event.get("location") in known else None
    return parse_context(weather=event.get("weather"), time_of_day=at.hour,
                         device=event.get("device"), location=location, known_locations=known)


def _why(name: str, before: dict[str, Any], after: dict[str, Any],
         event: dict[str, Any], first_view: datetime | None) -> str:
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
        return f"orders in the last 365 days {before['orders_last_365d']} -> " \
               f"{after['orders_last_365d']}"
    if name == "price_sensitivity":
        extra = after["discounted_lines"] > before["discounted_lines"]
        return ("bought at a discount" if extra else "bought at full price") + \
            f" ({after['discounted_lines']} of {after['lines']} lines discounted)"
    if name == "brand_loyalty":
        top = after["top2_brand_lines"] > before["top2_brand_lines"]
        return "bought from one of their two favourite brands" if top else \
            "bought from another brand"
    if name == "research_intensity":
        return f"views+searches per order {before['research_per_order']:.2f} -> " \
               f"{after['research_per_order']:.2f}"
    moved = [f"{k.replace('_', ' ')} {before[k]} -> {after[k]}" for k in after
             if before.get(k) != after[k] and not k.startswith("store")]
    return "; ".join(moved) or f"a {kind}"


def changes(before: Look | None, after: Look, event: dict[str, Any], *,
            first_view: datetime | None = None) -> list[str]:
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
        out.append(f"emotional state {before.emotional_state} -> {after.emotional_state}"
                   f"{rating}{mean}")
    for name in sorted(set(after.unhappy) - set(before.unhappy)):
        out.append(f"now unhappy with {name}: its products are held back")
    if after.recommendations and after.top != before.top:
        new = [r["name"] for r in after.recommendations if r["product_id"] not in before.top]
        out.append("recommendations changed" + (f": new {', '.join(new[:3])}" if new
                                                else ": re-ranked"))
    return out


__all__ = ["LABELS", "Look", "changes", "context_of", "look"]

"""The guided tour ("Start here"): its examples, picked from the store as it is, and links.

Three customers whose personas differ (each the clearest case of one habit, and
unremarkable on the others' habits), the customer most likely to buy soon, the valuable
customer slipping away fastest, and a campaign audience built from the first persona. On
the seeded store the scores recover the planted personas, so the picks are planted
personas; on an imported store they are its most telling real customers. Pure functions
over the frames the dashboard already holds; nothing here reads the store or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.state import COMPARE_SUFFIXES, CONTEXT_PARAMS, CUSTOMER
from engine.profiles.scoring import SCORES

TRAITS: dict[str, str] = {
    "night_shopping": "night_owl", "price_sensitivity": "deal_seeker",
    "brand_loyalty": "brand_loyal", "impulse_buying": "impulse_buyer",
    "weekend_shopping": "weekend_shopper", "mobile_usage": "mobile_first",
    "research_intensity": "researcher", "lifetime_value": "high_value",
    "purchase_frequency": "frequent_buyer",
}  # fmt: skip
"""Score -> its segment, in the order a story reads best (a habit before a sum of money)."""
assert set(TRAITS) == set(SCORES)

CLEAR_CASE = 0.9
"""A pick ranks above this share of customers on their habit."""
DIFFERENT_BELOW = 0.6
"""Personas differ: a pick ranks below this share of customers on the others' habits."""


@dataclass(frozen=True)
class Persona:
    """One example customer and the habit they show best."""

    customer_id: str
    score: str
    """The score that makes them the example (``night_shopping``)."""
    segment: str
    """That score's segment (``night_owl``), whether or not they are in it at the saved
    threshold (``in_segment`` says)."""
    value: float
    percentile: float
    """Share of the store's customers scoring lower on ``score`` (0..1)."""
    in_segment: bool


def pick_personas(profiles: pd.DataFrame, k: int = 3, *, min_orders: int = 2) -> list[Persona]:
    """Up to ``k`` customers, each the strongest case of a different habit.

    ``profiles``: :func:`engine.profiles.compute_profiles` columns (``customer_id``, the nine
    scores, ``orders``, ``activity``) and optionally ``segments`` (``;``-joined). Customers
    with fewer than ``min_orders`` orders are passed over while there are enough others.
    Traits are tried in :data:`TRAITS` order; among the clear cases of a trait (ranked
    above :data:`CLEAR_CASE`) the one with the most evidence (``activity``, then the
    score, then the smaller id) is picked, who must rank below :data:`DIFFERENT_BELOW` on
    every habit already shown (relaxed if that leaves fewer than ``k``).
    """
    if profiles.empty:
        return []
    frame = profiles.reset_index(drop=True)
    ranks = frame[list(SCORES)].rank(pct=True)
    eligible = frame["orders"].fillna(0) >= min_orders
    if eligible.sum() < k:
        eligible = frame["activity"].fillna(0) > 0
    for strict in (True, False):
        picks = _greedy(frame, ranks, eligible, k, strict=strict)
        if len(picks) >= min(k, int(eligible.sum())):
            return picks
    return picks


def _greedy(
    frame: pd.DataFrame, ranks: pd.DataFrame, eligible: pd.Series, k: int, *, strict: bool
) -> list[Persona]:
    picks: list[Persona] = []
    chosen: set[int] = set()
    segments = frame.get("segments", pd.Series("", index=frame.index)).fillna("").astype(str)
    for score, segment in TRAITS.items():
        if len(picks) == k:
            break
        ok = eligible & (ranks[score] >= CLEAR_CASE) & ~frame.index.isin(list(chosen))
        if strict:
            for shown in picks:
                ok &= ranks[shown.score].fillna(0.0) < DIFFERENT_BELOW
        pool = frame.loc[ok, ["customer_id", score, "activity"]].assign(
            customer_id=lambda f: f["customer_id"].astype(str)
        )
        if pool.empty:
            continue
        # The most evidence among the clear cases: a top score on little data is noise.
        best = pool.sort_values(
            ["activity", score, "customer_id"], ascending=[False, False, True], kind="stable"
        ).index[0]
        chosen.add(int(best))
        picks.append(Persona(
            customer_id=str(frame.at[best, "customer_id"]), score=score, segment=segment,
            value=float(frame.at[best, score]), percentile=float(ranks.at[best, score]),
            in_segment=segment in segments.at[best].split(";"),
        ))  # fmt: skip
    return picks


def pick_buyer(predictions: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> str | None:
    """The customer most likely to buy within 90 days (``p_buy_90d``; ties: higher
    ``clv_12m``, then id). ``predictions``: ``PurchasePredictor.predict`` columns."""
    if predictions.empty or "p_buy_90d" not in predictions:
        return None
    frame = predictions.assign(customer_id=predictions["customer_id"].astype(str))
    frame = frame[~frame["customer_id"].isin(exclude)]
    if frame.empty:
        return None
    ranked = frame.sort_values(
        ["p_buy_90d", "clv_12m", "customer_id"], ascending=[False, False, True], kind="stable"
    )
    return str(ranked["customer_id"].iloc[0])


def pick_slipping(slipping: pd.DataFrame, predictions: pd.DataFrame) -> str | None:
    """The valuable customer slipping away fastest: the head of ``slipping`` (biggest
    drop first, :func:`engine.predict.slipping_high_value`); when nobody is slipping, the
    top-20% spender least likely to still be active."""
    if not slipping.empty:
        return str(slipping["customer_id"].iloc[0])
    if predictions.empty or "p_active" not in predictions:
        return None
    value = predictions["clv_12m"] if "clv_12m" in predictions else predictions["p_active"]
    top = predictions[value >= value.quantile(0.8)]
    if top.empty:
        return None
    ranked = top.assign(customer_id=top["customer_id"].astype(str)).sort_values(
        ["p_active", "customer_id"], kind="stable"
    )
    return str(ranked["customer_id"].iloc[0])


def campaign_rule(persona: Persona | None) -> str:
    """A campaign audience around the first persona's habit: its segment, and likely to
    buy within 30 days (``"night_owl AND p_buy_30d >= 0.3"``)."""
    segment = persona.segment if persona is not None else "high_value"
    return f"{segment} AND p_buy_30d >= 0.3"


RAINY_EVENING = {"weather": "rainy", "time_of_day": "evening"}
SUNNY_MORNING = {"weather": "sunny", "time_of_day": "morning"}
"""The two moments the tour compares (the first and the second context on Recommendations)."""


def customer_params(customer_id: str) -> dict[str, str]:
    """A page link's query parameters that open ``customer_id``."""
    return {CUSTOMER: customer_id}


def contexts_params(customer_id: str) -> dict[str, str]:
    """Recommendations for ``customer_id`` comparing a rainy evening with a sunny morning
    (``?customer=c1&weather_a=rainy&time_a=evening&weather_b=sunny&time_b=morning``)."""
    params = customer_params(customer_id)
    for suffix, context in zip(COMPARE_SUFFIXES, (RAINY_EVENING, SUNNY_MORNING), strict=True):
        params.update({CONTEXT_PARAMS[field] + suffix: value for field, value in context.items()})
    return params

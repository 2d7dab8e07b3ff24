"""Emotional state from review ratings, recency-weighted, and the hints that go with it.

The state is the recency-weighted mean rating: a review ``d`` days old weighs
``2 ** (-d / 180)`` (half-life :data:`RATING_HALF_LIFE_DAYS`). Stored as two decay
sums, the mean does not depend on the moment it is read. This is the store's one
emotion model: the profile shows it and the recommendations adapt to it
(:func:`emotional_states` gives every customer's at once).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

STATES = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied", "unknown")

TONES = {
    "very_satisfied": "warm and appreciative: invite reviews, referrals and loyalty perks",
    "satisfied": "friendly and upbeat: suggest complements to what they like",
    "neutral": "helpful and informative: lead with facts, reviews and fit",
    "dissatisfied": "apologetic and reassuring: acknowledge problems, offer help before selling",
    "very_dissatisfied": "service first: apologise, resolve the issue, hold back promotions",
    "unknown": "neutral and curious: ask for feedback on recent purchases",
}
"""The tone to use with a customer in each state (shown on the profile)."""

UNHAPPY_RATING = 2.5
"""A brand or category whose mean rating from this customer is at most this is 'unhappy'."""
RATING_HALF_LIFE_DAYS = 180.0
"""A review's weight in the emotional state halves every this many days."""
DISSATISFIED = frozenset({"dissatisfied", "very_dissatisfied"})
"""The states in which recommendations hold back what upset the customer."""


def state_of(mean_rating: Any, reviews: Any) -> Any:
    """Bands of the weighted mean rating; ``unknown`` where ``reviews == 0``.

    Works on scalars and arrays: >= 4.5 very_satisfied, [4.0, 4.5) satisfied,
    [3.0, 4.0) neutral, [2.0, 3.0) dissatisfied, < 2.0 very_dissatisfied.
    """
    mean = np.asarray(mean_rating, dtype=float)
    n = np.asarray(reviews)
    # Round away float noise of the weighted mean (4.4999999999 is 4.5).
    mean = np.round(mean, 9)
    state = np.select(
        [n <= 0, mean >= 4.5, mean >= 4.0, mean >= 3.0, mean >= 2.0],
        ["unknown", "very_satisfied", "satisfied", "neutral", "dissatisfied"],
        default="very_dissatisfied",
    )
    return state if state.ndim else str(state)


def state_one(rating_wsum: float, rating_w: float, reviews: int) -> str:
    """One customer's state from the stored sums: ``state_of(weighted_mean(...), reviews)``
    in plain floats (the same rounding as ``np.round``: scale, round half to even, unscale)."""
    if reviews <= 0:
        return "unknown"
    if not rating_w > 0:
        return "very_dissatisfied"  # a NaN mean is in no band
    scaled = float(rating_wsum) / float(rating_w) * 1e9
    mean = round(scaled) / 1e9 if math.isfinite(scaled) else scaled / 1e9
    for state, floor in (
        ("very_satisfied", 4.5),
        ("satisfied", 4.0),
        ("neutral", 3.0),
        ("dissatisfied", 2.0),
    ):
        if mean >= floor:
            return state
    return "very_dissatisfied"


def weighted_mean(rating_wsum: Any, rating_w: Any) -> Any:
    """Recency-weighted mean rating from the stored sums (NaN without reviews)."""
    w = np.asarray(rating_w, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, np.asarray(rating_wsum, dtype=float) / np.where(w > 0, w, 1), np.nan)


def unhappy_with(reviews: pd.DataFrame, column: str) -> Any:
    """Per customer, the sorted ``column`` values (brands or categories) whose mean rating
    from them is at most :data:`UNHAPPY_RATING`: a Series of tuples by ``customer_id``.

    ``reviews``: ``customer_id, rating`` and ``column`` (rows without it are ignored).
    """
    rated = reviews.dropna(subset=[column, "rating"])
    means = rated.groupby(["customer_id", column])["rating"].mean()
    low = means[means <= UNHAPPY_RATING].reset_index()
    return low.groupby("customer_id")[column].agg(lambda v: tuple(sorted(set(v.astype(str)))))


def emotional_states(reviews: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Every reviewing customer's emotional state as of ``as_of`` (reviews before it).

    Args:
        reviews: ``customer_id, rating, reviewed_at`` and optionally ``brand, category``.
        as_of: only reviews strictly before it count; weights as the module docstring.

    Returns:
        Indexed by ``customer_id`` (strings): ``mean_rating, n_reviews, state`` (as
        :func:`state_of`), ``unhappy_brands, unhappy_categories`` (tuples of names, as
        :func:`unhappy_with`); the same numbers as each customer's profile.
    """
    columns = ["mean_rating", "n_reviews", "state", "unhappy_brands", "unhappy_categories"]
    r = reviews[reviews["reviewed_at"] < as_of].dropna(subset=["customer_id", "rating"])
    if r.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id"))
    age = (pd.Timestamp(as_of) - r["reviewed_at"]).dt.total_seconds().to_numpy() / 86400.0
    rating = pd.to_numeric(r["rating"], errors="coerce").to_numpy(dtype=float)
    weight = np.power(0.5, age / RATING_HALF_LIFE_DAYS)
    r = r.assign(
        customer_id=r["customer_id"].astype(str), rating=rating, w=weight, wr=weight * rating
    )
    g = r.groupby("customer_id")
    out = pd.DataFrame(
        {"mean_rating": weighted_mean(g["wr"].sum(), g["w"].sum()), "n_reviews": g.size()}
    )
    out["state"] = state_of(out["mean_rating"].to_numpy(), out["n_reviews"].to_numpy())
    for column, target in (("brand", "unhappy_brands"), ("category", "unhappy_categories")):
        names = unhappy_with(r, column) if column in r else pd.Series(dtype=object)
        out[target] = [names.get(c, ()) for c in out.index]
    return out[columns]

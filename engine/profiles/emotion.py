"""Emotional state from review ratings, recency-weighted, and the hints that go with it.

The state is the recency-weighted mean rating: a review ``d`` days old weighs
``2 ** (-d / 180)`` (half-life :data:`engine.profiles.stats.RATING_HALF_LIFE_DAYS`).
Stored as two decay sums, the mean does not depend on the moment it is read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STATES = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied",
          "unknown")

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


def weighted_mean(rating_wsum: Any, rating_w: Any) -> Any:
    """Recency-weighted mean rating from the stored sums (NaN without reviews)."""
    w = np.asarray(rating_w, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, np.asarray(rating_wsum, dtype=float) / np.where(w > 0, w, 1), np.nan)

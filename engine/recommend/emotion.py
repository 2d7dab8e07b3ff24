"""A customer's mood as recommendations need it: how satisfied, and with what not.

A small stand-in for the profiles package: a recency-weighted mean of the
customer's review ratings and the brands and categories they rated 2 or less.
The blend accepts a :class:`Mood` from anywhere (e.g. a computed profile's
emotional state), and falls back on :func:`customer_moods` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

# Emotional states (from any source) that count as dissatisfied.
DISSATISFIED_STATES = frozenset({"dissatisfied", "frustrated", "unhappy", "angry", "negative",
                                 "disappointed", "at_risk"})


@dataclass(frozen=True)
class Mood:
    """What the blend needs to adapt to a customer's feelings.

    ``state`` is e.g. ``dissatisfied``, ``neutral``, ``satisfied`` or ``unknown``;
    ``unhappy_brands`` / ``unhappy_categories`` are names as in the catalog.
    """

    state: str = "unknown"
    unhappy_brands: frozenset[str] = field(default_factory=frozenset)
    unhappy_categories: frozenset[str] = field(default_factory=frozenset)
    mean_rating: float | None = None

    @property
    def dissatisfied(self) -> bool:
        return self.state.lower() in DISSATISFIED_STATES


def customer_moods(
    reviews: pd.DataFrame,
    as_of: datetime,
    *,
    half_life_days: float = 90.0,
    low_rating: int = 2,
    dissatisfied_below: float = 2.5,
    satisfied_from: float = 4.0,
) -> pd.DataFrame:
    """Each reviewing customer's mood from their reviews before ``as_of``.

    Args:
        reviews: columns ``customer_id, rating, reviewed_at, category, brand``.
        as_of: only reviews strictly before it count; newer reviews weigh more.
        half_life_days: a review's weight halves every this many days.
        low_rating: ratings at or below it make a brand/category "unhappy".
        dissatisfied_below: weighted mean at or below it means ``dissatisfied``.
        satisfied_from: weighted mean at or above it means ``satisfied``.

    Returns:
        Indexed by ``customer_id``: ``mean_rating, n_reviews, state,
        unhappy_brands, unhappy_categories`` (the last two tuples of names).
    """
    columns = ["mean_rating", "n_reviews", "state", "unhappy_brands", "unhappy_categories"]
    r = reviews[reviews["reviewed_at"] < as_of].dropna(subset=["customer_id", "rating"])
    if r.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id"))
    age = (pd.Timestamp(as_of) - r["reviewed_at"]).dt.total_seconds() / 86400.0
    r = r.assign(w=np.power(0.5, age.to_numpy() / half_life_days),
                 rating=pd.to_numeric(r["rating"], errors="coerce"))
    r = r.assign(wr=r["w"] * r["rating"], customer_id=r["customer_id"].astype(str))
    g = r.groupby("customer_id")
    out = pd.DataFrame({"mean_rating": g["wr"].sum() / g["w"].sum(), "n_reviews": g.size()})
    out["state"] = np.where(out["mean_rating"] <= dissatisfied_below, "dissatisfied",
                            np.where(out["mean_rating"] >= satisfied_from, "satisfied", "neutral"))
    low = r[r["rating"] <= low_rating]
    for column, target in (("brand", "unhappy_brands"), ("category", "unhappy_categories")):
        names = low.dropna(subset=[column]).groupby("customer_id")[column] \
            .agg(lambda s: tuple(sorted(set(s.astype(str)))))
        out[target] = names.reindex(out.index)
        out[target] = out[target].apply(lambda v: v if isinstance(v, tuple) else ())
    return out[columns]


def mood_from_row(row: pd.Series | None) -> Mood:
    """A :class:`Mood` from one row of :func:`customer_moods` (None: unknown)."""
    if row is None:
        return Mood()
    return Mood(state=str(row["state"]), unhappy_brands=frozenset(row["unhappy_brands"]),
                unhappy_categories=frozenset(row["unhappy_categories"]),
                mean_rating=float(row["mean_rating"]))


def item_quality(reviews: pd.DataFrame, product_ids: np.ndarray, *, prior_weight: float = 5.0
                 ) -> np.ndarray:
    """Per product a Bayesian mean rating (shrunk to the store's mean), NaN when unreviewed."""
    r = reviews.dropna(subset=["product_id", "rating"])
    out = np.full(len(product_ids), np.nan)
    if r.empty:
        return out
    rating = pd.to_numeric(r["rating"], errors="coerce")
    mean = float(rating.mean())
    g = rating.groupby(r["product_id"].astype(str))
    bayes = (g.sum() + prior_weight * mean) / (g.count() + prior_weight)
    return bayes.reindex(product_ids).to_numpy(dtype=float)

"""A customer's mood as recommendations need it: how satisfied, and with what not.

The mood is the profile's emotional state (:func:`engine.profiles.emotion.emotional_states`:
the recency-weighted mean rating in five bands, and the brands and categories the
customer rated badly), so the dashboard never shows one mood while the
recommendations adapt to another. The blend also accepts a :class:`Mood` from
elsewhere (a CRM's label, say), whose state may use other words for unhappy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.profiles.emotion import DISSATISFIED, emotional_states

from .base import StoreData

# Emotional states that count as dissatisfied: the profile's two, and words other
# sources of a mood use.
DISSATISFIED_STATES = DISSATISFIED | frozenset(
    {"frustrated", "unhappy", "angry", "negative", "disappointed", "at_risk"}
)
VERY_DISSATISFIED_STATES = frozenset({"very_dissatisfied", "angry"})
"""States that call for "service first": what upset the customer is held back harder."""


@dataclass(frozen=True)
class Mood:
    """What the blend needs to adapt to a customer's feelings.

    ``state`` is one of :data:`engine.profiles.emotion.STATES` (or another source's word);
    ``unhappy_brands`` / ``unhappy_categories`` are names as in the catalog.
    """

    state: str = "unknown"
    unhappy_brands: frozenset[str] = field(default_factory=frozenset)
    unhappy_categories: frozenset[str] = field(default_factory=frozenset)
    mean_rating: float | None = None

    @property
    def dissatisfied(self) -> bool:
        return self.state.lower() in DISSATISFIED_STATES

    @property
    def very_dissatisfied(self) -> bool:
        return self.state.lower() in VERY_DISSATISFIED_STATES


def mood_from_row(row: pd.Series | None) -> Mood:
    """A :class:`Mood` from one row of :func:`~engine.profiles.emotion.emotional_states`
    (None: unknown)."""
    if row is None:
        return Mood()
    return Mood(
        state=str(row["state"]),
        unhappy_brands=frozenset(row["unhappy_brands"]),
        unhappy_categories=frozenset(row["unhappy_categories"]),
        mean_rating=float(row["mean_rating"]),
    )


@dataclass
class StoreMoods:
    """Every customer's mood in one store, and what upset them as product masks.

    ``states`` is :func:`~engine.profiles.emotion.emotional_states` of the store;
    ``penalty`` the factor on what upset a dissatisfied customer (squared when very
    dissatisfied: the profile's tone for them is "service first").
    """

    states: pd.DataFrame
    data: StoreData
    penalty: float

    def __post_init__(self) -> None:
        self.dissatisfied = np.zeros(self.data.n_customers, dtype=bool)
        rows = self.data.rows_of(self.states.index[self.states["state"].isin(DISSATISFIED_STATES)])
        self.dissatisfied[rows[rows >= 0]] = True
        self._brands = self.data.codes("brand")
        self._categories = self.data.codes("category")

    @classmethod
    def of(cls, data: StoreData, penalty: float) -> StoreMoods:
        return cls(emotional_states(data.reviews, data.as_of), data, penalty)

    def mood_of(self, row: int) -> Mood:
        """The profile's mood of a customer row (unknown for anonymous rows)."""
        if row < 0:
            return Mood()
        cid = str(self.data.customer_ids[row])
        return mood_from_row(self.states.loc[cid] if cid in self.states.index else None)

    def adapting(self, rows: np.ndarray, moods: list[Mood] | None) -> list[tuple[int, Mood]]:
        """``(position, mood)`` of the rows to adapt: the dissatisfied ones (``moods``, one
        per row, overriding the store's)."""
        if moods is not None:
            return [(i, m) for i, m in enumerate(moods) if m.dissatisfied]
        upset = np.flatnonzero((rows >= 0) & self.dissatisfied[np.maximum(rows, 0)])
        return [(int(i), self.mood_of(int(rows[i]))) for i in upset]

    def keep(self, mood: Mood) -> np.ndarray:
        """Per product the factor the mood puts on it: ``penalty`` (squared when very
        dissatisfied) on the brands and categories the customer rated badly, else 1."""
        mask = np.zeros(self.data.n_items, dtype=bool)
        for (codes, labels), names in (
            (self._brands, mood.unhappy_brands),
            (self._categories, mood.unhappy_categories),
        ):
            bad = np.isin(labels, list(names))
            if bad.any():
                mask |= (codes >= 0) & bad[np.maximum(codes, 0)]
        factor = self.penalty**2 if mood.very_dissatisfied else self.penalty
        return np.where(mask, factor, 1.0)


def item_quality(
    reviews: pd.DataFrame, product_ids: np.ndarray, *, prior_weight: float = 5.0
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

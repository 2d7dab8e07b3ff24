"""Personal frequency ("buy again"): the customer's own products by recency-weighted count.

The strongest simple baseline of next-basket work ("A Next Basket Recommendation
Reality Check", TOIS 2023): each product the customer bought scores the number of
their orders containing it, each order weighted ``0.5 ** (age_days / half_life_days)``;
products they never bought follow, by popularity (distinct buyers).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Contexts, Recommender, StoreData, lookup, sparse_rows


class PersonalFrequencyRecommender(Recommender):
    """Buy again: own products first (recency-weighted order count), then popular ones.

    Parameters:
        half_life_days: age at which an order counts half (``None``: plain counts).

    Learned state: ``own_`` (customers x products, recency-weighted order counts),
    ``popularity_`` (per product, in ``[0, 1)``: below any own product).
    """

    name = "frequency"
    label = "Personal frequency (buy again)"

    def __init__(self, half_life_days: float | None = 90.0) -> None:
        self.half_life_days = half_life_days

    def _fit(self, data: StoreData) -> None:
        p = data.purchases.drop_duplicates(["order_id", "item"])
        weight = (
            np.ones(len(p))
            if self.half_life_days is None
            else 0.5 ** (p["age_days"].to_numpy() / float(self.half_life_days))
        )
        own = sp.csr_matrix(
            (weight, (p["row"].to_numpy(), p["item"].to_numpy())),
            shape=(data.n_customers, data.n_items),
        )
        own.sum_duplicates()
        own.sort_indices()
        self.own_ = own
        self.counts_ = data.purchase_counts
        pop = data.item_popularity.astype(np.float64)
        self.popularity_ = (pop / (pop.max() + 1.0)).astype(np.float32)

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        own = sparse_rows(self.own_, rows).toarray()
        # Own products score 1 + weight, so they always come before any popular one.
        return np.where(own > 0, 1.0 + own, self.popularity_[None, :]).astype(np.float32)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        counts = lookup(self.counts_, row, np.asarray(items)) if row >= 0 else np.zeros(len(items))
        return [
            f"You bought this in {int(n)} orders" if n > 0 else "Popular with customers"
            for n in counts
        ]

"""Trending: recent popularity with time decay, overall and within the customer's categories."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .base import Contexts, Recommender, StoreData, lookup, sparse_rows


class TrendingRecommender(Recommender):
    """Time-decayed popularity, tilted towards the customer's own categories.

    Each purchase line counts ``0.5 ** (age_days / half_life_days)``, product
    events a fraction of that (their implicit-feedback weight). A customer's
    score for a product is ``trend * (1 + category_boost * share)``, where
    ``share`` is the customer's share of interest in the product's category.

    Parameters:
        half_life_days: how fast past popularity fades (7: "this week").
        category_boost: how strongly the customer's categories tilt the list.
    """

    name = "trending"
    label = "Trending"

    def __init__(self, half_life_days: float = 7.0, category_boost: float = 2.0) -> None:
        self.half_life_days = half_life_days
        self.category_boost = category_boost

    def _fit(self, data: StoreData) -> None:
        p, ev = data.purchases, data.item_events
        decay = np.log(2.0) / self.half_life_days
        trend = np.bincount(
            p["item"], weights=np.exp(-decay * p["age_days"].to_numpy()), minlength=data.n_items
        )
        trend += np.bincount(
            ev["item"],
            weights=ev["weight"].to_numpy() * np.exp(-decay * ev["age_days"].to_numpy()),
            minlength=data.n_items,
        )
        self.trend_ = trend.astype(np.float32)
        cats, self.category_labels_ = data.one_hot("category")
        self.item_category_, _ = data.codes("category")
        self.category_share_ = normalize(data.interactions @ cats, norm="l1").tocsr()
        self.category_share_.sort_indices()

    def _shares(self, rows: np.ndarray) -> sp.csr_matrix:
        return sparse_rows(self.category_share_, rows)

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        shares = self._shares(rows).toarray()
        code = self.item_category_
        tilt = np.where(code[None, :] >= 0, shares[:, np.maximum(code, 0)], 0.0).astype(np.float32)
        return self.trend_[None, :] * (1.0 + self.category_boost * tilt)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        codes = self.item_category_[np.asarray(items, dtype=np.int64)]
        share = lookup(self.category_share_, row, np.maximum(codes, 0))
        out = []
        for code, s in zip(codes, share, strict=True):
            if code >= 0 and s >= 0.15:
                out.append(f"Trending in {self.category_labels_[code]} this week")
            else:
                out.append("Trending this week")
        return out

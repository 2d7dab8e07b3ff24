"""The popularity baseline: the products most customers bought, the same for everyone."""

from __future__ import annotations

import numpy as np

from .base import Contexts, Recommender, StoreData


class PopularityRecommender(Recommender):
    """Ranks products by how many distinct customers bought them before ``as_of``.

    The baseline every other recommender must beat in the offline evaluation.
    """

    name = "popularity"
    label = "Popular"

    def __init__(self) -> None:
        pass

    def _fit(self, data: StoreData) -> None:
        pop = data.item_popularity.astype(np.float32)
        self.scores_ = pop

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        return np.tile(self.scores_, (len(rows), 1))

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        return [f"Popular: {int(self.scores_[i])} customers bought this" for i in items]

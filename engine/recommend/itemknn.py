"""Item-kNN baseline: plain cosine similarity between products' buyer sets.

Unlike :mod:`.collaborative` (BM25-weighted implicit feedback with support
shrinkage), this is the textbook method: the customers x products 0/1 purchase
matrix, cosine similarity between product columns, the ``neighbours`` most similar
kept per product, and a customer's score for a product the sum of its similarities
to the products they bought.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import normalize

from .base import Contexts, Recommender, StoreData, sparse_rows
from .collaborative import top_per_row


class ItemKNNRecommender(Recommender):
    """Cosine item-kNN on who bought what.

    Parameters:
        neighbours: most similar products kept per product.

    Learned state: ``similarity_`` (products x products, row = source product).
    """

    name = "item_knn"
    label = "Item-kNN (cosine)"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours

    def _fit(self, data: StoreData) -> None:
        bought = data.purchase_counts.copy()
        bought.data[:] = 1.0
        cols = normalize(bought.T.tocsr(), norm="l2", axis=1)
        sim = (cols @ cols.T).tocsr()
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        self.similarity_ = top_per_row(sim, self.neighbours).astype(np.float32)
        self.history_ = bought.astype(np.float32)

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        return (sparse_rows(self.history_, rows) @ self.similarity_).toarray().astype(np.float32)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        return ["Bought by customers who bought what you bought"] * len(items)

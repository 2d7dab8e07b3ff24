"""EASE (Steck, WWW 2019): a closed-form linear item-item model.

``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1`` over the customers x
products 0/1 purchase matrix ``X``; scores are ``x_u B``. The inverse is dense
products x products, so only the ``max_items`` most-bought products take part
(memory: ``8 * max_items**2`` bytes); the others score nothing.
"""

from __future__ import annotations

import numpy as np

from .base import Contexts, Recommender, StoreData, sparse_rows


def positive_rows(raw: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
    """Scores made positive by a per-row shift, preserving each row's order (the
    interface wants ``>= 0``; latent-factor and linear models give negative scores).
    Columns where ``active`` is False stay 0."""
    low = raw.min(axis=1, keepdims=True) if raw.shape[1] else raw
    out = raw - low + 1e-6
    if active is not None:
        out = np.where(active[None, :], out, 0.0)
    return out.astype(np.float32)


class EASERecommender(Recommender):
    """EASE on the most-bought products.

    Parameters:
        l2: the ridge penalty ``lambda``.
        max_items: products kept (by distinct buyers), bounding memory and time.

    Learned state: ``items_`` (product positions kept), ``b_`` (kept x kept ``B``).
    """

    name = "ease"
    label = "EASE"

    def __init__(self, l2: float = 200.0, max_items: int = 5000) -> None:
        self.l2 = l2
        self.max_items = max_items

    def _fit(self, data: StoreData) -> None:
        pop = data.item_popularity
        order = np.argsort(-pop, kind="stable")
        keep = np.sort(order[: min(self.max_items, int((pop > 0).sum()))])
        x = data.purchase_counts[:, keep].tocsr()
        x.data[:] = 1.0
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)[None, :]
        b[np.diag_indices_from(b)] = 0.0
        self.items_ = keep
        self.b_ = b.astype(np.float32)
        self.history_ = x.astype(np.float32)
        self.active_ = np.zeros(data.n_items, dtype=bool)
        self.active_[keep] = True

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        raw = np.zeros((len(rows), self.data_.n_items), dtype=np.float32)
        raw[:, self.items_] = sparse_rows(self.history_, rows) @ self.b_
        return positive_rows(raw, self.active_)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        return ["Goes with what you bought (EASE)"] * len(items)

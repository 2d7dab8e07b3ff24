"""ALS baseline: implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008) via
the ``implicit`` library, on the customers x products matrix of order counts."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from .base import Contexts, Recommender, StoreData
from .ease import positive_rows


class ALSRecommender(Recommender):
    """``implicit.cpu.als.AlternatingLeastSquares`` on order counts (confidence ``alpha * n``).

    Parameters:
        factors, regularization, alpha, iterations: as in ``implicit``.
        random_state: seed of the factor initialisation.

    Learned state: ``user_factors_``, ``item_factors_``.
    """

    name = "als"
    label = "ALS (implicit)"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        random_state: int | None = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state

    def _fit(self, data: StoreData) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit's own threads do the work; BLAS threads on top only contend.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
                calculate_training_loss=False,
            )
            model.fit(data.purchase_counts.astype(np.float32).tocsr(), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)
        self.active_ = data.item_popularity > 0

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        users = np.where((rows >= 0)[:, None], self.user_factors_[np.maximum(rows, 0)], 0.0)
        return positive_rows(users @ self.item_factors_.T, self.active_)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        return ["Customers with tastes like yours bought this (ALS)"] * len(items)

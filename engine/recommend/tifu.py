"""TIFU-KNN (Hu et al., "Modeling Personalized Item Frequency Information for
Next-basket Recommendation", SIGIR 2020).

A customer's baskets (orders), newest first, are cut into groups of ``group_size``.
Within a group, the ``i``-th newest basket weighs ``within_decay ** i``; the ``j``-th
newest group weighs ``group_decay ** j``; each level is averaged. The result is the
customer's personal item-frequency vector ``u``. The prediction blends it with the
mean vector of the ``neighbours`` most similar customers (cosine on those vectors):
``alpha * u + (1 - alpha) * mean(neighbours)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .base import Contexts, Recommender, StoreData, sparse_rows


def tifu_vectors(
    data: StoreData, *, group_size: int, within_decay: float, group_decay: float
) -> sp.csr_matrix:
    """customers x products: each customer's time-decayed, group-averaged basket vector."""
    p = data.purchases.drop_duplicates(["order_id", "item"])
    if p.empty:
        return sp.csr_matrix((data.n_customers, data.n_items), dtype=np.float32)
    orders = (
        p.groupby(["row", "order_id"], sort=False)["ordered_at"]
        .min()
        .reset_index()
        .sort_values(["row", "ordered_at", "order_id"])
    )
    # Position from the newest basket (0), the group it falls in, and the group's size.
    orders["back"] = orders.groupby("row").cumcount(ascending=False)
    orders["group"] = orders["back"] // group_size
    orders["pos"] = orders["back"] % group_size
    n_baskets = orders.groupby("row")["back"].transform("size").to_numpy()
    group = orders["group"].to_numpy()
    # The oldest group holds what is left over.
    size = np.minimum(group_size, n_baskets - group * group_size)
    n_groups = -(-n_baskets // group_size)
    weight = within_decay ** orders["pos"].to_numpy() / size * group_decay**group / n_groups
    w = pd.Series(
        weight,
        index=pd.MultiIndex.from_arrays([orders["row"].to_numpy(), orders["order_id"].to_numpy()]),
    )
    line_w = w.reindex(
        pd.MultiIndex.from_arrays([p["row"].to_numpy(), p["order_id"].to_numpy()])
    ).to_numpy()
    m = sp.csr_matrix(
        (line_w, (p["row"].to_numpy(), p["item"].to_numpy())),
        shape=(data.n_customers, data.n_items),
    )
    m.sum_duplicates()
    return m.astype(np.float32)


class TIFUKNNRecommender(Recommender):
    """TIFU-KNN: personal item frequency, time-decayed, blended with similar customers'.

    Parameters:
        group_size, within_decay, group_decay: the time-decay scheme (see module doc).
        neighbours: similar customers averaged.
        alpha: weight of the customer's own vector.
        batch_size: customers whose neighbours are searched at once (memory).

    Learned state: ``own_`` (customers x products), ``neighbour_mean_`` (customers x
    products, the neighbours' mean vector).
    """

    name = "tifu_knn"
    label = "TIFU-KNN"

    def __init__(
        self,
        group_size: int = 7,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        neighbours: int = 100,
        alpha: float = 0.7,
        batch_size: int = 1000,
    ) -> None:
        self.group_size = group_size
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.neighbours = neighbours
        self.alpha = alpha
        self.batch_size = batch_size

    def _fit(self, data: StoreData) -> None:
        own = tifu_vectors(
            data,
            group_size=self.group_size,
            within_decay=self.within_decay,
            group_decay=self.group_decay,
        )
        own.sort_indices()
        self.own_ = own
        unit = normalize(own, norm="l2", axis=1).tocsr().astype(np.float32)
        unit_t = unit.T.tocsr()
        n = data.n_customers
        k = max(min(self.neighbours, n - 1), 0)
        rows_out: list[np.ndarray] = []
        cols_out: list[np.ndarray] = []
        # Few products: dense products through BLAS beat sparse ones producing dense output.
        dense = unit.toarray() if n * data.n_items <= 20_000_000 else None
        for start in range(0, n if k else 0, self.batch_size):
            stop = min(start + self.batch_size, n)
            sim = (
                dense[start:stop] @ dense.T
                if dense is not None
                else (unit[start:stop] @ unit_t).toarray()
            )
            sim[np.arange(stop - start), np.arange(start, stop)] = -1.0  # not oneself
            nn = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            good = np.take_along_axis(sim, nn, axis=1) > 0
            rows_out.append(np.repeat(np.arange(start, stop), k)[good.ravel()])
            cols_out.append(nn.ravel()[good.ravel()])
        if rows_out and k:
            r, c = np.concatenate(rows_out), np.concatenate(cols_out)
            pick = sp.csr_matrix((np.full(len(r), 1.0 / k, dtype=np.float32), (r, c)), shape=(n, n))
            self.neighbour_mean_ = (pick @ own).tocsr()
        else:
            self.neighbour_mean_ = sp.csr_matrix((n, data.n_items), dtype=np.float32)
        self.neighbour_mean_.sort_indices()

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        own = sparse_rows(self.own_, rows).toarray()
        near = sparse_rows(self.neighbour_mean_, rows).toarray()
        return (self.alpha * own + (1.0 - self.alpha) * near).astype(np.float32)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        own = sparse_rows(self.own_, np.array([row])).toarray()[0] if row >= 0 else None
        return [
            "You buy this regularly"
            if own is not None and own[i] > 0
            else "Customers who shop like you buy this"
            for i in items
        ]

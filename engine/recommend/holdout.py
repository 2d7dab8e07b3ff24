"""The offline test of a recommender: what the customers of a training window bought
in the window after it, with the context of each customer's first purchase there."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.vocabulary import DEVICES, WEATHERS, hour_buckets

from .context import Context
from .store_data import StoreData


@dataclass(frozen=True)
class Holdout:
    """The test customers of a window and what they bought.

    ``rows``: customer rows in the training data; ``relevant`` / ``past``: ``rows x
    products`` 0/1, bought in the window / before it; ``contexts``: one request per row.
    """

    rows: np.ndarray
    relevant: sp.csr_matrix
    past: sp.csr_matrix
    contexts: list[Context]

    def protocol(self, name: str) -> Holdout:
        """The holdout under a protocol (``new``: past products are not right answers,
        customers left with none are dropped)."""
        if name == "repeat":
            return self
        if name != "new":
            raise ValueError(f"unknown protocol {name!r}")
        relevant = (self.relevant - self.relevant.multiply(self.past > 0)).tocsr()
        relevant.eliminate_zeros()
        keep = np.flatnonzero(np.diff(relevant.indptr) > 0)
        return Holdout(
            self.rows[keep], relevant[keep], self.past[keep], [self.contexts[i] for i in keep]
        )


def _contexts(first: pd.DataFrame, known: set[str]) -> list[Context]:
    buckets = hour_buckets(first["ordered_at"].dt.hour)
    weather = first["weather"].astype(object).str.lower()
    device = first["device"].astype(object).str.lower()
    return [
        Context(
            weather=w if isinstance(w, str) and w in WEATHERS else None,
            time_of_day=str(b),
            location=loc if isinstance(loc, str) and loc in known else None,
            device=d if isinstance(d, str) and d in DEVICES else None,
        )
        for w, b, loc, d in zip(weather, buckets, first["location"], device, strict=True)
    ]


def holdout(data: StoreData, train: StoreData) -> Holdout:
    """What the customers of ``train`` bought from ``train.as_of`` to ``data.as_of``, among
    the products that existed in ``train`` (a product first sold later cannot be asked for)."""
    lines = data.order_lines
    test = lines[lines["ordered_at"] >= pd.Timestamp(train.as_of)]
    test = test.assign(
        row=train.customer_index.get_indexer(test["customer_id"].astype(str)),
        item=train.product_index.get_indexer(test["product_id"].astype(str)),
    )
    test = test[(test["row"] >= 0) & (test["item"] >= 0)]
    if test.empty:
        empty = sp.csr_matrix((0, train.n_items))
        return Holdout(np.zeros(0, np.int64), empty, empty, [])
    rows, inverse = np.unique(test["row"].to_numpy(), return_inverse=True)
    relevant = sp.csr_matrix(
        (np.ones(len(test)), (inverse, test["item"].to_numpy())), shape=(len(rows), train.n_items)
    )
    relevant.data[:] = 1.0  # duplicates summed: back to 0/1
    past = train.purchase_counts[rows].tocsr()
    past.data[:] = 1.0
    first = (
        test.sort_values("ordered_at", kind="stable")
        .drop_duplicates("row")
        .set_index("row")
        .loc[rows]
    )
    return Holdout(
        rows.astype(np.int64), relevant, past, _contexts(first, set(train.known_locations))
    )

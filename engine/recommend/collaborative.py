"""Collaborative filtering: item-to-item neighbours learned from implicit feedback.

Item-kNN on the customers x products implicit-feedback matrix (purchases,
carts, wishlists and views weighted differently, see ``StoreData.interactions``),
BM25-weighted as in the ``implicit`` library so that very popular products and
very active customers do not dominate, cosine similarity between products, and
only the ``neighbours`` most similar products kept per product. A request is
then one sparse row times a sparse matrix.

Why not ``implicit``: it is not installed here, its wheels lag new Python and
numpy releases, and item-kNN with BM25 weighting is a few lines of scipy that
are as fast at our sizes (a 5,000 x 5,000 similarity matrix).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .base import Contexts, Recommender, StoreData, row_entries, rows_entries, sparse_rows
from .context import Context


def bm25_weight(matrix: sp.csr_matrix, k1: float = 100.0, b: float = 0.8) -> sp.csr_matrix:
    """BM25 weighting of a customers x products matrix (columns are the "terms").

    Down-weights products everyone has (idf) and saturates heavy customers'
    rows (length normalisation), as in ``implicit.nearest_neighbours.bm25_weight``
    applied to the products x customers orientation.
    """
    m = matrix.tocoo(copy=True)
    n_rows = m.shape[0]
    idf = np.log(n_rows) - np.log1p(np.bincount(m.col, minlength=m.shape[1]))
    idf = np.maximum(idf, 0.0)
    row_sums = np.ravel(matrix.sum(axis=1))
    average = row_sums.mean() if len(row_sums) and row_sums.mean() > 0 else 1.0
    length_norm = (1.0 - b) + b * row_sums / average
    m.data = m.data * (k1 + 1.0) / (k1 * length_norm[m.row] + m.data) * idf[m.col]
    return m.tocsr()


def top_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep the ``n`` largest entries of each row (vectorised: one sort of all entries)."""
    m = matrix.tocsr()
    m.sort_indices()
    if m.nnz == 0:
        return m
    lengths = np.diff(m.indptr)
    if lengths.max() <= n:
        return m
    rows = np.repeat(np.arange(m.shape[0]), lengths)
    # Only the rows longer than n need sorting; one argsort over them, by row then value
    # (rows as the integer part of the key, values squashed into [0, 1) below it).
    long = lengths[rows] > n
    vals = m.data[long].astype(np.float64)
    lo, hi = vals.min(), vals.max()
    squashed = (hi - vals) / (hi - lo + 1e-12) * 0.999
    order = np.argsort(rows[long] + squashed, kind="stable")
    long_rows = rows[long][order]
    starts = np.searchsorted(long_rows, long_rows, side="left")
    keep_long = np.zeros(int(long.sum()), dtype=bool)
    keep_long[order[(np.arange(len(order)) - starts) < n]] = True
    keep = ~long
    keep[np.flatnonzero(long)[keep_long]] = True
    return sp.csr_matrix(
        (m.data[keep], m.indices[keep], np.concatenate([[0], np.cumsum(np.minimum(lengths, n))])),
        shape=m.shape,
    )


class CollaborativeRecommender(Recommender):
    """Item-kNN: products bought, carted or viewed by the same customers as yours.

    Parameters:
        neighbours: similar products kept per product.
        k1, b: BM25 parameters (see :func:`bm25_weight`).
        shrink: similarities are scaled by ``support / (support + shrink)`` where
            support is the number of customers who had both products, so pairs seen
            together by one customer only count little.

    Learned state: ``similarity_`` (products x products, row = source product),
    ``similarity_t_`` (its transpose, for explanations).
    """

    name = "collaborative"
    label = "Customers like you"

    def __init__(
        self, neighbours: int = 100, k1: float = 100.0, b: float = 0.8, shrink: float = 2.0
    ) -> None:
        self.neighbours = neighbours
        self.k1 = k1
        self.b = b
        self.shrink = shrink

    def _fit(self, data: StoreData) -> None:
        x = data.interactions
        weighted = bm25_weight(x, self.k1, self.b) if x.nnz else x
        cols = normalize(weighted.T.tocsr(), norm="l2", axis=1)  # products x customers
        sim = (cols @ cols.T).tocsr()
        if self.shrink > 0 and sim.nnz:
            # Co-occurrence support: similarities from one or two shared customers are noisy.
            binary = x.copy()
            binary.data[:] = 1.0
            support = (binary.T @ binary).tocsr()
            support.data = support.data / (support.data + self.shrink)
            sim = sim.multiply(support).tocsr()
        sim = (sim - sp.diags(sim.diagonal())).tocsr()  # a product is not its own neighbour
        sim.eliminate_zeros()
        self.similarity_ = top_per_row(sim, self.neighbours).astype(np.float32)
        self.similarity_t_ = self.similarity_.T.tocsr()
        self.history_ = x.astype(np.float32)
        self.bought_ = data.purchase_counts
        for m in (self.similarity_, self.similarity_t_, self.history_, self.bought_):
            m.sort_indices()

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        return (sparse_rows(self.history_, rows) @ self.similarity_).toarray().astype(np.float32)

    def explain_many(
        self, rows: np.ndarray, items: np.ndarray, contexts: Sequence[Context | None] | None = None
    ) -> list[str]:
        """:meth:`explain` for many pairs in a few sparse operations (same wording and ties)."""
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        out = np.where(
            rows < 0,
            "Customers who bought what you viewed also bought this",
            "Customers who bought what you bought also bought this",
        ).astype(object)
        known = np.flatnonzero(rows >= 0)
        if len(known):
            # Per pair: similarity of each source product to the item x the customer's weight.
            weight = (
                sparse_rows(self.history_, rows[known])
                .multiply(sparse_rows(self.similarity_t_, items[known]))
                .tocsr()
            )
            has = np.diff(weight.indptr) > 0
            best = np.asarray(weight.argmax(axis=1)).ravel()
            bought = (
                np.asarray(
                    sparse_rows(self.bought_, rows[known])[np.arange(len(known)), best]
                ).ravel()
                > 0
            )
            names = self.data_.product_names
            for i in np.flatnonzero(has):
                verb = "bought" if bought[i] else "looked at"
                out[known[i]] = f"Customers who {verb} {names[best[i]]} also bought this"
        return [str(r) for r in out]

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        names = self.data_.product_names
        items = np.asarray(items, dtype=np.int64)
        if row < 0:
            return ["Customers who bought what you viewed also bought this"] * len(items)
        hist_idx, hist_w = row_entries(self.history_, row)
        bought_idx, _ = row_entries(self.bought_, row)
        # All items' source products at once: (which item, source, similarity) triples.
        which, src, sim = rows_entries(self.similarity_t_, items)
        mine = np.isin(src, hist_idx)
        which, src = which[mine], src[mine]
        weight = sim[mine] * hist_w[np.searchsorted(hist_idx, src)]
        order = np.lexsort((-weight, which))
        which, src = which[order], src[order]
        first = np.flatnonzero(np.r_[True, which[1:] != which[:-1]]) if len(which) else which
        best = dict(zip(which[first].tolist(), src[first].tolist(), strict=True))
        out = []
        for pos in range(len(items)):
            if pos not in best:
                out.append("Customers who bought what you bought also bought this")
                continue
            verb = "bought" if best[pos] in bought_idx else "looked at"
            out.append(f"Customers who {verb} {names[best[pos]]} also bought this")
        return out

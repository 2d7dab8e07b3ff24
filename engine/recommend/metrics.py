"""Ranking metrics of top-k lists against right answers (full ranking, binary gains)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

METRIC_NAMES = ("ndcg", "recall", "precision", "hit_rate", "past_share", "coverage")


def _hits(ranked: np.ndarray, matrix: sp.csr_matrix) -> np.ndarray:
    n, k = ranked.shape
    rows = np.repeat(np.arange(n), k)
    safe = np.where(ranked >= 0, ranked, 0).ravel()
    return (np.asarray(matrix[rows, safe]).reshape(n, k) > 0) & (ranked >= 0)


def ranking_metrics(
    ranked: np.ndarray, relevant: sp.csr_matrix, n_items: int, past: sp.csr_matrix | None = None
) -> dict[str, float]:
    """Metrics of ranked lists against right answers, averaged over customers.

    * precision@k = hits / k; recall@k = hits / number of right answers;
    * NDCG@k = DCG / ideal DCG, ``DCG = sum hit_i / log2(i + 1)`` (``i`` the 1-based
      rank), the ideal over ``min(k, right answers)`` hits;
    * hit rate@k = share of customers with at least one hit;
    * past share = share of the top-k slots holding a product the customer bought before;
    * coverage = share of the catalog in anyone's top k.

    Args:
        ranked: ``customers x k`` product positions, best first (-1: empty slot).
        relevant: ``customers x products`` sparse 0/1 matrix of right answers.
        n_items: catalog size, for coverage.
        past: ``customers x products`` sparse, nonzero where the customer bought before.

    Returns:
        ``ndcg, recall, precision, hit_rate, past_share, coverage`` (0..1), ``customers``.
    """
    n, k = ranked.shape
    if n == 0 or k == 0:
        return {**dict.fromkeys(METRIC_NAMES, 0.0), "customers": int(n)}
    hits = _hits(ranked, relevant)
    n_rel = np.asarray(relevant.sum(axis=1)).ravel().astype(np.int64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discount).sum(axis=1)
    ideal = np.cumsum(discount)[np.clip(np.minimum(n_rel, k) - 1, 0, k - 1)]
    ndcg = np.where(n_rel > 0, dcg / ideal, 0.0)
    n_hits = hits.sum(axis=1)
    shown = np.unique(ranked[ranked >= 0])
    past_share = float(_hits(ranked, past).sum() / (n * k)) if past is not None else 0.0
    return {
        "ndcg": float(ndcg.mean()),
        "recall": float(np.where(n_rel > 0, n_hits / np.maximum(n_rel, 1), 0.0).mean()),
        "precision": float((n_hits / k).mean()),
        "hit_rate": float((n_hits > 0).mean()),
        "past_share": past_share,
        "coverage": float(len(shown) / n_items) if n_items else 0.0,
        "customers": int(n),
    }

"""Offline metrics on hand-worked rankings, and the evaluation on the toy store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import scipy.sparse as sp

from engine.recommend.evaluation import evaluate_store, ranking_metrics

from .toy import AS_OF, toy_store


def test_metrics_by_hand():
    # Customer 0: right answers {1, 7}, list [0, 1, 2] -> one hit at rank 2.
    # Customer 1: right answer {3}, list [3, 4, 5] -> one hit at rank 1.
    ranked = np.array([[0, 1, 2], [3, 4, 5]])
    relevant = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 7, 3])), shape=(2, 10))
    m = ranking_metrics(ranked, relevant, n_items=10)
    assert m["precision"] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert m["recall"] == pytest.approx((1 / 2 + 1) / 2)
    # DCG_0 = 1/log2(3); IDCG_0 = 1 + 1/log2(3) (two right answers); NDCG_1 = 1.
    ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert m["ndcg"] == pytest.approx((ndcg0 + 1) / 2)
    assert m["hit_rate"] == 1.0
    assert m["coverage"] == pytest.approx(6 / 10)


def test_no_hits():
    ranked = np.array([[0, 1]])
    relevant = sp.csr_matrix(([1], ([0], [5])), shape=(1, 6))
    m = ranking_metrics(ranked, relevant, n_items=6)
    assert m["ndcg"] == 0 and m["hit_rate"] == 0 and m["precision"] == 0


def test_evaluate_toy_store():
    data = toy_store()
    split = AS_OF - timedelta(days=8)  # holdout: c6's milk, c5/c6's wine, c1-c3's stale
    report = evaluate_store(data, split, holdout_days=8, k=5)
    assert set(report["models"]) == {"popularity", "contextual", "collaborative", "content",
                                     "trending", "rebuy", "blend"}
    # Only c6 (milk): "stale" and "wine" were first sold after the split, so as of
    # the split they did not exist and cannot be right answers.
    assert report["customers"] == 1
    rebuy = report["models"]["rebuy"]
    assert rebuy["hit_rate"] >= 0.2  # c6's weekly milk is found
    for metrics in report["models"].values():
        assert 0 <= metrics["ndcg"] <= 1 and 0 <= metrics["coverage"] <= 1

"""Offline metrics on hand-worked rankings; the evaluation's split, protocols and tuning on
the toy store; and the rule that evaluating as of T reads nothing at or after T."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from engine.recommend.base import StoreData
from engine.recommend.evaluation import (
    BASELINES,
    Baseline,
    Holdout,
    evaluate_store,
    holdout,
    tune,
)
from engine.recommend.frequency import PersonalFrequencyRecommender
from engine.recommend.metrics import ranking_metrics

from .toy import AS_OF, CUSTOMERS, PRODUCTS, _lines, toy_store


def test_metrics_by_hand():
    # Customer 0: right answers {1, 7}, list [0, 1, 2] -> one hit at rank 2.
    # Customer 1: right answer {3}, list [3, 4, 5] -> one hit at rank 1.
    ranked = np.array([[0, 1, 2], [3, 4, 5]])
    relevant = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 7, 3])), shape=(2, 10))
    past = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [0, 2, 9])), shape=(2, 10))
    m = ranking_metrics(ranked, relevant, n_items=10, past=past)
    assert m["precision"] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert m["recall"] == pytest.approx((1 / 2 + 1) / 2)
    # DCG_0 = 1/log2(3); IDCG_0 = 1 + 1/log2(3) (two right answers); NDCG_1 = 1.
    ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert m["ndcg"] == pytest.approx((ndcg0 + 1) / 2)
    assert m["hit_rate"] == 1.0
    assert m["coverage"] == pytest.approx(6 / 10)
    assert m["past_share"] == pytest.approx(2 / 6)  # products 0 and 2 of customer 0


def test_no_hits():
    ranked = np.array([[0, 1]])
    relevant = sp.csr_matrix(([1], ([0], [5])), shape=(1, 6))
    m = ranking_metrics(ranked, relevant, n_items=6)
    assert m["ndcg"] == 0 and m["hit_rate"] == 0 and m["precision"] == 0


def test_new_items_protocol_drops_past_answers_and_empty_customers():
    relevant = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 2, 3])), shape=(2, 5))
    past = sp.csr_matrix(([1, 1], ([0, 1], [1, 3])), shape=(2, 5))
    view = Holdout(np.array([7, 9]), relevant, past, [None, None]).protocol("new")
    assert view.rows.tolist() == [7]  # customer 9 only rebought
    assert view.relevant.toarray().tolist() == [[0, 0, 1, 0, 0]]


def test_window_is_before_as_of():
    data = toy_store()
    train = data.before(AS_OF - timedelta(days=8))
    test = holdout(data, train)
    # In [AS_OF - 8d, AS_OF): c6's milk (3 days ago); the wine and the stale cream were
    # first sold in the window, so they did not exist when training ended.
    assert train.customer_ids[test.rows].tolist() == ["c6"]
    assert train.product_ids[test.relevant.indices].tolist() == ["milk"]
    assert test.past.toarray()[0, train.product_index.get_loc("milk")] == 1


@pytest.fixture(scope="module")
def report():
    return evaluate_store(toy_store(), holdout_days=8, k=5)


def test_every_baseline_ours_and_the_blend(report):
    repeat = report["protocols"]["repeat"]
    assert list(repeat["models"]) == [
        *BASELINES,
        "contextual",
        "collaborative",
        "content",
        "trending",
        "rebuy",
        "blend",
    ]
    assert repeat["customers"] == 1
    for m in repeat["models"].values():
        assert 0 <= m["ndcg"] <= 1 and 0 <= m["past_share"] <= 1
        assert m["fit_seconds"] >= 0 and m["rank_seconds"] >= 0
        assert isinstance(m["settings"], dict)
    # c6's weekly milk is found by buy-again.
    assert repeat["models"]["frequency"]["ndcg"] == 1.0
    assert repeat["models"]["frequency"]["past_share"] > 0
    # c6 only rebought: nobody is left to score on new items.
    assert report["protocols"]["new"]["customers"] == 0
    assert report["protocols"]["new"]["models"] == {}
    assert report["test_from"] == AS_OF - timedelta(days=8)
    assert report["validation_from"] == AS_OF - timedelta(days=16)


def test_tuning_picks_the_best_setting_on_the_inner_split():
    # Inner split of the toy store: fitted before AS_OF - 16d, scored on the next 8 days
    # (c5's cheese and yogurt, c6's milk). A one-day half-life ranks by the latest order.
    data = toy_store()
    train = data.before(AS_OF - timedelta(days=8))
    inner = train.before(AS_OF - timedelta(days=16))
    test = holdout(train, inner)
    baseline = Baseline(
        PersonalFrequencyRecommender, [{"half_life_days": None}, {"half_life_days": 1.0}]
    )
    chosen = tune(baseline, inner, test, k=1)
    assert set(chosen) == {"repeat", "new"}
    # By hand: with plain counts c5's cheese and yogurt tie (cheese first) and c6 gets
    # milk; one-day half-life: same lists. Ties keep the first (default) setting.
    assert chosen["repeat"] == {"half_life_days": None}


def _later_rows() -> pd.DataFrame:
    """Rows at and after AS_OF: a new product, a new customer, more of the old ones."""
    rows = [
        ("c1", "cable", AS_OF),
        ("c9", "newthing", AS_OF + timedelta(days=1)),
        ("c4", "cable", AS_OF + timedelta(days=3)),
        ("c6", "milk", AS_OF + timedelta(days=4)),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "ordered_at"])
    frame["order_id"] = [f"late{i}" for i in range(len(frame))]
    frame["line_no"] = 0
    frame["quantity"] = 1.0
    frame["unit_price"] = 5.0
    frame["discount"] = 0.0
    return frame


def _strip_timings(report):
    for protocol in report["protocols"].values():
        for m in protocol["models"].values():
            m.pop("fit_seconds"), m.pop("rank_seconds")
    return report


def test_later_data_changes_nothing():
    base = toy_store()
    products = pd.concat([PRODUCTS, pd.DataFrame([{"product_id": "newthing", "in_stock": True}])])
    full = StoreData.from_frames(
        as_of=AS_OF + timedelta(days=30),
        products=products,
        order_lines=pd.concat([_lines(), _later_rows()]),
        events=base.events,
        reviews=base.reviews,
        customers=pd.concat([CUSTOMERS, pd.DataFrame({"customer_id": ["c9"]})]),
    )
    a = _strip_timings(evaluate_store(base, holdout_days=8, k=5))
    b = _strip_timings(evaluate_store(full.before(AS_OF), holdout_days=8, k=5))
    assert a == b

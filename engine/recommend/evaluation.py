"""Offline evaluation: a temporal split, full ranking over the catalog, standard metrics.

Every recommender is fitted on the store strictly before the split moment ``T``
and asked for its top ``k`` among all in-stock products for each customer who
bought something in the holdout window ``[T, T + holdout_days)``; the products
they bought there are the right answers (rebuys included: in grocery they are
most of what people buy). Each customer is asked in the context of their first
holdout order (weather, time of day, device, place, where the store records
them), as a live request would be. Metrics, averaged over customers:

* precision@k = hits / k; recall@k = hits / number of right answers;
* NDCG@k = DCG / ideal DCG with binary gains, ``DCG = sum hit_i / log2(i + 1)``
  (``i`` the 1-based rank), ideal DCG over ``min(k, right answers)`` hits;
* hit rate@k = share of customers with at least one hit;
* coverage = share of the catalog that appears in anyone's top k.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sqlalchemy.orm import Session

from engine import frames
from engine.errors import UserError
from engine.timeutil import newest_timestamp

from .base import Recommender, StoreData, top_k
from .blend import BlendRecommender, default_recommenders
from .context import Context, hour_buckets, validate_k
from .popularity import PopularityRecommender

DEFAULT_HOLDOUT_DAYS = 30.0


def ranking_metrics(ranked: np.ndarray, relevant: sp.csr_matrix, n_items: int) -> dict[str, float]:
    """Metrics of ranked lists against right answers.

    Args:
        ranked: ``customers x k`` product positions, best first (-1: empty slot).
        relevant: ``customers x products`` sparse 0/1 matrix of right answers.
        n_items: catalog size, for coverage.

    Returns:
        ``precision, recall, ndcg, hit_rate, coverage`` (0..1), ``customers``.
    """
    n, k = ranked.shape
    if n == 0:
        return {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "hit_rate": 0.0,
                "coverage": 0.0, "customers": 0}
    rows = np.repeat(np.arange(n), k)
    safe = np.where(ranked >= 0, ranked, 0).ravel()
    hits = np.asarray(relevant[rows, safe]).reshape(n, k) > 0
    hits &= ranked >= 0
    n_rel = np.asarray(relevant.sum(axis=1)).ravel().astype(np.int64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discount).sum(axis=1)
    ideal = np.cumsum(discount)[np.clip(np.minimum(n_rel, k) - 1, 0, k - 1)]
    ndcg = np.where(n_rel > 0, dcg / ideal, 0.0)
    n_hits = hits.sum(axis=1)
    shown = np.unique(ranked[ranked >= 0])
    return {
        "precision": float((n_hits / k).mean()),
        "recall": float(np.where(n_rel > 0, n_hits / np.maximum(n_rel, 1), 0.0).mean()),
        "ndcg": float(ndcg.mean()),
        "hit_rate": float((n_hits > 0).mean()),
        "coverage": float(len(shown) / n_items) if n_items else 0.0,
        "customers": int(n),
    }


def _holdout(data: StoreData, train: StoreData, split_at: datetime, holdout_days: float
             ) -> tuple[np.ndarray, sp.csr_matrix, list[Context]]:
    """Test customer rows (in ``train``), their right answers and their request contexts."""
    end = split_at + timedelta(days=holdout_days)
    lines = data.order_lines
    test = lines[(lines["ordered_at"] >= split_at) & (lines["ordered_at"] < end)]
    test = test.assign(row=train.customer_index.get_indexer(test["customer_id"].astype(str)),
                       item=train.product_index.get_indexer(test["product_id"].astype(str)))
    test = test[(test["row"] >= 0) & (test["item"] >= 0)]
    if test.empty:
        return np.zeros(0, np.int64), sp.csr_matrix((0, train.n_items)), []
    rows, inverse = np.unique(test["row"].to_numpy(), return_inverse=True)
    relevant = sp.csr_matrix((np.ones(len(test)), (inverse, test["item"].to_numpy())),
                             shape=(len(rows), train.n_items))
    relevant.data[:] = 1.0  # duplicates summed: back to 0/1
    first = test.sort_values("ordered_at").drop_duplicates("row").set_index("row").loc[rows]
    buckets = hour_buckets(first["ordered_at"].dt.hour)
    weather = first["weather"].astype(object).str.lower()
    device = first["device"].astype(object).str.lower()
    known = set(train.known_locations)
    contexts = [
        Context(weather=w if isinstance(w, str) and w in
                ("sunny", "cloudy", "rainy", "snowy", "hot", "cold") else None,
                time_of_day=str(b),
                location=loc if isinstance(loc, str) and loc in known else None,
                device=d if isinstance(d, str) and d in ("desktop", "mobile", "tablet")
                else None)
        for w, b, loc, d in zip(weather, buckets, first["location"], device, strict=True)
    ]
    return rows.astype(np.int64), relevant, contexts


def evaluate_store(
    data: StoreData,
    split_at: datetime,
    *,
    holdout_days: float = DEFAULT_HOLDOUT_DAYS,
    k: int = 10,
    recommenders: Mapping[str, Recommender] | None = None,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Fit on ``data`` before ``split_at``, test on the following ``holdout_days``.

    Args:
        data: the store including the holdout window (``data.as_of`` after the window,
            or the window is cut short).
        split_at: the moment T of the split.
        holdout_days: length of the test window.
        k: list length, 1..100.
        recommenders: name -> unfitted recommender (default: every recommender, the
            blend and the popularity baseline).
        batch_size: customers scored at once.

    Returns:
        ``{"split_at", "holdout_days", "k", "customers", "products", "models":
        {name: metrics}, "blend_vs_popularity_ndcg"}``.
    """
    validate_k(k)
    train = data.before(split_at)
    rows, relevant, contexts = _holdout(data, train, split_at, holdout_days)
    if recommenders is None:
        parts = default_recommenders()
        blend = BlendRecommender(recommenders=parts)
        models: dict[str, Recommender] = {"popularity": PopularityRecommender(), **parts,
                                          "blend": blend}
    else:
        models = dict(recommenders)
    results: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        if getattr(model, "data_", None) is not train:
            model.fit(train)
        ranked = np.zeros((len(rows), min(k, train.n_items)), dtype=np.int64)
        hidden = ~train.in_stock
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            scores = model.score_rows(batch, contexts[start:start + batch_size])
            scores = np.where(hidden[None, :], -1.0, scores)
            ranked[start:start + len(batch)] = top_k(scores, k)
        results[name] = ranking_metrics(ranked, relevant, train.n_items)
    pop = results.get("popularity", {}).get("ndcg")
    blend_ndcg = results.get("blend", {}).get("ndcg")
    return {
        "split_at": split_at,
        "holdout_days": holdout_days,
        "k": k,
        "customers": int(len(rows)),
        "products": int(train.n_items),
        "models": results,
        "blend_vs_popularity_ndcg": (blend_ndcg / pop) if pop and blend_ndcg is not None
        else None,
    }


def default_split(session: Session, holdout_days: float = DEFAULT_HOLDOUT_DAYS) -> datetime:
    """T = the newest data minus the holdout window (so the window is full)."""
    newest = newest_timestamp(session)
    if newest is None:
        raise UserError("the store is empty: run `personalize seed` or `personalize import` first")
    return newest - timedelta(days=holdout_days)


def evaluate(
    session: Session,
    *,
    as_of: datetime | None = None,
    k: int = 10,
    holdout_days: float = DEFAULT_HOLDOUT_DAYS,
) -> dict[str, Any]:
    """The ``evaluate`` command's document, in sections (``{"recommendations": ...}``).

    ``as_of`` is the split moment T (train strictly before T, test on
    ``[T, T + holdout_days)``); default: the newest data minus the holdout.

    Raises:
        UserError: empty store, k outside 1..100, or no purchases in the holdout window.
    """
    validate_k(k)
    split_at = as_of if as_of is not None else default_split(session, holdout_days)
    end = split_at + timedelta(days=holdout_days)
    data = StoreData.from_frames(
        as_of=end,
        order_lines=frames.load_order_lines(session, as_of=end),
        events=frames.load_events(session, as_of=split_at),
        reviews=frames.load_reviews(session, as_of=split_at),
        products=frames.load_products(session),
        customers=frames.load_customers(session),
    )
    report = evaluate_store(data, split_at, holdout_days=holdout_days, k=k)
    if report["customers"] == 0:
        raise UserError(
            f"no purchases by known customers between {split_at:%Y-%m-%d %H:%M} and "
            f"{end:%Y-%m-%d %H:%M}: choose an earlier --as-of"
        )
    return {"recommendations": report}


def metrics_frame(report: Mapping[str, Any]) -> pd.DataFrame:
    """The ``models`` part of a report as a frame (one row per model), for display."""
    return pd.DataFrame(report["models"]).T.rename_axis("model").reset_index()

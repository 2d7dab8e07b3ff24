"""The blend's learned re-ranker: LightGBM LambdaRank over candidates from every recommender.

The candidates and their features are :mod:`engine.recommend.candidates`'s
(:class:`CandidateFeatures`, :data:`FEATURES`).

:func:`fit_ranker` learns the ranking inside the training period only: the
components are fitted before ``as_of - horizon``, the labels are what customers
bought in ``[as_of - horizon, as_of)``; 20% of those customers are held out to
choose the number of trees (early stopping). Nothing after ``as_of`` is seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp

from .base import StoreData
from .candidates import FEATURES, NEEDED, SOURCE, CandidateFeatures, Candidates, as_frame
from .context import Context
from .holdout import holdout

__all__ = [
    "FEATURES",
    "NEEDED",
    "SOURCE",
    "CandidateFeatures",
    "Candidates",
    "Ranker",
    "as_frame",
    "fit_ranker",
    "new_item_score",
    "tune_new_items",
]


def _holdout_contexts(
    data: StoreData, inner: StoreData
) -> tuple[np.ndarray, sp.csr_matrix, list[Context | None]]:
    test = holdout(data, inner)
    return test.rows, test.relevant, list(test.contexts)


ONE_THREAD_ROWS = 20_000
"""Candidate pairs below which the ranking is predicted in one thread."""


@dataclass(frozen=True)
class Ranker:
    """The learned rankings: ``models["all"]`` = ``(booster, trees)`` orders every candidate
    (a bought product competes with new ones: this is the rebuy gate); ``new_weights``
    order the products new to the customer (used when only new products are asked for)."""

    models: dict[str, tuple[Any, int]]
    settings: dict[str, Any]
    new_weights: dict[str, float | str]

    def score(self, features: np.ndarray, variant: str = "all") -> np.ndarray:
        """Scores of candidate pairs, squashed to (0, 100)."""
        if variant == "new" and "new" not in self.models:
            raw = new_item_score(features, self.new_weights)
        else:
            booster, trees = self.models[variant]
            # A request's few hundred candidates: starting OpenMP's threads costs ten
            # times the prediction (more on a busy machine); the numbers are the same.
            threads = {"num_threads": 1} if len(features) < ONE_THREAD_ROWS else {}
            raw = booster.predict(features, num_iteration=trees, **threads)
        return (100.0 / (1.0 + np.exp(-raw))).astype(np.float32)


NEW_ITEM_GRID = {
    "anchor": ("popularity", "recent_popularity"),
    "cf_relative": (0.0, 0.25, 1.0, 4.0),
    "ease": (0.0, 0.25, 1.0, 4.0, 16.0),
    "category_affinity": (0.0, 0.25, 1.0),
}
"""The new-items scorer's grid: a popularity anchor plus personal signals (see
:func:`new_item_score`); small on purpose, so that it generalises from a few hundred
customers where a free model does not (measured on the real grocery sample)."""


def new_item_score(features: np.ndarray, weights: Mapping[str, float | str]) -> np.ndarray:
    """``anchor / anchor_scale + sum w_f * f / f_scale``: a popularity anchor plus personal
    signals, each on a fixed scale learned with the weights (so one customer's score never
    depends on who else is in the batch)."""
    col = {f: i for i, f in enumerate(FEATURES)}
    anchor = str(weights["anchor"])
    score = features[:, col[anchor]] / float(weights[f"{anchor}_scale"])
    for name in ("cf_relative", "ease", "category_affinity"):
        w = float(weights[name])
        if w:
            value = np.clip(features[:, col[name]], 0.0, None) / float(weights[f"{name}_scale"])
            score = score + w * value
    return (score * 4.0 - 2.0).astype(np.float64)


def _scales(x: np.ndarray) -> dict[str, float]:
    col = {f: i for i, f in enumerate(FEATURES)}
    return {
        f"{name}_scale": round(
            max(
                float(np.quantile(np.clip(x[:, col[name]], 0, None), 0.99)) if len(x) else 1.0, 1e-6
            ),
            6,
        )
        for name in ("popularity", "recent_popularity", "cf_relative", "ease", "category_affinity")
    }


def _ndcg(
    score: np.ndarray, y: np.ndarray, query: np.ndarray, n_relevant: np.ndarray, k: int = 10
) -> float:
    """Mean NDCG@k over the queries with a right answer, ranking each query's candidates."""
    order = np.lexsort((-score, query))
    q, label = query[order], y[order]
    first = np.searchsorted(q, q, side="left")
    rank = np.arange(len(q)) - first
    top = rank < k
    dcg = np.bincount(
        q[top], weights=label[top] / np.log2(rank[top] + 2), minlength=len(n_relevant)
    )
    discount = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))
    has = n_relevant > 0
    ideal = discount[np.clip(np.minimum(n_relevant, k) - 1, 0, k - 1)]
    return float((dcg[has] / ideal[has]).mean()) if has.any() else 0.0


def tune_new_items(
    x: np.ndarray, y: np.ndarray, query: np.ndarray, n_relevant: np.ndarray
) -> tuple[dict[str, float | str], float]:
    """The :data:`NEW_ITEM_GRID` setting with the best NDCG@10 on the given customers."""
    import itertools

    best: tuple[float, dict[str, float | str]] = (-1.0, {})
    names = list(NEW_ITEM_GRID)
    scales = _scales(x)
    n_relevant = np.asarray(n_relevant, dtype=np.int64)
    # Customers with no right answer among their candidates score 0 whatever the weights:
    # their pairs need no sorting (they still count in the mean, through n_relevant).
    found = np.bincount(query, weights=y, minlength=len(n_relevant)) > 0
    keep = found[query]
    x, y, query = x[keep], y[keep], query[keep]
    for values in itertools.product(*NEW_ITEM_GRID.values()):
        weights: dict[str, float | str] = {**dict(zip(names, values, strict=True)), **scales}
        ndcg = _ndcg(new_item_score(x, weights), y, query, n_relevant)
        if ndcg > best[0] + 1e-12:
            best = (ndcg, weights)
    return best[1], round(best[0], 4)


def _train(
    x: np.ndarray, y: np.ndarray, query: np.ndarray, valid_q: np.ndarray, params: Mapping[str, Any]
) -> tuple[Any, int, dict[str, Any]] | None:
    """One model trained on the queries (customers) outside ``valid_q``; those inside
    choose the number of trees (early stopping)."""
    import lightgbm as lgb

    ranking = params["objective"] != "binary"
    if ranking:
        positives = np.bincount(query, weights=y, minlength=len(valid_q))
        keep = positives[query] > 0  # only customers with a right answer teach a ranking
        x, y, query = x[keep], y[keep], query[keep]
    valid = valid_q[query]
    if len(np.unique(query[~valid])) < 20 or not valid.any() or y[~valid].sum() < 20:
        return None
    group = np.unique(query[~valid], return_counts=True)[1]
    check_group = np.unique(query[valid], return_counts=True)[1]
    train = lgb.Dataset(
        x[~valid], y[~valid], group=group if ranking else None, feature_name=FEATURES
    )
    check = lgb.Dataset(x[valid], y[valid], group=check_group if ranking else None, reference=train)
    booster = lgb.train(
        dict(params),
        train,
        num_boost_round=150,
        valid_sets=[check],
        callbacks=[lgb.early_stopping(20, verbose=False)],
    )
    trees = int(booster.best_iteration or booster.current_iteration())
    metric = next(iter(booster.best_score["valid_0"]))
    return (
        booster,
        trees,
        {
            "trees": trees,
            "customers": int(len(group) + len(check_group)),
            f"validation_{metric}": round(float(booster.best_score["valid_0"][metric]), 4),
        },
    )


def fit_ranker(
    data: StoreData,
    make_components: Any,
    *,
    horizon_days: float,
    max_queries: int = 2500,
    random_state: int | None = 0,
    params: Mapping[str, Any] | None = None,
) -> Ranker | str:
    """Learn the rankings inside ``data``'s period (see the module docstring).

    Args:
        data: the training store.
        make_components: callable returning fresh, unfitted components by name.
        horizon_days: length of the label window at the end of ``data``.
        max_queries: customers sampled for training (speed).
        params: LightGBM parameters overriding the defaults.

    Returns:
        The :class:`Ranker`, or a string saying why there is too little to learn from.
    """
    inner = data.before(data.as_of - timedelta(days=horizon_days))
    if inner.n_items == 0 or inner.interactions.nnz == 0:
        return "no history before the label window"
    rows, relevant, contexts = _holdout_contexts(data, inner)
    if len(rows) < 20:
        return f"only {len(rows)} customers bought in the label window"
    rng = np.random.default_rng(random_state)
    if len(rows) > max_queries:
        pick = np.sort(rng.choice(len(rows), max_queries, replace=False))
        rows, relevant = rows[pick], relevant[pick]
        contexts = [contexts[i] for i in pick]
    components = {name: r.fit(inner) for name, r in make_components().items()}
    source = CandidateFeatures(inner, components)
    xs, ys, qs, pasts = [], [], [], []
    for start in range(0, len(rows), 256):
        cand = source.batch(rows[start : start + 256], contexts[start : start + 256])
        order = np.argsort(cand.which, kind="stable")
        which, items = cand.which[order], cand.items[order]
        xs.append(cand.features[order])
        ys.append((np.asarray(relevant[start + which, items]).ravel() > 0).astype(np.float32))
        qs.append(start + which)
        pasts.append(cand.past[order])
    x, y, query, past = (
        np.concatenate(xs),
        np.concatenate(ys),
        np.concatenate(qs),
        np.concatenate(pasts),
    )
    objective = str((params or {}).get("objective", "lambdarank"))
    extra: dict[str, Any] = (
        {"lambdarank_truncation_level": 10, "metric": "ndcg", "eval_at": [10]}
        if objective != "binary"
        else {"metric": "binary_logloss"}
    )
    settings = {
        "objective": objective,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        **extra,
        "max_bin": 63,
        "verbose": -1,
        "seed": 0 if random_state is None else int(random_state),
        "deterministic": True,
        "force_row_wise": True,
        # One thread: on small data LightGBM's OpenMP threads cost more than they
        # save (measured: 50 rounds on 78k pairs, 2.5 s with one, 9-30 s with two).
        "num_threads": 1,
        **(params or {}),
    }
    models: dict[str, tuple[Any, int]] = {}
    chosen: dict[str, Any] = {
        "ranker": objective,
        "learning_rate": settings["learning_rate"],
        "num_leaves": settings["num_leaves"],
        "label_window_days": horizon_days,
    }
    valid_q = rng.random(len(rows)) < 0.2
    fitted = _train(x, y, query, valid_q, settings)
    if fitted is None:
        return "fewer than 20 customers with a purchase among their candidates"
    models["all"] = fitted[:2]
    chosen.update({f"all_{k}": v for k, v in fitted[2].items()})
    # New products only: a small linear scorer tuned on the training customers, or a
    # model of its own, whichever ranks the held-out customers' new purchases better.
    n_relevant = (
        np.asarray((relevant - relevant.multiply(inner.purchase_counts[rows] > 0)).sum(axis=1))
        .ravel()
        .astype(np.int64)
    )
    new = ~past
    fit_q = new & ~valid_q[query]
    weights, _ = tune_new_items(x[fit_q], y[fit_q], query[fit_q], n_relevant)
    check = new & valid_q[query]
    held_out = np.where(valid_q, n_relevant, 0)
    linear = _ndcg(new_item_score(x[check], weights), y[check], query[check], held_out)
    chosen.update({f"new_{k}": v for k, v in weights.items()}, new_validation_linear=linear)
    own = _train(x[new], y[new], query[new], valid_q, settings)
    if own is not None:
        learned = _ndcg(
            own[0].predict(x[check], num_iteration=own[1]), y[check], query[check], held_out
        )
        chosen["new_validation_model"] = round(learned, 4)
        # The simpler scorer unless the model is clearly better (15%): a few hundred
        # held-out customers cannot tell smaller differences from noise.
        if learned > 1.15 * linear:
            models["new"] = own[:2]
    if "new" not in models:
        # The linear family won on the held-out customers: its weights from all of them.
        weights, _ = tune_new_items(x[new], y[new], query[new], n_relevant)
        chosen.update({f"new_{k}": v for k, v in weights.items()})
    chosen["new_ranker"] = "model" if "new" in models else "linear"
    chosen["new_validation_linear"] = round(linear, 4)
    return Ranker(models, chosen, weights)

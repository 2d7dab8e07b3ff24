"""The blend's learned re-ranker: LightGBM LambdaRank over candidates from every recommender.

For a batch of customers, :class:`CandidateFeatures` proposes candidates (the
customer's own products, the collaborative neighbours' best, the trending, popular
and context-fitting products) and describes each (customer, product) pair with
:data:`FEATURES`: recency and frequency of the customer's own purchases, the
product's rebuy cycle and how due it is, the buy-again probability, the TIFU
personal-frequency score, the collaborative score, popularity and trend, the
context lift, and the customer's category and brand affinity.

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
import pandas as pd
import scipy.sparse as sp

from .base import Contexts, Recommender, StoreData, context_list, sparse_rows, top_k
from .context import Context
from .ease import EASERecommender
from .tifu import tifu_vectors

FEATURES = [
    "own_orders", "own_recent", "own_share", "since_last", "interval", "due", "rebuy_prob",
    "tifu", "cf", "cf_relative", "ease", "popularity", "recent_popularity", "trend", "context",
    "context_lift", "category_affinity", "brand_affinity", "item_repeat_rate", "customer_orders",
    "customer_since_last", "customer_repeat_share",
]
# The component each feature's evidence comes from (for contributions and reasons).
SOURCE = {
    "own_orders": "rebuy", "own_recent": "rebuy", "own_share": "rebuy", "since_last": "rebuy",
    "interval": "rebuy", "due": "rebuy", "rebuy_prob": "rebuy", "tifu": "rebuy",
    "cf": "collaborative", "cf_relative": "collaborative", "ease": "collaborative",
    "popularity": "trending", "recent_popularity": "trending", "trend": "trending",
    "context": "contextual", "context_lift": "contextual", "category_affinity": "content",
    "brand_affinity": "content",
}
NEEDED = ("collaborative", "contextual", "trending", "rebuy")
"""Components the features read (``content`` is read through its affinities if fitted)."""


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs of a batch: position in the batch, product, features (pairs x FEATURES)."""

    which: np.ndarray
    items: np.ndarray
    features: np.ndarray
    past: np.ndarray  # bought by the customer before
    signals: dict[str, np.ndarray]  # per component, a 0..100 signal at each pair


class CandidateFeatures:
    """Candidate generation and pair features on one store with fitted components.

    Parameters:
        data: the store the components were fitted on.
        components: fitted recommenders by name (at least :data:`NEEDED`).
        n_collaborative, n_trending, n_popular, n_context: candidates from each source.
        max_own: the customer's own products kept (most recently weighted first).
    """

    def __init__(self, data: StoreData, components: Mapping[str, Recommender], *,
                 n_collaborative: int = 30, n_trending: int = 20, n_popular: int = 50,
                 n_context: int = 10, n_ease: int = 50, max_own: int = 50,
                 recent_half_life: float = 30.0, ease_items: int = 1000) -> None:
        self.data = data
        self.components = components
        self.n_collaborative = n_collaborative
        self.n_trending = n_trending
        self.n_popular = n_popular
        self.n_context = n_context
        self.max_own = max_own
        self.n_ease = n_ease
        # A small EASE (the most-bought products only): a strong signal for new products.
        self.ease = EASERecommender(l2=200.0, max_items=ease_items)
        self.ease.fit(data)
        p = data.purchases.drop_duplicates(["order_id", "item"])
        shape = (data.n_customers, data.n_items)
        where = (p["row"].to_numpy(), p["item"].to_numpy())
        self.orders = data.purchase_counts.astype(np.float32)
        recent = sp.csr_matrix((0.5 ** (p["age_days"].to_numpy() / recent_half_life), where),
                               shape=shape)
        recent.sum_duplicates()
        self.recent = recent.astype(np.float32)
        last = p.groupby(["row", "item"])["age_days"].min()
        self.since = sp.csr_matrix((last.to_numpy() + 1.0, (last.index.get_level_values(0),
                                                           last.index.get_level_values(1))),
                                   shape=shape).astype(np.float32)
        self.tifu = tifu_vectors(data, group_size=7, within_decay=0.9, group_decay=0.7)
        n_lines = np.asarray(self.orders.sum(axis=1)).ravel()
        self.customer_orders = np.log1p(
            p.groupby("row")["order_id"].nunique().reindex(range(data.n_customers)).fillna(0)
            .to_numpy())
        since_any = p.groupby("row")["age_days"].min().reindex(range(data.n_customers))
        self.customer_since = np.log1p(since_any.fillna(3650.0).to_numpy())
        rebought = self.orders.copy()
        rebought.data = (rebought.data >= 2).astype(np.float32)
        distinct = np.diff(self.orders.indptr)
        self.customer_repeat = np.where(distinct > 0, np.asarray(rebought.sum(axis=1)).ravel()
                                        / np.maximum(distinct, 1), 0.0)
        self.n_lines = n_lines
        buyers = np.asarray((self.orders > 0).sum(axis=0)).ravel()
        repeaters = np.asarray(rebought.sum(axis=0)).ravel()
        base = repeaters.sum() / max(buyers.sum(), 1)
        self.item_repeat = ((repeaters + 5 * base) / (buyers + 5)).astype(np.float32)
        self.popularity = np.log1p(data.item_popularity).astype(np.float32)
        self.popular_items = np.argsort(-data.item_popularity, kind="stable")[:n_popular]
        late = p[p["age_days"] <= 90.0].drop_duplicates(["row", "item"])
        self.recent_popularity = np.log1p(np.bincount(late["item"], minlength=data.n_items)
                                          ).astype(np.float32)
        trending = components["trending"]
        self.trend = np.log1p(getattr(trending, "trend_", np.zeros(data.n_items)))
        self.context_prior = np.maximum(getattr(components["contextual"], "prior_",
                                                np.ones(data.n_items)), 1e-6)
        rebuy = components["rebuy"]
        self.interval = getattr(rebuy, "interval_", None)
        self.rebuy = rebuy
        content = components.get("content")
        self.content = content if content is not None and hasattr(content, "data_") else None
        self.item_category, _ = data.codes("category")
        self.item_brand, _ = data.codes("brand")
        self.category_share, self.brand_share = self._affinities(data)

    def _affinities(self, data: StoreData) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        from sklearn.preprocessing import normalize

        if self.content is not None:
            content: Any = self.content
            return content.category_affinity_, content.brand_affinity_
        cats, _ = data.one_hot("category")
        brands, _ = data.one_hot("brand")
        x = data.interactions
        return (normalize(x @ cats, norm="l1").tocsr(), normalize(x @ brands, norm="l1").tocsr())

    @staticmethod
    def _gather(affinity: sp.csr_matrix, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
        dense = sparse_rows(affinity, rows).toarray()
        return np.where(codes[None, :] >= 0, dense[:, np.maximum(codes, 0)], 0.0)

    def batch(self, rows: np.ndarray, context: Contexts = None) -> Candidates:
        """Candidates and features of a batch of customer rows (-1: anonymous)."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        own = sparse_rows(self.orders, rows).toarray()
        recent = sparse_rows(self.recent, rows).toarray()
        cf = self.components["collaborative"].score_rows(rows)
        ctx = self.components["contextual"].score_rows(rows, context_list(context, n))
        trend_tilted = self.components["trending"].score_rows(rows)
        ease = np.zeros(own.shape, np.float32)
        ease[:, self.ease.items_] = sparse_rows(self.ease.history_, rows) @ self.ease.b_
        mask = np.zeros(own.shape, dtype=bool)
        if self.max_own:
            own_rank = np.where(own > 0, recent + 1e-6, -1.0)
            pick = top_k(own_rank, self.max_own)
            mask[np.arange(n)[:, None], pick] = np.take_along_axis(own_rank, pick, axis=1) > 0
        for scores, m in ((cf, self.n_collaborative), (trend_tilted, self.n_trending),
                          (ctx, self.n_context), (ease, self.n_ease)):
            if m:
                pick = top_k(scores, m)
                mask[np.arange(n)[:, None], pick] |= np.take_along_axis(scores, pick, axis=1) > 0
        mask[:, self.popular_items] = True
        mask &= self.data.in_stock[None, :]
        which, items = np.nonzero(mask)
        r = rows[which]
        known = r >= 0

        def at(dense: np.ndarray) -> np.ndarray:
            return dense[which, items].astype(np.float32)

        def sparse_at(matrix: sp.csr_matrix | None) -> np.ndarray:
            if matrix is None:
                return np.zeros(len(which), np.float32)
            return at(sparse_rows(matrix, rows).toarray())

        since = sparse_at(self.since)
        interval = sparse_at(self.interval)
        bought = since > 0
        cf_top = cf.max(axis=1)
        own_total = np.maximum(own.sum(axis=1), 1.0)
        safe = np.maximum(r, 0)
        cats = self._gather(self.category_share, rows, self.item_category)
        brands = self._gather(self.brand_share, rows, self.item_brand)
        prob = at(self.rebuy.score_rows(rows))
        columns = {
            "own_orders": np.log1p(at(own)),
            "own_recent": at(recent),
            "own_share": at(own / own_total[:, None]),
            "since_last": np.where(bought, np.log1p(since), np.nan),
            "interval": np.where(interval > 0, np.log1p(interval), np.nan),
            "due": np.where(bought & (interval > 0), np.log1p(since) - np.log1p(interval),
                            np.nan),
            "rebuy_prob": np.where(bought, prob, np.nan),
            "tifu": sparse_at(self.tifu),
            "cf": at(cf),
            "cf_relative": at(cf) / np.where(cf_top > 0, cf_top, 1.0)[which],
            "ease": at(ease),
            "popularity": self.popularity[items],
            "recent_popularity": self.recent_popularity[items],
            "trend": self.trend[items],
            "context": at(ctx),
            # The context's own effect, without the popularity prior inside ``context``.
            "context_lift": at(ctx) / self.context_prior[items],
            "category_affinity": at(cats),
            "brand_affinity": at(brands),
            "item_repeat_rate": self.item_repeat[items],
            "customer_orders": np.where(known, self.customer_orders[safe], 0.0),
            "customer_since_last": np.where(known, self.customer_since[safe], np.log1p(3650)),
            "customer_repeat_share": np.where(known, self.customer_repeat[safe], 0.0),
        }
        features = np.column_stack([columns[f] for f in FEATURES]).astype(np.float32)
        signals = {
            # A product bought before is explained by the customer's own history first.
            "rebuy": np.where(bought, 50.0 + 50.0 * prob, 0.0),
            "collaborative": np.maximum(_row_relative(cf, which, items),
                                        _row_relative(ease, which, items)),
            "trending": _row_relative(trend_tilted, which, items),
            "contextual": _row_relative(ctx, which, items),
            "content": np.clip(at(cats) + at(brands), 0, 1) * 100.0,
        }
        return Candidates(which, items, features, bought, signals)


def _row_relative(dense: np.ndarray, which: np.ndarray, items: np.ndarray) -> np.ndarray:
    top = dense.max(axis=1)
    return np.where(top[which] > 0, dense[which, items] / np.where(top > 0, top, 1)[which],
                    0.0) * 100.0


def _holdout_contexts(data: StoreData, inner: StoreData) -> tuple[np.ndarray, sp.csr_matrix,
                                                                   list[Context | None]]:
    from .evaluation import holdout

    test = holdout(data, inner)
    return test.rows, test.relevant, list(test.contexts)


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
            raw = booster.predict(features, num_iteration=trees)
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
    return {f"{name}_scale": round(max(float(np.quantile(np.clip(x[:, col[name]], 0, None),
                                                       0.99)) if len(x) else 1.0, 1e-6), 6)
            for name in ("popularity", "recent_popularity", "cf_relative", "ease",
                         "category_affinity")}


def _ndcg(score: np.ndarray, y: np.ndarray, query: np.ndarray, n_relevant: np.ndarray,
          k: int = 10) -> float:
    """Mean NDCG@k over the queries with a right answer, ranking each query's candidates."""
    order = np.lexsort((-score, query))
    q, label = query[order], y[order]
    first = np.searchsorted(q, q, side="left")
    rank = np.arange(len(q)) - first
    top = rank < k
    dcg = np.bincount(q[top], weights=label[top] / np.log2(rank[top] + 2),
                      minlength=len(n_relevant))
    discount = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))
    has = n_relevant > 0
    ideal = discount[np.clip(np.minimum(n_relevant, k) - 1, 0, k - 1)]
    return float((dcg[has] / ideal[has]).mean()) if has.any() else 0.0


def tune_new_items(x: np.ndarray, y: np.ndarray, query: np.ndarray, n_relevant: np.ndarray
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


def _train(x: np.ndarray, y: np.ndarray, query: np.ndarray, valid_q: np.ndarray,
           params: Mapping[str, Any]) -> tuple[Any, int, dict[str, Any]] | None:
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
    train = lgb.Dataset(x[~valid], y[~valid], group=group if ranking else None,
                        feature_name=FEATURES)
    check = lgb.Dataset(x[valid], y[valid], group=check_group if ranking else None,
                        reference=train)
    booster = lgb.train(dict(params), train, num_boost_round=150, valid_sets=[check],
                        callbacks=[lgb.early_stopping(20, verbose=False)])
    trees = int(booster.best_iteration or booster.current_iteration())
    metric = next(iter(booster.best_score["valid_0"]))
    return booster, trees, {"trees": trees, "customers": int(len(group) + len(check_group)),
                            f"validation_{metric}":
                            round(float(booster.best_score["valid_0"][metric]), 4)}


def fit_ranker(data: StoreData, make_components: Any, *, horizon_days: float,
               max_queries: int = 2500, random_state: int | None = 0,
               params: Mapping[str, Any] | None = None) -> Ranker | str:
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
        cand = source.batch(rows[start:start + 256], contexts[start:start + 256])
        order = np.argsort(cand.which, kind="stable")
        which, items = cand.which[order], cand.items[order]
        xs.append(cand.features[order])
        ys.append((np.asarray(relevant[start + which, items]).ravel() > 0).astype(np.float32))
        qs.append(start + which)
        pasts.append(cand.past[order])
    x, y, query, past = (np.concatenate(xs), np.concatenate(ys), np.concatenate(qs),
                         np.concatenate(pasts))
    objective = str((params or {}).get("objective", "lambdarank"))
    extra: dict[str, Any] = ({"lambdarank_truncation_level": 10, "metric": "ndcg",
                              "eval_at": [10]} if objective != "binary"
                             else {"metric": "binary_logloss"})
    settings = {"objective": objective, "learning_rate": 0.1, "num_leaves": 15,
                "min_data_in_leaf": 50, "feature_fraction": 0.9, "bagging_fraction": 0.8,
                "bagging_freq": 1, **extra, "max_bin": 63, "verbose": -1,
                "seed": 0 if random_state is None else int(random_state),
                "deterministic": True, "force_row_wise": True,
                # One thread: on small data LightGBM's OpenMP threads cost more than they
                # save (measured: 50 rounds on 78k pairs, 2.5 s with one, 9-30 s with two).
                "num_threads": 1, **(params or {})}
    models: dict[str, tuple[Any, int]] = {}
    chosen: dict[str, Any] = {"ranker": objective, "learning_rate": settings["learning_rate"],
                              "num_leaves": settings["num_leaves"],
                              "label_window_days": horizon_days}
    valid_q = rng.random(len(rows)) < 0.2
    fitted = _train(x, y, query, valid_q, settings)
    if fitted is None:
        return "fewer than 20 customers with a purchase among their candidates"
    models["all"] = fitted[:2]
    chosen.update({f"all_{k}": v for k, v in fitted[2].items()})
    # New products only: a small linear scorer tuned on the training customers, or a
    # model of its own, whichever ranks the held-out customers' new purchases better.
    n_relevant = np.asarray((relevant - relevant.multiply(
        inner.purchase_counts[rows] > 0)).sum(axis=1)).ravel().astype(np.int64)
    new = ~past
    fit_q = new & ~valid_q[query]
    weights, _ = tune_new_items(x[fit_q], y[fit_q], query[fit_q], n_relevant)
    check = new & valid_q[query]
    held_out = np.where(valid_q, n_relevant, 0)
    linear = _ndcg(new_item_score(x[check], weights), y[check], query[check], held_out)
    chosen.update({f"new_{k}": v for k, v in weights.items()}, new_validation_linear=linear)
    own = _train(x[new], y[new], query[new], valid_q, settings)
    if own is not None:
        learned = _ndcg(own[0].predict(x[check], num_iteration=own[1]), y[check], query[check],
                        held_out)
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


def as_frame(cand: Candidates) -> pd.DataFrame:
    """Candidates as a frame (for inspection)."""
    frame = pd.DataFrame(cand.features, columns=FEATURES)
    frame.insert(0, "item", cand.items)
    frame.insert(0, "which", cand.which)
    return frame

"""The re-ranker's candidates and features (see :mod:`engine.recommend.rerank`).

For a batch of customers, :class:`CandidateFeatures` proposes candidates (the
customer's own products, the collaborative neighbours' best, the trending, popular
and context-fitting products) and describes each (customer, product) pair with
:data:`FEATURES`: recency and frequency of the customer's own purchases, the
product's rebuy cycle and how due it is, the buy-again probability, the TIFU
personal-frequency score, the collaborative score, popularity and trend, the
context lift, and the customer's category and brand affinity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .base import Contexts, Recommender, StoreData, context_list, sparse_rows, top_k
from .ease import EASERecommender
from .tifu import tifu_vectors

FEATURES = [
    "own_orders",
    "own_recent",
    "own_share",
    "since_last",
    "interval",
    "due",
    "rebuy_prob",
    "tifu",
    "cf",
    "cf_relative",
    "ease",
    "popularity",
    "recent_popularity",
    "trend",
    "context",
    "context_lift",
    "category_affinity",
    "brand_affinity",
    "item_repeat_rate",
    "customer_orders",
    "customer_since_last",
    "customer_repeat_share",
]
# The component each feature's evidence comes from (for contributions and reasons).
SOURCE = {
    "own_orders": "rebuy",
    "own_recent": "rebuy",
    "own_share": "rebuy",
    "since_last": "rebuy",
    "interval": "rebuy",
    "due": "rebuy",
    "rebuy_prob": "rebuy",
    "tifu": "rebuy",
    "cf": "collaborative",
    "cf_relative": "collaborative",
    "ease": "collaborative",
    "popularity": "trending",
    "recent_popularity": "trending",
    "trend": "trending",
    "context": "contextual",
    "context_lift": "contextual",
    "category_affinity": "content",
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

    def __init__(
        self,
        data: StoreData,
        components: Mapping[str, Recommender],
        *,
        n_collaborative: int = 30,
        n_trending: int = 20,
        n_popular: int = 50,
        n_context: int = 10,
        n_ease: int = 50,
        max_own: int = 50,
        recent_half_life: float = 30.0,
        ease_items: int = 1000,
    ) -> None:
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
        recent = sp.csr_matrix(
            (0.5 ** (p["age_days"].to_numpy() / recent_half_life), where), shape=shape
        )
        recent.sum_duplicates()
        self.recent = recent.astype(np.float32)
        last = p.groupby(["row", "item"])["age_days"].min()
        self.since = sp.csr_matrix(
            (
                last.to_numpy() + 1.0,
                (last.index.get_level_values(0), last.index.get_level_values(1)),
            ),
            shape=shape,
        ).astype(np.float32)
        self.tifu = tifu_vectors(data, group_size=7, within_decay=0.9, group_decay=0.7)
        n_lines = np.asarray(self.orders.sum(axis=1)).ravel()
        self.customer_orders = np.log1p(
            p.groupby("row")["order_id"]
            .nunique()
            .reindex(range(data.n_customers))
            .fillna(0)
            .to_numpy()
        )
        since_any = p.groupby("row")["age_days"].min().reindex(range(data.n_customers))
        self.customer_since = np.log1p(since_any.fillna(3650.0).to_numpy())
        rebought = self.orders.copy()
        rebought.data = (rebought.data >= 2).astype(np.float32)
        distinct = np.diff(self.orders.indptr)
        self.customer_repeat = np.where(
            distinct > 0, np.asarray(rebought.sum(axis=1)).ravel() / np.maximum(distinct, 1), 0.0
        )
        self.n_lines = n_lines
        buyers = np.asarray((self.orders > 0).sum(axis=0)).ravel()
        repeaters = np.asarray(rebought.sum(axis=0)).ravel()
        base = repeaters.sum() / max(buyers.sum(), 1)
        self.item_repeat = ((repeaters + 5 * base) / (buyers + 5)).astype(np.float32)
        self.popularity = np.log1p(data.item_popularity).astype(np.float32)
        self.popular_items = np.argsort(-data.item_popularity, kind="stable")[:n_popular]
        late = p[p["age_days"] <= 90.0].drop_duplicates(["row", "item"])
        self.recent_popularity = np.log1p(np.bincount(late["item"], minlength=data.n_items)).astype(
            np.float32
        )
        trending = components["trending"]
        self.trend = np.log1p(getattr(trending, "trend_", np.zeros(data.n_items)))
        self.context_prior = np.maximum(
            getattr(components["contextual"], "prior_", np.ones(data.n_items)), 1e-6
        )
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
        for scores, m in (
            (cf, self.n_collaborative),
            (trend_tilted, self.n_trending),
            (ctx, self.n_context),
            (ease, self.n_ease),
        ):
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
            "due": np.where(bought & (interval > 0), np.log1p(since) - np.log1p(interval), np.nan),
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
            "collaborative": np.maximum(
                _row_relative(cf, which, items), _row_relative(ease, which, items)
            ),
            "trending": _row_relative(trend_tilted, which, items),
            "contextual": _row_relative(ctx, which, items),
            "content": np.clip(at(cats) + at(brands), 0, 1) * 100.0,
        }
        return Candidates(which, items, features, bought, signals)


def _row_relative(dense: np.ndarray, which: np.ndarray, items: np.ndarray) -> np.ndarray:
    top = dense.max(axis=1)
    return (
        np.where(top[which] > 0, dense[which, items] / np.where(top > 0, top, 1)[which], 0.0)
        * 100.0
    )


def as_frame(cand: Candidates) -> pd.DataFrame:
    """Candidates as a frame (for inspection)."""
    frame = pd.DataFrame(cand.features, columns=FEATURES)
    frame.insert(0, "item", cand.items)
    frame.insert(0, "which", cand.which)
    return frame

"""Lists from a blend's scores: the top ``k`` with reasons, for one customer or all, and
two contexts compared.

:class:`ListedRecommender` is the part of :class:`~engine.recommend.blend.BlendRecommender`
that turns its per-row scores and per-recommender points (:meth:`blend_rows`) into lists:
each shown product's reason is that of the recommender with the largest share of its
score (``quality`` for the best-rated products shown to an unhappy customer).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .base import Contexts, Recommender, Scored, context_list, top_k
from .context import Context, validate_k
from .emotion import Mood

QUALITY = "quality"
"""Points name of "one of our best-rated products" (see the blend's emotional rules)."""


class ListedRecommender(Recommender):
    """A recommender whose lists come from :meth:`blend_rows` (scores and their split).

    ``recommenders_`` (set by the subclass's fit): the components, which explain the
    products they lead.
    """

    recommenders_: dict[str, Recommender]

    @abstractmethod
    def blend_rows(
        self,
        rows: np.ndarray,
        context: Contexts = None,
        *,
        weights: Mapping[str, float] | None = None,
        moods: list[Mood] | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(scores, points)``: rows x products 0..100 scores and each recommender's share."""

    @abstractmethod
    def mood_of(self, row: int) -> Mood:
        """The customer's mood (unknown for anonymous rows)."""

    def explain(self, row: int, items: np.ndarray, context: Context | None = None) -> list[str]:
        _, points = self.blend_rows(np.array([row]), context)
        return self._reasons(
            row, items, context, {n: p[0] for n, p in points.items()}, self.mood_of(row)
        )

    def _reasons(
        self,
        row: int,
        items: np.ndarray,
        context: Context | None,
        points: dict[str, np.ndarray],
        mood: Mood,
    ) -> list[str]:
        names = list(points)
        if not names or len(items) == 0:
            return ["Recommended for you"] * len(items)
        stacked = np.stack([points[n][items] for n in names])
        leader = np.array(names, dtype=object)[np.argmax(stacked, axis=0)]
        reasons = np.empty(len(items), dtype=object)
        for name in set(leader):
            pos = np.flatnonzero(leader == name)
            if name == QUALITY:
                reasons[pos] = [self._quality_reason(mood)] * len(pos)
            else:
                reasons[pos] = self.recommenders_[name].explain(row, items[pos], context)
        return [str(r) for r in reasons]

    def _pair_reasons(
        self,
        rows: np.ndarray,
        which: np.ndarray,
        items: np.ndarray,
        contexts: Contexts,
        points: dict[str, np.ndarray],
    ) -> list[str]:
        """:meth:`_reasons` for many (row, product) pairs at once: each pair's leading
        recommender explains all its pairs in one call (``which``: position in ``points``)."""
        names = list(points)
        if not names or len(items) == 0:
            return ["Recommended for you"] * len(items)
        stacked = np.stack([points[n][which, items] for n in names])
        leader = np.argmax(stacked, axis=0)
        reasons = np.empty(len(items), dtype=object)
        per_pair = context_list(contexts, len(items))
        for j, name in enumerate(names):
            pos = np.flatnonzero(leader == j)
            if not len(pos):
                continue
            if name == QUALITY:
                reasons[pos] = [self._quality_reason(self.mood_of(int(rows[i]))) for i in pos]
            else:
                reasons[pos] = self.recommenders_[name].explain_many(
                    rows[pos], items[pos], [per_pair[i] for i in pos]
                )
        return [str(r) for r in reasons]

    @staticmethod
    def _quality_reason(mood: Mood) -> str:
        bad = sorted(mood.unhappy_brands | mood.unhappy_categories)
        about = f" with {', '.join(bad[:3])}" if bad else ""
        return (
            f"One of our best-rated products: you seemed unhappy{about} lately, "
            "so we show you what customers rate highest"
        )

    def recommend(
        self,
        customer_id: str | None,
        context: Context | None = None,
        *,
        k: int = 20,
        exclude: Iterable[str] = (),
        allow_unknown: bool = False,
        weights: Mapping[str, float] | None = None,
        mood: Mood | None = None,
    ) -> list[Scored]:
        """The top ``k`` products (0..100 scores, reasons, per-recommender points).

        Args:
            customer_id: the customer, or None for an anonymous visitor.
            context: validated context (see :func:`~engine.recommend.context.parse_context`).
            k: how many, 1..100 (default 20).
            exclude: product ids never to return.
            allow_unknown: treat an unknown customer as anonymous instead of refusing.
            weights: per-call weight overrides (recommender name -> weight >= 0).
            mood: the customer's mood from elsewhere (default: learned from reviews).

        Raises:
            NotFittedError: before fit. UserError: unknown customer, bad k or weights.
        """
        validate_k(k)
        row = self.customer_row(customer_id, allow_unknown=allow_unknown)
        mood = mood if mood is not None else self.mood_of(row)
        total, points = self.blend_rows(np.array([row]), context, weights=weights, moods=[mood])
        scores = total[0]
        scores[self.exclusion_mask(exclude)] = 0.0
        items = top_k(scores[None, :], k)[0]
        items = items[scores[items] > 0]
        row_points = {n: p[0] for n, p in points.items()}
        reasons = self._reasons(row, items, context, row_points, mood)
        return [
            Scored(
                str(self.data_.product_ids[i]),
                round(float(scores[i]), 2),
                reason,
                {n: round(float(p[i]), 2) for n, p in row_points.items()},
            )
            for i, reason in zip(items, reasons, strict=True)
        ]

    def recommend_all(
        self,
        customer_ids: Iterable[str] | None = None,
        context: Contexts = None,
        *,
        k: int = 20,
        batch_size: int = 512,
    ) -> pd.DataFrame:
        """Top ``k`` for many customers at once (default: everyone active before ``as_of``).

        Returns:
            Columns ``customer_id, rank, product_id, score, reason`` (rank from 1,
            score 0..100), customers in id order.
        """
        self._check_fitted()
        validate_k(k)
        if customer_ids is None:
            rows = np.flatnonzero(self.data_.activity > 0)
        else:
            rows = self.data_.rows_of(customer_ids)
            rows = rows[rows >= 0]
        contexts = (
            context_list(context, len(rows))
            if not isinstance(context, Context) and context is not None
            else context
        )
        out_rows: list[np.ndarray] = []
        out_items: list[np.ndarray] = []
        out_scores: list[np.ndarray] = []
        out_reasons: list[str] = []
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            ctx: Any = (
                contexts[start : start + batch_size] if isinstance(contexts, list) else contexts
            )
            total, points = self.blend_rows(batch, ctx)
            items = top_k(total, k)
            picked = np.take_along_axis(total, items, axis=1)
            which, col = np.nonzero(picked > 0)  # row-major: each row's ranks in order
            its = items[which, col]
            pair_ctx = [ctx[j] for j in which] if isinstance(ctx, list) else ctx
            out_reasons += self._pair_reasons(batch[which], which, its, pair_ctx, points)
            out_rows.append(batch[which])
            out_items.append(its)
            out_scores.append(picked[which, col])
        if not out_rows:
            return pd.DataFrame(columns=["customer_id", "rank", "product_id", "score", "reason"])
        row_all = np.concatenate(out_rows)
        frame = pd.DataFrame(
            {
                "customer_id": self.data_.customer_ids[row_all],
                "product_id": self.data_.product_ids[np.concatenate(out_items)],
                "score": np.round(np.concatenate(out_scores).astype(float), 2),
                "reason": out_reasons,
            }
        )
        frame.insert(1, "rank", frame.groupby("customer_id", sort=False).cumcount() + 1)
        return frame


def compare_contexts(
    blend: ListedRecommender,
    customer_id: str | None,
    first: Context,
    second: Context,
    *,
    k: int = 20,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The top ``k`` in two contexts side by side, with what moved.

    Returns:
        One row per product in either list: ``product_id, name, rank_first,
        rank_second, score_first, score_second, reason_first, reason_second,
        movement`` (``rank_first - rank_second``: positive moved up in the second
        context; NaN ranks mean "not in that list"), ordered by the second list.
    """
    a = blend.recommend(customer_id, first, k=k, weights=weights)
    b = blend.recommend(customer_id, second, k=k, weights=weights)

    def frame(items: list[Scored], suffix: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "product_id": [s.product_id for s in items],
                f"rank_{suffix}": np.arange(1, len(items) + 1, dtype=float),
                f"score_{suffix}": [s.score for s in items],
                f"reason_{suffix}": [s.reason for s in items],
            }
        )

    out = frame(a, "first").merge(frame(b, "second"), on="product_id", how="outer")
    names = pd.Series(blend.data_.product_names, index=blend.data_.product_ids)
    out.insert(1, "name", out["product_id"].map(names))
    out["movement"] = out["rank_first"] - out["rank_second"]
    return out.sort_values(["rank_second", "rank_first"], na_position="last").reset_index(drop=True)

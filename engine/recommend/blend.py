"""The blend: every recommender's candidates, ranked by a learned model, filtered and explained.

By default (``ranker="learned"``) the order is learned (see :mod:`.rerank`): a
LightGBM LambdaRank model over candidates from every recommender, trained inside
the fitted period only (components fitted before ``as_of - horizon_days``, labels
what customers bought in the last ``horizon_days``), with its number of trees chosen
on held-out customers of that window. A product already bought competes with new
ones inside the model, so the rebuy gate is learned the same way. For "new products
only" (:meth:`BlendRecommender.score_new_rows`) a small popularity-anchored scorer
tuned on the same window is used, or a model of its own when it is clearly better
on the held-out customers. Each shown product's score (0..100) is split among the
recommenders in proportion to their evidence for it, and its reason is that of the
recommender with the largest share. With too little history to learn from, or with
per-call weight overrides (the dashboard's sliders), the weighted rules below apply.

The weighted rules (``ranker="weights"``):

Per customer row, each recommender's scores are put on 0..100 (relative to its
own best for that row, or ``score * scale`` for a recommender that declares an
absolute ``scale``), weighted, and divided by the total weight of the recommenders
that had something to say, so the final score is 0..100 and each recommender's
contribution (in points) adds up to it. Then the rules:

* out-of-stock products are never shown;
* a product the customer already bought is shown only when the rebuy model
  gives a rebuy within its horizon at least ``rebuy_threshold``;
* cold start: anonymous or new customers get contextual and trending only;
  with fewer than ``cold_start_events`` events, collaborative filtering is
  faded in gradually (content-based counts from the first event);
* a dissatisfied customer (see :mod:`.emotion`) sees products of the brands
  and categories they rated badly scaled down by ``unhappy_penalty``, and the
  best-rated products lifted by ``quality_weight``; the reason says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import UserError

from .base import Contexts, Recommender, Scored, StoreData, context_list, normalise_rows, top_k
from .collaborative import CollaborativeRecommender
from .content import ContentRecommender
from .context import Context, validate_k
from .contextual import ContextualRecommender
from .emotion import Mood, customer_moods, item_quality, mood_from_row
from .rebuy import RebuyRecommender
from .rerank import NEEDED, CandidateFeatures, Ranker, fit_ranker
from .trending import TrendingRecommender

# The seed's figures (contextual 0.75-0.80, collaborative 0.70, content 0.60, trending
# 0.50) are kept as given; rebuy's weight was chosen on the temporal holdouts of the real
# dunnhumby grocery sample and the seeded store (NDCG@10 on both: 1.0 as good as 2.0 and
# better than 0.5).
DEFAULT_WEIGHTS: dict[str, float] = {
    "contextual": 0.78,
    "collaborative": 0.70,
    "content": 0.60,
    "trending": 0.50,
    "rebuy": 1.0,
}
QUALITY = "quality"


def default_recommenders() -> dict[str, Recommender]:
    """A fresh, unfitted instance of every recommender the blend combines."""
    return {r.name: r for r in (ContextualRecommender(), CollaborativeRecommender(),
                                ContentRecommender(), TrendingRecommender(),
                                RebuyRecommender())}


def check_weights(weights: Mapping[str, float], names: Iterable[str]) -> dict[str, float]:
    """Validated weights: known names, finite, >= 0.

    Raises:
        UserError: an unknown recommender name or a negative weight.
    """
    names = list(names)
    out = {}
    for key, value in weights.items():
        if key not in names:
            raise UserError(f"invalid weight name {key!r}; valid values: {', '.join(names)}")
        if not np.isfinite(value) or value < 0:
            raise UserError(f"invalid weight {value!r} for {key}: must be a number >= 0")
        out[key] = float(value)
    return out


class BlendRecommender(Recommender):
    """Blends every recommender (see the module docstring for the rules).

    Parameters:
        weights: recommender name -> weight (missing names: :data:`DEFAULT_WEIGHTS`).
        rebuy_threshold: rebuy probability (within the rebuy model's horizon) needed to
            show an already-bought product; ``"auto"``: the store's own chance that a
            customer buys one of its top sellers new in that horizon, i.e. a rebuy is
            shown when it is at least as likely as the best new suggestion.
        cold_start_events: events after which collaborative filtering counts fully.
        unhappy_penalty: factor applied to unhappy brands/categories of a dissatisfied customer.
        quality_weight: weight of "best rated" for a dissatisfied customer.
        recommenders: the components (default :func:`default_recommenders`); fitted by ``fit``.
        ranker: ``"learned"`` (default) or ``"weights"`` (the weighted rules only).
        horizon_days: the learned ranking's label window at the end of the fitted period.
        random_state: seed of the ranker's sampling and trees.

    Learned state: ``recommenders_`` (fitted), ``ranker_`` (None: weighted rules),
    ``settings_`` (what was chosen on the label window, for reports), ``moods_`` (per customer, see
    :func:`~engine.recommend.emotion.customer_moods`), ``quality_`` (0..100 per product).
    """

    name = "blend"
    label = "Blend"

    def __init__(self, weights: Mapping[str, float] | None = None,
                 rebuy_threshold: float | str = "auto",
                 cold_start_events: int = 5, unhappy_penalty: float = 0.3,
                 quality_weight: float = 0.6,
                 recommenders: Mapping[str, Recommender] | None = None,
                 ranker: str = "learned", horizon_days: float = 30.0,
                 random_state: int | None = 0) -> None:
        self.weights = weights
        self.rebuy_threshold = rebuy_threshold
        self.cold_start_events = cold_start_events
        self.unhappy_penalty = unhappy_penalty
        self.quality_weight = quality_weight
        self.recommenders = recommenders
        self.ranker = ranker
        self.horizon_days = horizon_days
        self.random_state = random_state

    def _fit(self, data: StoreData) -> None:
        if self.ranker not in ("learned", "weights"):
            raise UserError(f"invalid ranker {self.ranker!r}; valid values: learned, weights")
        components = dict(self.recommenders) if self.recommenders else default_recommenders()
        # A component already fitted on this very data (e.g. by the evaluation) is reused.
        self.recommenders_ = {name: r if getattr(r, "data_", None) is data else r.fit(data)
                              for name, r in components.items()}
        self.weights_ = {**{n: DEFAULT_WEIGHTS.get(n, 0.5) for n in self.recommenders_},
                         **check_weights(self.weights or {}, self.recommenders_)}
        self.rebuy_threshold_ = self._threshold()
        self.moods_ = customer_moods(data.reviews, data.as_of)
        self.dissatisfied_ = np.zeros(data.n_customers, dtype=bool)
        upset = self.moods_.index[self.moods_["state"] == "dissatisfied"]
        rows = data.rows_of(upset)
        self.dissatisfied_[rows[rows >= 0]] = True
        quality = item_quality(data.reviews, data.product_ids)
        # Only clearly good products earn points: 3.5 stars -> 0, 5 stars -> 100.
        self.quality_ = np.nan_to_num(np.clip((quality - 3.5) / 1.5, 0, 1) * 100).astype(
            np.float32)
        self.category_codes_, self.category_labels_ = data.codes("category")
        self.brand_codes_, self.brand_labels_ = data.codes("brand")
        self.ranker_: Ranker | None = None
        self.features_: CandidateFeatures | None = None
        self.settings_: dict[str, Any] = {"ranker": "weights"}
        if self.ranker == "learned" and all(n in self.recommenders_ for n in NEEDED):
            self._fit_ranker(data)
        if self.ranker_ is None:
            self.settings_.update(weights=dict(self.weights_),
                                  rebuy_threshold=round(self.rebuy_threshold_, 4))

    def _fit_ranker(self, data: StoreData) -> None:
        """The learned ranking (see :mod:`.rerank`): trained inside ``data``'s period on a
        label window of ``horizon_days`` at its end; the rebuy gate is part of it (a bought
        product ranks where the model puts it among the new ones)."""
        # The inner fit needs only what the features read (affinities come from the data).
        parts = {n: self.recommenders_[n] for n in NEEDED}

        def fresh() -> dict[str, Recommender]:
            return {n: type(r)(**r.get_params()) for n, r in parts.items()}

        ranker = fit_ranker(data, fresh, horizon_days=self.horizon_days,
                            random_state=self.random_state)
        if isinstance(ranker, str):
            self.settings_ = {"ranker": f"weights (too little to learn a ranking: {ranker})"}
            return
        self.settings_ = dict(ranker.settings)
        self.ranker_ = ranker
        self.features_ = CandidateFeatures(data, self.recommenders_)

    def _threshold(self) -> float:
        if self.rebuy_threshold != "auto":
            return float(self.rebuy_threshold)
        rebuy = self.recommenders_.get("rebuy")
        # Without a learned rebuy model the bar is not measured either: a fixed 10%.
        rate = getattr(rebuy, "new_item_rate_", float("nan")) \
            if getattr(rebuy, "model_", None) is not None else float("nan")
        return float(np.clip(rate, 0.005, 0.5)) if np.isfinite(rate) else 0.1

    # ----------------------------------------------------------------- moods
    def mood_of(self, row: int) -> Mood:
        """The mood learned from reviews for a customer row (unknown for anonymous)."""
        self._check_fitted()
        if row < 0:
            return Mood()
        cid = str(self.data_.customer_ids[row])
        return mood_from_row(self.moods_.loc[cid] if cid in self.moods_.index else None)

    def _unhappy_mask(self, mood: Mood) -> np.ndarray:
        brands = np.isin(self.brand_labels_, list(mood.unhappy_brands))
        cats = np.isin(self.category_labels_, list(mood.unhappy_categories))
        mask = np.zeros(self.data_.n_items, dtype=bool)
        if brands.any():
            mask |= (self.brand_codes_ >= 0) & brands[np.maximum(self.brand_codes_, 0)]
        if cats.any():
            mask |= (self.category_codes_ >= 0) & cats[np.maximum(self.category_codes_, 0)]
        return mask

    # ----------------------------------------------------------------- scoring
    def row_weights(self, rows: np.ndarray, weights: Mapping[str, float] | None = None
                    ) -> dict[str, np.ndarray]:
        """Per recommender, its weight for each row after the cold-start rules."""
        self._check_fitted()
        base = {**self.weights_, **check_weights(weights or {}, self.recommenders_)}
        activity = np.where(rows >= 0, self.data_.activity[np.maximum(rows, 0)], 0)
        ramp = np.clip(activity / max(self.cold_start_events, 1), 0.0, 1.0)
        known = (activity > 0).astype(float)
        out = {}
        for name, w in base.items():
            if name in ("contextual", "trending"):
                out[name] = np.full(len(rows), w)
            elif name == "collaborative":
                out[name] = w * ramp
            else:
                out[name] = w * known
        return out

    def blend_rows(
        self,
        rows: np.ndarray,
        context: Contexts = None,
        *,
        weights: Mapping[str, float] | None = None,
        moods: list[Mood] | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Final 0..100 scores (0: not to be shown) and each recommender's points.

        Args:
            rows: customer rows (-1 anonymous).
            context: one context, or one per row.
            weights: overrides of the fitted weights for this call (e.g. dashboard sliders).
            moods: one :class:`Mood` per row overriding the learned ones.

        Returns:
            ``(scores, contributions)``: ``len(rows) x n_items`` arrays; contributions
            by recommender name (plus ``quality`` for dissatisfied customers) sum to scores.
        """
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        overridden = weights is not None and check_weights(weights, self.recommenders_) != {
            n: w for n, w in self.weights_.items() if n in weights}
        if self.ranker_ is not None and not overridden:
            return self._learned_rows(rows, context, moods)
        row_w = self.row_weights(rows, weights)
        points: dict[str, np.ndarray] = {}
        active_weight = np.zeros(len(rows))
        for name, rec in self.recommenders_.items():
            w = row_w[name]
            if not w.any():
                continue
            raw = rec.score_rows(rows, context)
            norm = normalise_rows(raw) if rec.scale is None else \
                np.clip(raw * rec.scale, 0, 100).astype(np.float32)
            has = (raw.max(axis=1) > 0) & (w > 0)
            active_weight += np.where(has, w, 0.0)
            points[name] = norm * w[:, None].astype(np.float32)
        denom = np.where(active_weight > 0, active_weight, 1.0)[:, None].astype(np.float32)
        points = {n: p / denom for n, p in points.items()}
        total = sum(points.values(), np.zeros((len(rows), self.data_.n_items), np.float32))

        # Emotional adaptation, row by row over the (few) dissatisfied customers only.
        if moods is None:
            upset = np.flatnonzero((rows >= 0) & self.dissatisfied_[np.maximum(rows, 0)])
            adapt = [(int(i), self.mood_of(int(rows[i]))) for i in upset]
        else:
            adapt = [(i, m) for i, m in enumerate(moods) if m.dissatisfied]
        for i, mood in adapt:
            keep = np.where(self._unhappy_mask(mood), self.unhappy_penalty, 1.0)
            for name in points:
                points[name][i] *= keep
            scale = 1.0 / (1.0 + self.quality_weight)
            for name in points:
                points[name][i] *= scale
            points.setdefault(QUALITY, np.zeros_like(total))[i] = \
                self.quality_ * keep * self.quality_weight * scale
        if QUALITY in points:
            total = sum((p for p in points.values()), np.zeros_like(total))

        # Never show: out of stock; already bought unless a rebuy is likely.
        hide = np.broadcast_to(~self.data_.in_stock, total.shape).copy()
        known = rows >= 0
        if known.any():
            bought = self.data_.purchase_counts[rows[known]].toarray() > 0
            rebuy = self.recommenders_.get("rebuy")
            if rebuy is not None:
                likely = rebuy.score_rows(rows[known]) >= self.rebuy_threshold_
                bought &= ~likely
            hide[known] |= bought
        total = np.where(hide, 0.0, total).astype(np.float32)
        for name in points:
            points[name] = np.where(hide, 0.0, points[name]).astype(np.float32)
        return total, points

    def _learned_rows(self, rows: np.ndarray, context: Contexts, moods: list[Mood] | None,
                      variant: str = "all") -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The learned ranking's 0..100 scores at each row's candidates (0 elsewhere), and
        each component's share of them by the strength of its evidence at that product."""
        assert self.features_ is not None and self.ranker_ is not None
        cand = self.features_.batch(rows, context)
        score = self.ranker_.score(cand.features, variant)
        if variant == "new":
            score[cand.past] = 0.0
        if moods is None:
            upset = np.flatnonzero((rows >= 0) & self.dissatisfied_[np.maximum(rows, 0)])
            adapt = [(int(i), self.mood_of(int(rows[i]))) for i in upset]
        else:
            adapt = [(i, m) for i, m in enumerate(moods) if m.dissatisfied]
        for i, mood in adapt:
            on = cand.which == i
            unhappy = self._unhappy_mask(mood)[cand.items[on]]
            score[np.flatnonzero(on)[unhappy]] *= self.unhappy_penalty
        shape = (len(rows), self.data_.n_items)
        total = np.zeros(shape, np.float32)
        total[cand.which, cand.items] = score
        names = [n for n in cand.signals if n in self.recommenders_]
        signal = np.stack([cand.signals[n] for n in names]).astype(np.float64)
        weight = np.array([self.weights_.get(n, 0.5) for n in names])[:, None]
        signal = signal * weight
        norm = signal.sum(axis=0)
        fallback = names.index("trending") if "trending" in names else 0
        signal[fallback, norm == 0] = 1.0
        share = signal / np.where(norm > 0, norm, 1.0)
        points: dict[str, np.ndarray] = {}
        for j, name in enumerate(names):
            p = np.zeros(shape, np.float32)
            p[cand.which, cand.items] = score * share[j]
            points[name] = p
        return total, points

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        return self.blend_rows(rows, context)[0]

    def score_new_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        """Like :meth:`score_rows` for products new to each customer only (what they bought
        scores 0), ranked by the model learned for that question."""
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        if self.ranker_ is None:
            scores = self.score_rows(rows, context)
        else:
            scores = self._learned_rows(rows, context, None, "new")[0]
        known = rows >= 0
        if known.any():
            scores[known] = np.where(self.data_.purchase_counts[rows[known]].toarray() > 0, 0.0,
                                     scores[known])
        return scores

    # ----------------------------------------------------------------- explaining
    def explain(self, row: int, items: np.ndarray, context: Context | None = None) -> list[str]:
        _, points = self.blend_rows(np.array([row]), context)
        return self._reasons(row, items, context, {n: p[0] for n, p in points.items()},
                             self.mood_of(row))

    def _reasons(self, row: int, items: np.ndarray, context: Context | None,
                 points: dict[str, np.ndarray], mood: Mood) -> list[str]:
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

    def _pair_reasons(self, rows: np.ndarray, which: np.ndarray, items: np.ndarray,
                      contexts: Contexts, points: dict[str, np.ndarray]) -> list[str]:
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
                    rows[pos], items[pos], [per_pair[i] for i in pos])
        return [str(r) for r in reasons]

    @staticmethod
    def _quality_reason(mood: Mood) -> str:
        bad = sorted(mood.unhappy_brands | mood.unhappy_categories)
        about = f" with {', '.join(bad[:3])}" if bad else ""
        return (f"One of our best-rated products: you seemed unhappy{about} lately, "
                "so we show you what customers rate highest")

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
            Scored(str(self.data_.product_ids[i]), round(float(scores[i]), 2), reason,
                   {n: round(float(p[i]), 2) for n, p in row_points.items()})
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
        contexts = context_list(context, len(rows)) if not isinstance(context, Context) \
            and context is not None else context
        out_rows: list[np.ndarray] = []
        out_items: list[np.ndarray] = []
        out_scores: list[np.ndarray] = []
        out_reasons: list[str] = []
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            ctx: Any = contexts[start:start + batch_size] if isinstance(contexts, list) \
                else contexts
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
        frame = pd.DataFrame({
            "customer_id": self.data_.customer_ids[row_all],
            "product_id": self.data_.product_ids[np.concatenate(out_items)],
            "score": np.round(np.concatenate(out_scores).astype(float), 2),
            "reason": out_reasons,
        })
        frame.insert(1, "rank", frame.groupby("customer_id", sort=False).cumcount() + 1)
        return frame


def compare_contexts(
    blend: BlendRecommender,
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
        return pd.DataFrame({
            "product_id": [s.product_id for s in items],
            f"rank_{suffix}": np.arange(1, len(items) + 1, dtype=float),
            f"score_{suffix}": [s.score for s in items],
            f"reason_{suffix}": [s.reason for s in items],
        })

    out = frame(a, "first").merge(frame(b, "second"), on="product_id", how="outer")
    names = pd.Series(blend.data_.product_names, index=blend.data_.product_ids)
    out.insert(1, "name", out["product_id"].map(names))
    out["movement"] = out["rank_first"] - out["rank_second"]
    return out.sort_values(["rank_second", "rank_first"], na_position="last") \
        .reset_index(drop=True)

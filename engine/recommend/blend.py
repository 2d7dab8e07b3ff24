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
recommender with the largest share. With too little history to learn from, with
per-call weight overrides (the dashboard's sliders), or for an anonymous visitor (the
ranking is learned on customers' histories), the weighted rules below apply. On every
path the list is then composed (:mod:`.composition`): a durable the customer owns is
never shown again, and with a context given its best-fitting products get room.

The weighted rules (``ranker="weights"``) are in :mod:`.weighted`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from engine.errors import UserError

from .base import Contexts, Recommender, StoreData, context_list
from .collaborative import CollaborativeRecommender
from .composition import durable_items, merge_rows, place_context_picks
from .content import ContentRecommender
from .context import Context
from .contextual import ContextualRecommender
from .emotion import Mood, StoreMoods, item_quality
from .lists import ListedRecommender
from .rebuy import RebuyRecommender
from .rerank import NEEDED, CandidateFeatures, Ranker, fit_ranker
from .trending import TrendingRecommender
from .weighted import weighted_rows

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


def default_recommenders() -> dict[str, Recommender]:
    """A fresh, unfitted instance of every recommender the blend combines."""
    return {
        r.name: r
        for r in (
            ContextualRecommender(),
            CollaborativeRecommender(),
            ContentRecommender(),
            TrendingRecommender(),
            RebuyRecommender(),
        )
    }


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


class BlendRecommender(ListedRecommender):
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
        durable_rate: repeat rate below which a product counts as durable: one the
            customer bought is never shown again (see :mod:`.composition`).
        context_slots, context_rank, context_lift: with a context given, this many of
            the products it multiplies the odds of by at least ``context_lift`` are
            placed from rank ``context_rank`` on (:mod:`.composition`; 0 slots: none).
        ranker: ``"learned"`` (default) or ``"weights"`` (the weighted rules only).
        horizon_days: the learned ranking's label window at the end of the fitted period.
        random_state: seed of the ranker's sampling and trees.

    Learned state: ``recommenders_`` (fitted), ``ranker_`` (None: weighted rules),
    ``settings_`` (what was chosen on the label window, for reports), ``moods_`` (the
    profile's emotional states, :class:`~engine.recommend.emotion.StoreMoods`),
    ``durable_`` (per product, see :mod:`.composition`), ``quality_`` (0..100 per product).
    """

    name = "blend"
    label = "Blend"

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        rebuy_threshold: float | str = "auto",
        cold_start_events: int = 5,
        unhappy_penalty: float = 0.3,
        quality_weight: float = 0.6,
        durable_rate: float = 0.02,
        context_slots: int = 2,
        context_rank: int = 4,
        context_lift: float = 2.0,
        recommenders: Mapping[str, Recommender] | None = None,
        ranker: str = "learned",
        horizon_days: float = 30.0,
        random_state: int | None = 0,
    ) -> None:
        self.weights = weights
        self.rebuy_threshold = rebuy_threshold
        self.cold_start_events = cold_start_events
        self.unhappy_penalty = unhappy_penalty
        self.quality_weight = quality_weight
        self.durable_rate = durable_rate
        self.context_slots = context_slots
        self.context_rank = context_rank
        self.context_lift = context_lift
        self.recommenders = recommenders
        self.ranker = ranker
        self.horizon_days = horizon_days
        self.random_state = random_state

    def _fit(self, data: StoreData) -> None:
        if self.ranker not in ("learned", "weights"):
            raise UserError(f"invalid ranker {self.ranker!r}; valid values: learned, weights")
        components = dict(self.recommenders) if self.recommenders else default_recommenders()
        # A component already fitted on this very data (e.g. by the evaluation) is reused.
        self.recommenders_ = {
            name: r if getattr(r, "data_", None) is data else r.fit(data)
            for name, r in components.items()
        }
        self.weights_ = {
            **{n: DEFAULT_WEIGHTS.get(n, 0.5) for n in self.recommenders_},
            **check_weights(self.weights or {}, self.recommenders_),
        }
        self.rebuy_threshold_ = self._threshold()
        self.durable_ = durable_items(data, self.durable_rate)
        self.moods_ = StoreMoods.of(data, self.unhappy_penalty)
        quality = item_quality(data.reviews, data.product_ids)
        # Only clearly good products earn points: 3.5 stars -> 0, 5 stars -> 100.
        self.quality_ = np.nan_to_num(np.clip((quality - 3.5) / 1.5, 0, 1) * 100).astype(np.float32)
        self.ranker_: Ranker | None = None
        self.features_: CandidateFeatures | None = None
        self.settings_: dict[str, Any] = {"ranker": "weights"}
        if self.ranker == "learned" and all(n in self.recommenders_ for n in NEEDED):
            self._fit_ranker(data)
        if self.ranker_ is None:
            self.settings_.update(
                weights=dict(self.weights_), rebuy_threshold=round(self.rebuy_threshold_, 4)
            )

    def _fit_ranker(self, data: StoreData) -> None:
        """The learned ranking (see :mod:`.rerank`): trained inside ``data``'s period on a
        label window of ``horizon_days`` at its end; the rebuy gate is part of it (a bought
        product ranks where the model puts it among the new ones)."""
        # The inner fit needs only what the features read (affinities come from the data).
        parts = {n: self.recommenders_[n] for n in NEEDED}

        def fresh() -> dict[str, Recommender]:
            return {n: type(r)(**r.get_params()) for n, r in parts.items()}

        ranker = fit_ranker(
            data, fresh, horizon_days=self.horizon_days, random_state=self.random_state
        )
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
        rate = (
            getattr(rebuy, "new_item_rate_", float("nan"))
            if getattr(rebuy, "model_", None) is not None
            else float("nan")
        )
        return float(np.clip(rate, 0.005, 0.5)) if np.isfinite(rate) else 0.1

    def mood_of(self, row: int) -> Mood:
        """The profile's mood of a customer row (unknown for anonymous rows)."""
        self._check_fitted()
        return self.moods_.mood_of(row)

    # ----------------------------------------------------------------- scoring
    def row_weights(
        self, rows: np.ndarray, weights: Mapping[str, float] | None = None
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
            n: w for n, w in self.weights_.items() if n in weights
        }
        contexts = context_list(context, len(rows))
        if self.ranker_ is not None and not overridden:
            # The learned ranking knows customers; a visitor gets the cold-start rules.
            known = rows >= 0
            parts = []
            for mask, learned in ((known, True), (~known, False)):
                if mask.any():
                    where = np.flatnonzero(mask)
                    ctx = [contexts[i] for i in where]
                    mood = None if moods is None else [moods[i] for i in where]
                    parts.append(
                        (
                            where,
                            self._learned_rows(rows[where], ctx, mood)
                            if learned
                            else self._weighted_rows(rows[where], ctx, None, mood),
                        )
                    )
            total, points = merge_rows(len(rows), self.data_.n_items, parts)
        else:
            total, points = self._weighted_rows(rows, contexts, weights, moods)
        self._compose(rows, contexts, total, points)
        return total, points

    def _compose(
        self,
        rows: np.ndarray,
        contexts: list[Context | None],
        total: np.ndarray,
        points: dict[str, np.ndarray],
    ) -> None:
        """The list rules of :mod:`.composition`, in place: owned durables hidden, then
        the context's best-fitting products given room."""
        known = rows >= 0
        bought = np.zeros(total.shape, dtype=bool)
        if known.any():
            bought[known] = self.data_.purchase_counts[rows[known]].toarray() > 0
        hide = bought & self.durable_[None, :]
        if hide.any():
            total[hide] = 0.0
            for p in points.values():
                p[hide] = 0.0
        contextual = self.recommenders_.get("contextual")
        if (
            not isinstance(contextual, ContextualRecommender)
            or not self.context_slots
            or all(c is None or c.is_empty for c in contexts)
        ):
            return
        fit = contextual.score_rows(rows, contexts) / np.maximum(contextual.prior_, 1e-6)
        eligible = ~bought & self.data_.in_stock & contextual.explicit_rows(rows, contexts)
        place_context_picks(
            total,
            points,
            fit,
            eligible,
            slots=self.context_slots,
            rank=self.context_rank,
            min_lift=self.context_lift,
        )

    def _weighted_rows(
        self,
        rows: np.ndarray,
        context: Contexts,
        weights: Mapping[str, float] | None,
        moods: list[Mood] | None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return weighted_rows(self, rows, context, weights, moods)

    def _learned_rows(
        self, rows: np.ndarray, context: Contexts, moods: list[Mood] | None, variant: str = "all"
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The learned ranking's 0..100 scores at each row's candidates (0 elsewhere), and
        each component's share of them by the strength of its evidence at that product."""
        assert self.features_ is not None and self.ranker_ is not None
        cand = self.features_.batch(rows, context)
        score = self.ranker_.score(cand.features, variant)
        if variant == "new":
            score[cand.past] = 0.0
        for i, mood in self.moods_.adapting(rows, moods):
            on = np.flatnonzero(cand.which == i)
            score[on] *= self.moods_.keep(mood)[cand.items[on]]
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
            contexts = context_list(context, len(rows))
            known = rows >= 0
            parts = []
            if known.any():
                where = np.flatnonzero(known)
                parts.append(
                    (
                        where,
                        self._learned_rows(rows[where], [contexts[i] for i in where], None, "new"),
                    )
                )
            if (~known).any():
                where = np.flatnonzero(~known)
                parts.append(
                    (
                        where,
                        self._weighted_rows(rows[where], [contexts[i] for i in where], None, None),
                    )
                )
            scores, points = merge_rows(len(rows), self.data_.n_items, parts)
            self._compose(rows, contexts, scores, points)
        known = rows >= 0
        if known.any():
            scores[known] = np.where(
                self.data_.purchase_counts[rows[known]].toarray() > 0, 0.0, scores[known]
            )
        return scores

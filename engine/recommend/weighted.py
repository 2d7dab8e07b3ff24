"""The blend's weighted rules (``ranker="weights"``): with too little history to learn
from, with per-call weight overrides (the dashboard's sliders), or for an anonymous visitor.

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
* a dissatisfied or very dissatisfied customer (the profile's emotional state, see
  :mod:`.emotion`) sees products of the brands and categories they rated badly scaled
  down by ``unhappy_penalty`` (squared when very dissatisfied), and the best-rated
  products lifted by ``quality_weight``; the reason says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .base import Contexts, normalise_rows
from .emotion import Mood
from .lists import QUALITY

if TYPE_CHECKING:
    from .blend import BlendRecommender


def weighted_rows(
    blend: BlendRecommender,
    rows: np.ndarray,
    context: Contexts,
    weights: Mapping[str, float] | None,
    moods: list[Mood] | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The weighted rules (see the module docstring) for some rows of ``blend``'s
    customers (-1: anonymous): the 0..100 scores and each recommender's points."""
    row_w = blend.row_weights(rows, weights)
    points: dict[str, np.ndarray] = {}
    active_weight = np.zeros(len(rows))
    for name, rec in blend.recommenders_.items():
        w = row_w[name]
        if not w.any():
            continue
        raw = rec.score_rows(rows, context)
        norm = (
            normalise_rows(raw)
            if rec.scale is None
            else np.clip(raw * rec.scale, 0, 100).astype(np.float32)
        )
        has = (raw.max(axis=1) > 0) & (w > 0)
        active_weight += np.where(has, w, 0.0)
        points[name] = norm * w[:, None].astype(np.float32)
    denom = np.where(active_weight > 0, active_weight, 1.0)[:, None].astype(np.float32)
    points = {n: p / denom for n, p in points.items()}
    total = sum(points.values(), np.zeros((len(rows), blend.data_.n_items), np.float32))

    # Emotional adaptation, row by row over the (few) dissatisfied customers only.
    for i, mood in blend.moods_.adapting(rows, moods):
        keep = blend.moods_.keep(mood)
        for name in points:
            points[name][i] *= keep
        scale = 1.0 / (1.0 + blend.quality_weight)
        for name in points:
            points[name][i] *= scale
        points.setdefault(QUALITY, np.zeros_like(total))[i] = (
            blend.quality_ * keep * blend.quality_weight * scale
        )
    if QUALITY in points:
        total = sum((p for p in points.values()), np.zeros_like(total))

    # Never show: out of stock; already bought unless a rebuy is likely.
    hide = np.broadcast_to(~blend.data_.in_stock, total.shape).copy()
    known = rows >= 0
    if known.any():
        bought = blend.data_.purchase_counts[rows[known]].toarray() > 0
        rebuy = blend.recommenders_.get("rebuy")
        if rebuy is not None:
            likely = rebuy.score_rows(rows[known]) >= blend.rebuy_threshold_
            bought &= ~likely
        hide[known] |= bought
    total = np.where(hide, 0.0, total).astype(np.float32)
    for name in points:
        points[name] = np.where(hide, 0.0, points[name]).astype(np.float32)
    return total, points

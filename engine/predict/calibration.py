"""Calibration of :class:`engine.predict.next_purchase.PurchasePredictor` on inner holdouts.

Both choices are made on data before ``as_of`` only: at a few inner cut-offs the
repeat-buying model is refitted on what came before, and what customers did next
chooses the weight of the model's date against the naive "last purchase + mean gap"
(the median absolute error of those who bought) and the map from the model's raw
probability of a purchase near the predicted date to a ``confidence`` that means it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from .naive import NaiveNextPurchase
from .summary import DAY, summary_from_purchase_days

if TYPE_CHECKING:
    from .next_purchase import PurchasePredictor


class _PlattMap:
    """Platt scaling: a logistic curve on the logit of the raw probability (two
    parameters, so it cannot overfit the inner holdout the way a step function can)."""

    def fit(self, raw: np.ndarray, hit: np.ndarray) -> _PlattMap:
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(C=1e6).fit(self._features(raw), hit.astype(int))
        return self

    @staticmethod
    def _features(raw: np.ndarray) -> np.ndarray:
        clipped = np.clip(np.asarray(raw, dtype=float), 1e-6, 1 - 1e-6)
        return np.log(clipped / (1 - clipped)).reshape(-1, 1)

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict_proba(self._features(raw))[:, 1])


def make_calibrator(kind: str) -> Any:
    """The confidence map: ``isotonic`` (a monotone step function) or ``platt``."""
    if kind == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    if kind == "platt":
        return _PlattMap()
    raise ValueError(f"unknown calibration {kind!r}; valid: isotonic, platt")


def date_weights_grid() -> np.ndarray:
    """The candidate weights of the model's date in the blend with the naive one."""
    return np.round(np.linspace(0.0, 1.0, 21), 2)


def _inner_split(
    predictor: PurchasePredictor, days: pd.DataFrame, inner_end: pd.Timestamp, stop: pd.Timestamp
) -> dict[str, Any] | None:
    """Fit at ``inner_end`` on the purchase days before it and observe what happened
    in ``[inner_end, stop)``: the model's and the naive offsets, the actual first
    purchase offset, and everything needed to score a predicted date."""
    before = days.loc[days["day"] < inner_end]
    if before["customer_id"].nunique() < predictor.min_calibration_customers:
        return None
    summary = summary_from_purchase_days(before, observation_period_end=inner_end)
    # Warm start from the main fit: the inner store is the same store, a little younger.
    model = predictor._fit_repeat_model(summary, start=predictor.repeat_model_.params_)
    naive = NaiveNextPurchase().fit(summary)
    after = days.loc[(days["day"] >= inner_end) & (days["day"] < stop)]
    # hash lookups into the summary's index (``isin`` on strings is far slower)
    pos = summary.index.get_indexer(after["customer_id"])
    known = pos >= 0
    offsets = ((after["day"] - inner_end) / DAY).to_numpy()[known]
    pos = pos[known]
    first_after = np.full(len(summary), np.inf)
    np.minimum.at(first_after, pos, offsets)
    parts = predictor._date_parts(model, naive, summary, inner_end, 1.0)
    return {
        "model": model,
        "naive": naive,
        "summary": summary,
        "model_offset": parts["model_offset"],
        "naive_offset": parts["naive_offset"],
        "first_after": first_after,
        "later_offsets": offsets,
        "later_pos": pos,
        "inner_end": inner_end,
    }


def calibrate(
    predictor: PurchasePredictor, days: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[float, Any, dict[str, Any]]:
    """Learn the date blend and the confidence map on inner holdouts before ``as_of``:
    returns ``(date_weight, calibrator or None, info)`` for a fitted ``predictor``.

    Several inner splits, ``calibration_spacing_days`` apart, are pooled: more
    customers per confidence level, so the map follows the data, not its noise.
    """
    length = predictor.calibration_days or (predictor.horizon_days + predictor.window_days)
    first_end = (as_of - pd.Timedelta(days=float(length))).floor("D")
    date_weight = 1.0
    calibrator = None
    info: dict[str, Any] = {"inner_as_of": [], "customers": 0}
    splits = []
    for k in range(predictor.calibration_splits):
        inner_end = first_end - pd.Timedelta(days=float(k * predictor.calibration_spacing_days))
        stop = inner_end + pd.Timedelta(days=float(length))
        split = _inner_split(predictor, days, inner_end, stop)
        if split is not None:
            splits.append(split)
    if not splits:
        return date_weight, calibrator, info
    # The blend weight that minimises the median absolute date error of the customers
    # who did buy within the horizon, pooled over the splits.
    first = np.concatenate([sp["first_after"] for sp in splits])
    buyers = first <= predictor.horizon_days
    if buyers.sum() >= 20:
        m_off = np.concatenate([sp["model_offset"] for sp in splits])[buyers]
        n_off = np.concatenate([sp["naive_offset"] for sp in splits])[buyers]
        grid = date_weights_grid()
        errors = np.array(
            [
                np.median(
                    np.abs(
                        np.floor(np.clip(w * m_off + (1 - w) * n_off, 0, predictor.horizon_days))
                        - first[buyers]
                    )
                )
                for w in grid
            ]
        )
        # ties go to the model (the larger weight)
        date_weight = float(grid[errors <= errors.min() + 1e-9].max())
    raws, hits = [], []
    for sp in splits:
        parts = predictor._date_parts(
            sp["model"], sp["naive"], sp["summary"], sp["inner_end"], date_weight
        )
        predicted_day = np.floor(parts["offset"])
        # A hit: any purchase day within +/- window of the predicted day.
        pos = sp["later_pos"]
        near = np.abs(sp["later_offsets"] - predicted_day[pos]) <= predictor.window_days
        hit = np.zeros(len(predicted_day), dtype=float)
        hit[np.unique(pos[near])] = 1.0
        raws.append(parts["raw"])
        hits.append(hit)
    raw, hit = np.concatenate(raws), np.concatenate(hits)
    calibrator = make_calibrator(predictor.calibration).fit(raw, hit)
    info = {
        "inner_as_of": [sp["inner_end"].to_pydatetime() for sp in splits],
        "customers": int(len(hit)),
        "hit_rate": float(hit.mean()),
        "date_weight": date_weight,
    }
    return date_weight, calibrator, info

"""Temporal-holdout evaluation of next-purchase predictions against the naive rule.

Fit on order lines strictly before ``as_of``; compare with what the customers did
in ``[as_of, as_of + horizon_days)``. Every figure is reported for the model and for
the naive "last purchase + mean gap" rule side by side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .next_purchase import PurchasePredictor
from .summary import DAY, purchase_days


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else None


def _errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float | None]:
    if len(actual) == 0:
        return {"mean_abs_error_days": None, "median_abs_error_days": None}
    error = np.abs(predicted - actual)
    return {
        "mean_abs_error_days": float(error.mean()),
        "median_abs_error_days": float(np.median(error)),
    }


def calibration_table(confidence: np.ndarray, hit: np.ndarray) -> list[dict[str, Any]]:
    """Confidence deciles (0-10, 10-20, ... 90-100): customers, mean stated confidence, and
    observed percent who bought within the window of their predicted date."""
    bins = np.minimum((np.asarray(confidence) // 10).astype(int), 9)
    rows = []
    for decile in range(10):
        mask = bins == decile
        if mask.any():
            rows.append(
                {
                    "decile": f"{decile * 10}-{decile * 10 + 10}",
                    "customers": int(mask.sum()),
                    "stated": float(np.mean(confidence[mask])),
                    "observed": float(100.0 * np.mean(hit[mask])),
                }
            )
    return rows


def evaluate_predictions(
    order_lines: pd.DataFrame,
    *,
    as_of: datetime,
    horizon_days: int = 90,
    predictor: PurchasePredictor | None = None,
) -> dict[str, Any]:
    """Temporal holdout at ``as_of``: the model vs the naive rule.

    Args:
        order_lines: all order lines (columns ``customer_id, order_id, ordered_at, amount``;
            ``category`` optional), before and after ``as_of``.
        as_of: the split; the predictor sees only rows strictly before it.
        horizon_days: the holdout window for "buys within", purchase counts and the
            date error.
        predictor: an unfitted predictor to use (default: ``PurchasePredictor(horizon_days=...)``).

    Returns:
        A JSON-ready dict: ``as_of``, ``horizon_days``, ``holdout_days_observed``,
        ``customers``, ``buyers``; ``date_error`` (customers whose next purchase fell within
        the horizon: mean/median absolute error in days, model vs naive, and the same over
        every customer who bought after as_of as ``date_error_all_buyers``);
        ``buy_within_horizon`` (AUC and Brier score, model vs naive, base rate);
        ``purchase_counts`` (totals and a per-decile table of predicted vs actual purchase
        days); ``window_hit_rate`` (share of customers buying within +/- window of the
        predicted date, model vs naive); ``calibration`` (confidence deciles, stated vs
        observed); ``model`` (fitted parameters).
    """
    start = pd.Timestamp(as_of)
    model = (
        predictor if predictor is not None else PurchasePredictor(horizon_days=float(horizon_days))
    )
    model.fit(order_lines, as_of=start)
    predictions = model.predict()
    ids = predictions["customer_id"].to_numpy()
    summary = model.summary_.reindex(ids)
    naive = model.naive_.predict(summary, as_of=start, horizon_days=float(horizon_days))

    end = start + pd.Timedelta(days=horizon_days)
    later_lines = order_lines.loc[order_lines["ordered_at"] >= start]
    later = purchase_days(later_lines, observation_period_end=pd.Timestamp.max.floor("D"))
    later = later.loc[later["customer_id"].isin(ids)]
    later_offset = ((later["day"] - start.floor("D")) / DAY).to_numpy()
    position = pd.Series(np.arange(len(ids)), index=ids).reindex(later["customer_id"]).to_numpy()
    first_after = np.full(len(ids), np.nan)
    np.fmin.at(first_after, position, later_offset)
    within = later["day"].to_numpy() < end.to_datetime64()
    actual_count = np.bincount(position[within], minlength=len(ids)).astype(float)
    observed_until = later["day"].max() if len(later) else start
    bought = (actual_count > 0).astype(float)

    start_day = start.floor("D")
    model_day = ((predictions["predicted_date"] - start_day) / DAY).to_numpy()
    naive_day = ((naive["predicted_date"] - start_day) / DAY).to_numpy()
    in_horizon = bought > 0
    any_after = np.isfinite(first_after)
    window = model.window_days
    model_hit = np.zeros(len(ids))
    naive_hit = np.zeros(len(ids))
    model_hit[np.unique(position[np.abs(later_offset - model_day[position]) <= window])] = 1.0
    naive_hit[np.unique(position[np.abs(later_offset - naive_day[position]) <= window])] = 1.0

    p_model = (
        predictions[f"p_buy_{horizon_days}d"].to_numpy()
        if f"p_buy_{horizon_days}d" in predictions
        else model.purchase_probabilities([horizon_days])[f"p_buy_{horizon_days}d"].to_numpy()
    )
    p_naive = naive["p_buy"].to_numpy()
    count_model = model.repeat_model_.conditional_expected_number_of_purchases_up_to_time(
        float(horizon_days),
        *(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")),
    )
    count_naive = naive["expected_purchases"].to_numpy()
    order = np.argsort(count_model, kind="stable")
    decile_of = np.empty(len(ids), dtype=int)
    decile_of[order] = (np.arange(len(ids)) * 10) // max(len(ids), 1)
    deciles = [
        {
            "decile": d + 1,
            "customers": int((decile_of == d).sum()),
            "predicted_model": float(count_model[decile_of == d].sum()),
            "predicted_naive": float(count_naive[decile_of == d].sum()),
            "actual": float(actual_count[decile_of == d].sum()),
        }
        for d in range(10)
        if (decile_of == d).any()
    ]
    return {
        "as_of": start.to_pydatetime(),
        "horizon_days": horizon_days,
        "holdout_days_observed": float((observed_until - start_day) / DAY) + 1.0
        if len(later)
        else 0.0,
        "customers": int(len(ids)),
        "buyers": int(in_horizon.sum()),
        "date_error": {
            "customers": int(in_horizon.sum()),
            "model": _errors(model_day[in_horizon], first_after[in_horizon]),
            "naive": _errors(naive_day[in_horizon], first_after[in_horizon]),
        },
        "date_error_all_buyers": {
            "customers": int(any_after.sum()),
            "model": _errors(model_day[any_after], first_after[any_after]),
            "naive": _errors(naive_day[any_after], first_after[any_after]),
        },
        "buy_within_horizon": {
            "base_rate": float(bought.mean()) if len(ids) else None,
            "model": {
                "auc": _auc(bought, p_model),
                "brier": float(np.mean((p_model - bought) ** 2)),
            },
            "naive": {
                "auc": _auc(bought, p_naive),
                "brier": float(np.mean((p_naive - bought) ** 2)),
            },
        },
        "purchase_counts": {
            "actual": float(actual_count.sum()),
            "model": float(count_model.sum()),
            "naive": float(count_naive.sum()),
            "deciles": deciles,
        },
        "window_hit_rate": {
            "window_days": window,
            "model": float(model_hit.mean()),
            "naive": float(naive_hit.mean()),
            "model_mean_confidence": float(predictions["confidence"].mean() / 100.0),
        },
        "calibration": calibration_table(predictions["confidence"].to_numpy(), model_hit),
        "model": {**model.params_, "calibration": model.calibration_info_},
    }

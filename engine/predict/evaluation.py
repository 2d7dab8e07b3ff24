"""Temporal-holdout evaluation of next-purchase predictions against the baselines.

Fit on order lines strictly before ``as_of``; compare with what the customers did
in ``[as_of, as_of + horizon_days)``. Four methods, each fitted only on data before
``as_of``: ours (:class:`PurchasePredictor`), plain BG/NBD, the naive "last purchase +
mean gap" rule, and a constant base rate (the share of customers who bought in the
``horizon_days`` before ``as_of`` among those known before that window).

Date errors are reported over the customers who bought within the window and over
**everyone**: a customer who did not buy within the window counts with its end as a
lower bound on their next purchase, so their error is ``max(0, window_end - predicted)``
(a date inside the window was wrong by at least that much; a date past it may be right).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .bgnbd import BetaGeoFitter
from .next_purchase import PurchasePredictor
from .outlook import MAX_OFFSET_DAYS
from .summary import DAY, purchase_days, summary_from_purchase_days


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


def everyone_errors(
    predicted: np.ndarray, first_after: np.ndarray, horizon: float
) -> dict[str, float | None]:
    """Absolute date errors over every customer: exact for those whose first purchase
    fell within ``[0, horizon)`` days, and ``max(0, horizon - predicted)`` (the window's
    end as a lower bound on their purchase) for everyone else."""
    if len(predicted) == 0:
        return {"mean_abs_error_days": None, "median_abs_error_days": None}
    bought = np.isfinite(first_after) & (first_after < horizon)
    error = np.where(
        bought,
        np.abs(predicted - np.where(bought, first_after, 0.0)),
        np.maximum(horizon - predicted, 0.0),
    )
    return {
        "mean_abs_error_days": float(error.mean()),
        "median_abs_error_days": float(np.median(error)),
    }


def probability_calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """P(buy) in ``bins`` equal-width bins: customers, mean stated and observed share (0..1)."""
    which = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
                    "customers": int(mask.sum()),
                    "stated": float(np.mean(p[mask])),
                    "observed": float(np.mean(y[mask])),
                }
            )
    return rows


def _scores(p: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    return {"brier": float(np.mean((p - y) ** 2)) if len(y) else None, "auc": _auc(y, p)}


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
        A JSON-ready dict. ``methods`` holds, per method (``ours``, ``bgnbd``, ``naive``,
        ``base_rate``): ``brier``, ``auc`` of P(buy within the horizon),
        ``date_error_buyers`` and ``date_error_everyone`` (mean/median absolute error in
        days; None for the constant, which has no date), ``fit_seconds``,
        ``predict_seconds``. ``date_error_everyone`` (model, naive, bgnbd) and
        ``p_buy_calibration`` (P(buy) bins, stated vs observed) as well. Also ``as_of``,
        ``horizon_days``, ``holdout_days_observed``,
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
    clock = time.perf_counter()
    model.fit(order_lines, as_of=start)
    fit_ours = time.perf_counter() - clock
    clock = time.perf_counter()
    predictions = model.predict()
    predict_ours = time.perf_counter() - clock
    ids = predictions["customer_id"].to_numpy()
    summary = model.summary_.reindex(ids)
    clock = time.perf_counter()
    naive = model.naive_.predict(summary, as_of=start, horizon_days=float(horizon_days))
    predict_naive = time.perf_counter() - clock
    x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    clock = time.perf_counter()
    plain = BetaGeoFitter(penalizer_coef=model.penalizer_coef).fit(x, t_x, big_t)
    fit_bgnbd = time.perf_counter() - clock
    clock = time.perf_counter()
    p_bgnbd = plain.probability_of_purchase_within(float(horizon_days), x, t_x, big_t)
    # its date: the median wait to the next purchase if alive (no horizon), as a
    # practitioner reads the model
    bgnbd_day = np.floor(
        np.minimum(plain.time_to_next_purchase_quantile(0.5, x, big_t), MAX_OFFSET_DAYS)
    )
    predict_bgnbd = time.perf_counter() - clock
    # the constant: customers known before the last window before as_of, and the share
    # of them who bought in it (only data before as_of)
    clock = time.perf_counter()
    window_start = start - pd.Timedelta(days=horizon_days)
    known = summary_from_purchase_days(model.days_, observation_period_end=window_start)
    came_back = model.days_.loc[model.days_["day"] >= window_start, "customer_id"].unique()
    base_rate = float(known.index.isin(came_back).mean()) if len(known) else 0.5
    fit_base = time.perf_counter() - clock

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
    p_base = np.full(len(ids), base_rate)
    horizon = float(horizon_days)
    date_everyone = {
        "customers": int(len(ids)),
        "model": everyone_errors(model_day, first_after, horizon),
        "naive": everyone_errors(naive_day, first_after, horizon),
        "bgnbd": everyone_errors(bgnbd_day, first_after, horizon),
    }
    methods = {
        "ours": {
            **_scores(p_model, bought),
            "date_error_buyers": _errors(model_day[in_horizon], first_after[in_horizon]),
            "date_error_everyone": date_everyone["model"],
            "fit_seconds": fit_ours,
            "predict_seconds": predict_ours,
        },
        "bgnbd": {
            **_scores(p_bgnbd, bought),
            "date_error_buyers": _errors(bgnbd_day[in_horizon], first_after[in_horizon]),
            "date_error_everyone": date_everyone["bgnbd"],
            "fit_seconds": fit_bgnbd,
            "predict_seconds": predict_bgnbd,
        },
        "naive": {
            **_scores(p_naive, bought),
            "date_error_buyers": _errors(naive_day[in_horizon], first_after[in_horizon]),
            "date_error_everyone": date_everyone["naive"],
            "fit_seconds": 0.0,
            "predict_seconds": predict_naive,
        },
        "base_rate": {
            **_scores(p_base, bought),
            "date_error_buyers": None,
            "date_error_everyone": None,
            "fit_seconds": fit_base,
            "predict_seconds": 0.0,
            "rate": base_rate,
        },
    }
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
        "date_error_everyone": date_everyone,
        "methods": methods,
        "p_buy_calibration": probability_calibration(p_model, bought),
        "buy_within_horizon": {
            "base_rate": float(bought.mean()) if len(ids) else None,
            "bgnbd": _scores(p_bgnbd, bought),
            "constant": {**_scores(p_base, bought), "rate": base_rate},
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

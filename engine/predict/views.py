"""Views over predictions: the store's outlook, slipping high-value customers, exports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .next_purchase import OUTLOOK_WINDOWS, OUTPUT_COLUMNS, PurchasePredictor
from .summary import summary_from_purchase_days


def store_outlook(
    predictions: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    windows: Sequence[int] = OUTLOOK_WINDOWS,
) -> pd.DataFrame:
    """Expected number of customers buying within 7, 30 and 90 days, overall and by segment.

    Args:
        predictions: :meth:`PurchasePredictor.predict` output (columns ``customer_id`` and
            ``p_buy_{w}d`` for each window).
        segments: optional ``customer_id, segment`` memberships (a customer may be in several).
        windows: which windows to report (each must have its ``p_buy_{w}d`` column).

    Returns:
        Columns ``segment`` (``"all customers"`` first), ``customers``, and
        ``expected_buyers_{w}d`` per window (sum of the customers' probabilities).
    """
    columns = [f"p_buy_{w}d" for w in windows]
    missing = [c for c in columns if c not in predictions]
    if missing:
        raise ValueError(f"predictions lack {', '.join(missing)}; valid windows: {OUTLOOK_WINDOWS}")
    parts = [predictions[["customer_id", *columns]].assign(segment="all customers")]
    if segments is not None and len(segments):
        joined = (
            segments[["customer_id", "segment"]]
            .astype({"customer_id": str})
            .merge(predictions[["customer_id", *columns]], on="customer_id", how="inner")
        )
        parts.append(joined)
    rows = pd.concat(parts, ignore_index=True)
    grouped = rows.groupby("segment", sort=False)
    result = grouped[columns].sum()
    result.columns = [f"expected_buyers_{w}d" for w in windows]
    result.insert(0, "customers", grouped.size())
    return result.reset_index()


def slipping_high_value(
    predictor: PurchasePredictor,
    *,
    predictions: pd.DataFrame | None = None,
    lookback_days: float = 90.0,
    value_quantile: float = 0.8,
    min_drop: float = 0.05,
    limit: int | None = 100,
) -> pd.DataFrame:
    """High-value customers whose ``p_active`` fell over the last ``lookback_days``.

    High value: total spend before as_of at or above the ``value_quantile`` of buyers.
    ``p_active_before`` is computed from purchases before ``as_of - lookback_days`` with
    the same fitted parameters, so the drop reflects the customer's silence, not a refit.

    Returns:
        Columns ``customer_id, total_spend, clv_12m, p_active_before, p_active,
        p_active_drop, last_purchase``, biggest drop first (ties: bigger spenders first).
    """
    predictor._check_fitted()
    now = predictions if predictions is not None else predictor.predict()
    then_end = predictor.as_of_ - pd.Timedelta(days=float(lookback_days))
    then = summary_from_purchase_days(predictor.days_, observation_period_end=then_end)
    x, t_x, big_t = (then[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    before = pd.Series(
        predictor.repeat_model_.conditional_probability_alive(x, t_x, big_t),
        index=then.index,
        name="p_active_before",
    )
    spend = now.set_index("customer_id")["total_spend"]
    threshold = spend[spend > 0].quantile(value_quantile) if (spend > 0).any() else np.inf
    frame = now.loc[
        now["total_spend"] >= threshold,
        ["customer_id", "total_spend", "clv_12m", "p_active", "last_purchase"],
    ]
    frame = frame.merge(before, left_on="customer_id", right_index=True, how="inner")
    frame["p_active_drop"] = frame["p_active_before"] - frame["p_active"]
    frame = frame.loc[frame["p_active_drop"] >= min_drop]
    frame = frame.sort_values(["p_active_drop", "total_spend"], ascending=[False, False])
    columns = [
        "customer_id",
        "total_spend",
        "clv_12m",
        "p_active_before",
        "p_active",
        "p_active_drop",
        "last_purchase",
    ]
    frame = frame[columns].reset_index(drop=True)
    return frame if limit is None else frame.head(limit)


def export_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """The ``predict --all --format csv`` columns of the contract, formatted: ISO dates,
    confidence to 0.1, probabilities to 4 decimals, money to cents."""
    out = predictions[OUTPUT_COLUMNS].copy()
    out["predicted_date"] = out["predicted_date"].dt.strftime("%Y-%m-%d")
    out["confidence"] = out["confidence"].round(1)
    out["p_active"] = out["p_active"].round(4)
    out["expected_purchases_90d"] = out["expected_purchases_90d"].round(4)
    out["p_buy_90d"] = out["p_buy_90d"].round(4)
    for column in ("price_low", "price_high", "clv_12m"):
        out[column] = out[column].round(2)
    return out


def prediction_record(row: pd.Series) -> dict[str, Any]:
    """One prediction row as a JSON-ready dict (dates ISO, numbers rounded)."""

    def iso(value: Any) -> str | None:
        return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()

    return {
        "customer_id": row["customer_id"],
        "predicted_date": iso(row["predicted_date"]),
        "predicted_date_low": iso(row["predicted_date_low"]),
        "predicted_date_high": iso(row["predicted_date_high"]),
        "confidence": round(float(row["confidence"]), 1),
        "p_active": round(float(row["p_active"]), 4),
        "expected_purchases_90d": round(float(row["expected_purchases_90d"]), 4),
        "likely_categories": [c for c in str(row["likely_categories"]).split(";") if c],
        "category_probabilities": dict(row["category_probabilities"]),
        "price_low": round(float(row["price_low"]), 2),
        "price_high": round(float(row["price_high"]), 2),
        "clv_12m": round(float(row["clv_12m"]), 2),
        "p_buy_7d": round(float(row["p_buy_7d"]), 4),
        "p_buy_30d": round(float(row["p_buy_30d"]), 4),
        "p_buy_90d": round(float(row["p_buy_90d"]), 4),
        "n_purchases": int(row["n_purchases"]),
        "total_spend": round(float(row["total_spend"]), 2),
        "last_purchase": iso(row["last_purchase"]),
    }

"""Predictions straight from a store: load point-in-time frames, fit, predict.

The CLI and the dashboard call these; the models themselves only see frames.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from engine.errors import UserError
from engine.frames import customer_exists, load_customers, load_order_lines
from engine.models import Customer
from engine.timeutil import resolve_as_of

from .evaluation import evaluate_predictions
from .next_purchase import PurchasePredictor


def fit_store_predictor(
    session: Session, *, as_of: datetime | None = None, **params: float | int | str | None
) -> PurchasePredictor:
    """Fit a :class:`PurchasePredictor` on the store's order lines strictly before ``as_of``
    (default: just after the newest data).

    Raises:
        UserError: there is no order before ``as_of``.
    """
    moment = resolve_as_of(session, as_of)
    lines = load_order_lines(session, as_of=moment)
    if lines.empty:
        raise UserError(
            f"no orders before {moment:%Y-%m-%d %H:%M}: nothing to predict from "
            "(run `personalize seed` or `personalize import --orders FILE`, "
            "or pick a later --as-of)"
        )
    return PurchasePredictor(**params).fit(lines, as_of=moment)  # type: ignore[arg-type]


def store_customer_ids(session: Session, *, as_of: datetime) -> list[str]:
    """Every customer who exists as of ``as_of``: signed up before it, or with any data
    stamped before it (:func:`engine.frames.existing_customers`)."""
    return load_customers(session, as_of=as_of)["customer_id"].astype(str).tolist()


def all_predictions(session: Session, predictor: PurchasePredictor) -> pd.DataFrame:
    """Predictions for every buyer before the predictor's ``as_of`` and every customer
    known by then, sorted by customer id."""
    ids = set(predictor.summary_.index) | set(store_customer_ids(session, as_of=predictor.as_of_))
    return predictor.predict(sorted(ids))


def check_customer(session: Session, customer_id: str, as_of: datetime | None = None) -> None:
    """Refuse a customer the store does not know, or who does not exist yet as of
    ``as_of`` (their first data is at or after it).

    Raises:
        UserError: naming the customer (and the moment).
    """
    if session.get(Customer, customer_id) is None:
        raise UserError(f"unknown customer {customer_id!r}: no such customer in the store")
    moment = resolve_as_of(session, as_of)
    if not customer_exists(session, customer_id, moment):
        raise UserError(
            f"customer {customer_id!r} does not exist as of {moment:%Y-%m-%d %H:%M}: "
            "their first data is later (pick a later --as-of)"
        )


def evaluate_store(
    session: Session, *, as_of: datetime | None = None, horizon_days: int = 90
) -> dict[str, Any]:
    """:func:`engine.predict.evaluation.evaluate_predictions` on the store's orders before
    ``as_of`` (default: just after the newest data).

    The split is ``horizon_days`` before ``as_of``: the models are fitted on the orders
    before the split and scored on ``[split, as_of)``, so nothing at or after ``as_of``
    is read and the whole holdout window is observed.

    Raises:
        UserError: no order before the split.
    """
    end = resolve_as_of(session, as_of)
    moment = end - timedelta(days=horizon_days)
    lines = load_order_lines(session, as_of=end)
    if not (lines["ordered_at"] < pd.Timestamp(moment)).any():
        raise UserError(
            f"no orders before {moment:%Y-%m-%d %H:%M}: cannot evaluate predictions "
            "(pick a later --as-of)"
        )
    return evaluate_predictions(lines, as_of=moment, horizon_days=horizon_days)


def evaluation_rows(result: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """The headline figures of an evaluation as ``(metric, model, naive)`` rows, for printing."""
    date, buy = result["date_error"], result["buy_within_horizon"]
    hits = result["window_hit_rate"]
    counts = result["purchase_counts"]
    return [
        (
            "next purchase: median abs error (days)",
            date["model"]["median_abs_error_days"],
            date["naive"]["median_abs_error_days"],
        ),
        (
            "next purchase: mean abs error (days)",
            date["model"]["mean_abs_error_days"],
            date["naive"]["mean_abs_error_days"],
        ),
        (f"buys within {result['horizon_days']} d: AUC", buy["model"]["auc"], buy["naive"]["auc"]),
        (
            f"buys within {result['horizon_days']} d: Brier",
            buy["model"]["brier"],
            buy["naive"]["brier"],
        ),
        (
            f"purchases in {result['horizon_days']} d (actual {counts['actual']:,.0f})",
            counts["model"],
            counts["naive"],
        ),
        (f"bought within +/-{hits['window_days']:g} d of the date", hits["model"], hits["naive"]),
    ]


METHOD_LABELS = {
    "ours": "ours (P(buy) model + BG/NBD dates)",
    "bgnbd": "BG/NBD (plain)",
    "naive": "last purchase + mean gap",
    "base_rate": "constant base rate",
}
"""How each evaluated prediction method is named in tables."""


def method_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per prediction method of an evaluation, for tables: ``method``, ``brier``,
    ``auc`` (of P(buy within the horizon)), ``buyers_median_days``, ``buyers_mean_days``
    (date errors over customers who bought in the window), ``everyone_median_days``,
    ``everyone_mean_days`` (over everyone, the window's end a lower bound for those who
    did not), ``fit_seconds``, ``predict_seconds``. None where a method has no such figure.
    """
    rows = []
    for name, label in METHOD_LABELS.items():
        method = result["methods"][name]
        buyers = method["date_error_buyers"] or {}
        everyone = method["date_error_everyone"] or {}
        rows.append({
            "method": label, "brier": method["brier"], "auc": method["auc"],
            "buyers_median_days": buyers.get("median_abs_error_days"),
            "buyers_mean_days": buyers.get("mean_abs_error_days"),
            "everyone_median_days": everyone.get("median_abs_error_days"),
            "everyone_mean_days": everyone.get("mean_abs_error_days"),
            "fit_seconds": method["fit_seconds"], "predict_seconds": method["predict_seconds"],
        })  # fmt: skip
    return rows

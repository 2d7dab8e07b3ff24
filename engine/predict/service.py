"""Predictions straight from a store: load point-in-time frames, fit, predict.

The CLI and the dashboard call these; the models themselves only see frames.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from engine.errors import UserError
from engine.frames import load_customers, load_order_lines
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
    """Every customer known before ``as_of``: signed up before it (or with no signup date)."""
    customers = load_customers(session)
    known = customers.loc[
        customers["signup_at"].isna() | (customers["signup_at"] < pd.Timestamp(as_of))
    ]
    return known["customer_id"].astype(str).tolist()


def all_predictions(session: Session, predictor: PurchasePredictor) -> pd.DataFrame:
    """Predictions for every buyer before the predictor's ``as_of`` and every customer
    known by then, sorted by customer id."""
    ids = set(predictor.summary_.index) | set(store_customer_ids(session, as_of=predictor.as_of_))
    return predictor.predict(sorted(ids))


def check_customer(session: Session, customer_id: str) -> None:
    """Refuse a customer the store does not know (every buyer is in ``customers``).

    Raises:
        UserError: naming the customer.
    """
    if session.get(Customer, customer_id) is None:
        raise UserError(f"unknown customer {customer_id!r}: no such customer in the store")


def evaluate_store(
    session: Session, *, as_of: datetime | None = None, horizon_days: int = 90
) -> dict[str, Any]:
    """:func:`engine.predict.evaluation.evaluate_predictions` on the store's orders.

    Without ``as_of`` the split is ``horizon_days`` before the newest data, so the whole
    holdout window is observed.

    Raises:
        UserError: no order before the split.
    """
    newest = resolve_as_of(session, None)
    moment = as_of if as_of is not None else newest - timedelta(days=horizon_days)
    lines = load_order_lines(session)
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

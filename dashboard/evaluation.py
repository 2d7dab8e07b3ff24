"""Cached access to the offline evaluation for the "Evaluation" page.

:func:`run_evaluation` runs :func:`engine.recommend.evaluation.evaluate` as of the
sidebar's date (test window ``[as_of - days, as_of)``) and shapes each protocol's
results as a table; :func:`run_prediction_evaluation` does the same for the purchase
predictions. Both are ``st.cache_data``: an evaluation fits every model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.data import get_engine, versioned
from dashboard.ui import chart_layout
from engine.db import session_scope
from engine.recommend.evaluation import DEFAULT_HOLDOUT_DAYS, PROTOCOLS, evaluate, metrics_frame

PREDICTION_HORIZON_DAYS = 90

LABELS: dict[str, str] = {
    "popularity": "Popularity (baseline)",
    "frequency": "Personal frequency (baseline)",
    "item_knn": "Item-kNN (baseline)",
    "als": "ALS (baseline)",
    "ease": "EASE (baseline)",
    "tifu_knn": "TIFU-KNN (baseline)",
    "contextual": "Contextual",
    "collaborative": "Collaborative",
    "content": "Content-based",
    "trending": "Trending",
    "rebuy": "Buy it again",
    "blend": "Blend",
}
METRICS = {"ndcg": "NDCG", "recall": "Recall", "precision": "Precision",
           "hit_rate": "Hit rate", "past_share": "Past items"}  # fmt: skip
"""Metrics shown at k, in percent; ``past_share`` is the share of top-k slots already bought."""


@dataclass(frozen=True)
class EvaluationView:
    """The recommenders' offline evaluation, ready to show.

    ``tables``: per protocol (``repeat``, ``new``), one row per model: ``model, label``,
    :data:`METRICS` in percent, ``coverage`` (percent), ``fit_seconds, rank_seconds,
    settings`` (text); ``customers``: per protocol, how many were scored.
    """

    tables: dict[str, pd.DataFrame]
    customers: dict[str, int]
    test_from: datetime
    as_of: datetime
    validation_from: datetime | None
    k: int
    products: int


def _settings_text(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items() if not isinstance(v, dict)) or "-"


def _table(report: dict[str, Any], protocol: str) -> pd.DataFrame:
    if not report["protocols"][protocol]["models"]:
        return pd.DataFrame(
            columns=[
                "model",
                "label",
                *METRICS,
                "coverage",
                "fit_seconds",
                "rank_seconds",
                "settings",
            ]
        )
    frame = metrics_frame(report, protocol)
    frame.insert(1, "label", frame["model"].map(LABELS).fillna(frame["model"]))
    frame[[*METRICS, "coverage"]] = frame[[*METRICS, "coverage"]] * 100
    frame["settings"] = frame["settings"].map(_settings_text)
    return frame[
        ["model", "label", *METRICS, "coverage", "fit_seconds", "rank_seconds", "settings"]
    ]


@versioned(show_spinner="Evaluating every recommender...")
def run_evaluation(
    url: str, as_of: datetime | None, k: int = 10, holdout_days: float = DEFAULT_HOLDOUT_DAYS
) -> EvaluationView:
    """Test on ``[as_of - holdout_days, as_of)``, train before it (baselines tuned inside).

    Raises:
        UserError: empty store, bad k, or no purchases in the window.
    """
    with session_scope(get_engine(url)) as session:
        report = evaluate(session, as_of=as_of, k=k, holdout_days=holdout_days)
    report = report["recommendations"]
    return EvaluationView(
        tables={p: _table(report, p) for p in PROTOCOLS},
        customers={p: int(v["customers"]) for p, v in report["protocols"].items()},
        test_from=report["test_from"],
        as_of=report["as_of"],
        validation_from=report["validation_from"],
        k=int(report["k"]),
        products=int(report["products"]),
    )


def ndcg_chart(view: EvaluationView) -> go.Figure | None:
    """NDCG@k per model (bars), one bar group per protocol; the blend dark, baselines grey."""
    if all(t.empty for t in view.tables.values()):
        return None
    figure = go.Figure()
    for protocol, table in view.tables.items():
        figure.add_trace(go.Bar(
            x=table["label"], y=table["ndcg"], name=PROTOCOLS[protocol],
            text=[f"{v:.1f}" for v in table["ndcg"]], textposition="outside",
            hovertemplate=f"%{{x}}<br>{PROTOCOLS[protocol]}: %{{y:.2f}}%<extra></extra>",
        ))  # fmt: skip
    chart_layout(figure, f"NDCG@{view.k} per model (percent)", legend_y=-0.45, hovermode="closest")
    figure.update_layout(barmode="group")
    return figure


@versioned(show_spinner="Evaluating the purchase predictions...")
def run_prediction_evaluation(
    url: str, as_of: datetime | None, horizon_days: int = PREDICTION_HORIZON_DAYS
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The purchase predictions' evaluation, with the window ending at ``as_of``.

    Returns:
        Three tables: one row per method (:func:`engine.predict.service.method_rows`),
        the calibration of our P(buy) (``bin, customers, stated, observed``), and the
        other figures as ``metric, model, naive``.

    Raises:
        UserError: no order before the split.
    """
    from engine.predict.service import evaluate_store, evaluation_rows, method_rows

    with session_scope(get_engine(url)) as session:
        result = evaluate_store(session, as_of=as_of, horizon_days=horizon_days)
    return (
        pd.DataFrame(method_rows(result)),
        pd.DataFrame(result["p_buy_calibration"]),
        pd.DataFrame(evaluation_rows(result), columns=["metric", "model", "naive"]),
    )

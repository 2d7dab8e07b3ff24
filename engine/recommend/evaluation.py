"""Offline evaluation: a temporal holdout before ``as_of``, two protocols, tuned baselines.

As of ``T`` (nothing at or after ``T`` is read), the test window is
``[T - holdout, T)``: every model is fitted on the store strictly before
``T - holdout`` and ranks the whole in-stock catalog for each customer who bought
something in the window; the products they bought there are the right answers.
Each customer is asked in the context of their first order in the window
(weather, time of day, device, place, where the store records them).

Two protocols (see :data:`PROTOCOLS`):

* ``repeat``: repeats allowed, every product they bought in the window counts;
* ``new``: new items only, the customer's past products are removed from both the
  ranking and the right answers (customers left with none are not scored).

Baselines are tuned first, on an inner validation split inside the training
period: fitted before ``T - 2 * holdout``, scored on ``[T - 2 * holdout, T - holdout)``;
each protocol keeps the setting with the best NDCG there, which is then refitted
on the whole training period. The evaluated window is never used to choose anything.
Metrics: see :func:`~engine.recommend.metrics.ranking_metrics`; with them each
model's fit seconds and rank seconds (scoring and sorting every test customer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from engine.errors import UserError

from .als import ALSRecommender
from .base import Recommender, StoreData, top_k
from .blend import BlendRecommender, default_recommenders
from .context import validate_k
from .ease import EASERecommender
from .frequency import PersonalFrequencyRecommender
from .holdout import Holdout, holdout
from .itemknn import ItemKNNRecommender
from .metrics import ranking_metrics
from .popularity import PopularityRecommender
from .tifu import TIFUKNNRecommender

__all__ = [
    "BASELINES",
    "DEFAULT_HOLDOUT_DAYS",
    "PROTOCOLS",
    "Holdout",
    "evaluate",
    "evaluate_store",
    "holdout",
    "ranking_metrics",
]

DEFAULT_HOLDOUT_DAYS = 30.0
PROTOCOLS: dict[str, str] = {"repeat": "repeats allowed", "new": "new items only"}


@dataclass(frozen=True)
class Baseline:
    """A baseline and the small grid it is tuned over (the first setting is the default)."""

    make: Callable[..., Recommender]
    grid: Sequence[Mapping[str, Any]]


BASELINES: dict[str, Baseline] = {
    "popularity": Baseline(PopularityRecommender, [{}]),
    "frequency": Baseline(
        PersonalFrequencyRecommender, [{"half_life_days": h} for h in (90.0, 30.0, 365.0, None)]
    ),
    "item_knn": Baseline(ItemKNNRecommender, [{"neighbours": n} for n in (100, 20, 500)]),
    "als": Baseline(
        ALSRecommender, [{"factors": f, "regularization": r} for f in (64, 32) for r in (0.05, 0.5)]
    ),
    "ease": Baseline(EASERecommender, [{"l2": v} for v in (200.0, 50.0, 1000.0)]),
    "tifu_knn": Baseline(
        TIFUKNNRecommender,
        [
            {"group_size": g, "group_decay": d, "alpha": a}
            for g, d, a in ((7, 0.7, 0.7), (3, 0.7, 0.7), (7, 0.9, 0.9), (7, 0.7, 0.4))
        ],
    ),
}


def rank(
    model: Recommender, test: Holdout, k: int, *, exclude_past: bool, batch_size: int = 256
) -> np.ndarray:
    """Each test customer's top ``k`` of the in-stock catalog (past products excluded
    when ``exclude_past``), as ``customers x k`` product positions."""
    data = model.data_
    hidden = ~data.in_stock
    out = np.zeros((len(test.rows), min(k, data.n_items)), dtype=np.int64)
    for start in range(0, len(test.rows), batch_size):
        stop = start + batch_size
        # A model with its own answer to "new products only" gives it (see the blend).
        score = getattr(model, "score_new_rows", None) if exclude_past else None
        score = score if callable(score) else model.score_rows
        scores = score(test.rows[start:stop], test.contexts[start:stop])
        scores = np.where(hidden[None, :], -np.inf, scores)
        if exclude_past:
            scores[test.past[start:stop].toarray() > 0] = -np.inf
        out[start : start + len(scores)] = top_k(scores, k)
    return out


def _score(
    model: Recommender, test: Holdout, protocol: str, k: int
) -> tuple[dict[str, float], float]:
    view = test.protocol(protocol)
    started = time.perf_counter()
    ranked = rank(model, view, k, exclude_past=protocol == "new")
    seconds = time.perf_counter() - started
    return ranking_metrics(ranked, view.relevant, model.data_.n_items, view.past), seconds


def tune(
    baseline: Baseline, inner: StoreData | None, test: Holdout | None, k: int
) -> dict[str, dict[str, Any]]:
    """Per protocol, the grid setting with the best NDCG@k on the inner validation split
    (the first setting when there is nothing to validate on)."""
    grid = list(baseline.grid)
    best = {p: (-1.0, dict(grid[0])) for p in PROTOCOLS}
    if inner is None or test is None or len(grid) == 1:
        return {p: settings for p, (_, settings) in best.items()}
    for settings in grid:
        model = baseline.make(**settings).fit(inner)
        for protocol in PROTOCOLS:
            if len(test.protocol(protocol).rows) == 0:
                continue
            ndcg = _score(model, test, protocol, k)[0]["ndcg"]
            if ndcg > best[protocol][0]:
                best[protocol] = (ndcg, dict(settings))
    return {p: settings for p, (_, settings) in best.items()}


def _inner_split(train: StoreData, holdout_days: float) -> tuple[StoreData, Holdout] | None:
    start = train.as_of - timedelta(days=holdout_days)
    inner = train.before(start)
    if inner.n_items == 0 or inner.interactions.nnz == 0:
        return None
    test = holdout(train, inner)
    return (inner, test) if len(test.rows) else None


def evaluate_store(
    data: StoreData,
    *,
    holdout_days: float = DEFAULT_HOLDOUT_DAYS,
    k: int = 10,
    baselines: Mapping[str, Baseline] | None = None,
    ours: bool = True,
) -> dict[str, Any]:
    """Evaluate every baseline (tuned), every recommender of ours and the blend on the
    last ``holdout_days`` before ``data.as_of``.

    Args:
        data: the store as of T (nothing at or after T in it).
        holdout_days: length of the test window (and of the inner validation window).
        k: list length, 1..100.
        baselines: name -> :class:`Baseline` (default :data:`BASELINES`).
        ours: also evaluate our recommenders and the blend.

    Returns:
        ``{"as_of", "test_from", "validation_from", "holdout_days", "k", "products",
        "protocols": {protocol: {"label", "customers", "models": {name: {metrics...,
        "fit_seconds", "rank_seconds", "settings"}}}}}``; models in order, the blend last.

    Raises:
        UserError: k outside 1..100, or no purchases by known customers in the window.
    """
    validate_k(k)
    test_from = data.as_of - timedelta(days=holdout_days)
    train = data.before(test_from)
    test = holdout(data, train)
    if len(test.rows) == 0:
        raise UserError(
            f"no purchases by known customers of known products between "
            f"{test_from:%Y-%m-%d %H:%M} and {data.as_of:%Y-%m-%d %H:%M}: choose a later "
            "--as-of or a longer --holdout-days"
        )
    inner = _inner_split(train, holdout_days)
    results: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in PROTOCOLS}

    def record(
        name: str,
        model: Recommender,
        fit_s: float,
        protocols: Sequence[str],
        settings: Mapping[str, Any],
    ) -> None:
        for protocol in protocols:
            if len(test.protocol(protocol).rows) == 0:
                continue
            metrics, rank_s = _score(model, test, protocol, k)
            results[protocol][name] = {
                **metrics,
                "fit_seconds": fit_s,
                "rank_seconds": rank_s,
                "settings": dict(settings),
            }

    for name, baseline in (BASELINES if baselines is None else baselines).items():
        chosen = tune(baseline, inner[0] if inner else None, inner[1] if inner else None, k)
        fitted: dict[str, tuple[Recommender, float]] = {}
        for protocol, settings in chosen.items():
            key = repr(sorted(settings.items(), key=lambda kv: kv[0]))
            if key not in fitted:
                started = time.perf_counter()
                model = baseline.make(**settings).fit(train)
                fitted[key] = (model, time.perf_counter() - started)
            model, fit_s = fitted[key]
            record(name, model, fit_s, [protocol], settings)
    if ours:
        parts: dict[str, Recommender] = {}
        fit_total = 0.0
        for name, model in default_recommenders().items():
            started = time.perf_counter()
            parts[name] = model.fit(train)
            fit_s = time.perf_counter() - started
            fit_total += fit_s
            record(name, parts[name], fit_s, list(PROTOCOLS), parts[name].get_params())
        started = time.perf_counter()
        blend = BlendRecommender(recommenders=parts)
        blend.fit(train)
        fit_s = fit_total + time.perf_counter() - started
        record("blend", blend, fit_s, list(PROTOCOLS), _blend_settings(blend))
    return {
        "as_of": data.as_of,
        "test_from": test_from,
        "validation_from": test_from - timedelta(days=holdout_days) if inner else None,
        "holdout_days": holdout_days,
        "k": k,
        "products": int(train.n_items),
        "protocols": {
            p: {
                "label": PROTOCOLS[p],
                "customers": int(len(test.protocol(p).rows)),
                "models": results[p],
            }
            for p in PROTOCOLS
        },
    }


def _blend_settings(blend: BlendRecommender) -> dict[str, Any]:
    return dict(blend.settings_)


def evaluate(
    session: Session,
    *,
    as_of: datetime | None = None,
    k: int = 10,
    holdout_days: float = DEFAULT_HOLDOUT_DAYS,
) -> dict[str, Any]:
    """The ``evaluate`` command's document, in sections (``{"recommendations": ...}``).

    As of T (default: just after the newest data) the test window is
    ``[T - holdout_days, T)``; only data stamped before T is read.

    Raises:
        UserError: empty store, k outside 1..100, or no purchases in the window.
    """
    validate_k(k)
    data = StoreData.load(session, as_of=as_of)
    if data.n_items == 0 or data.order_lines.empty:
        raise UserError(
            "the store has no orders before the as-of moment: run "
            "`personalize seed` or `personalize import` first, or pick a later --as-of"
        )
    return {"recommendations": evaluate_store(data, holdout_days=holdout_days, k=k)}


def metrics_frame(report: Mapping[str, Any], protocol: str = "repeat") -> pd.DataFrame:
    """One protocol of a report as a frame (one row per model: ``model``, the metrics,
    ``fit_seconds, rank_seconds, settings``), for display."""
    models = report["protocols"][protocol]["models"]
    frame = pd.DataFrame(list(models.values()))
    frame.insert(0, "model", list(models))
    return frame

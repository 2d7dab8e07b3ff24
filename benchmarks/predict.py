"""``personalize bench`` section for predictions (spec ``benchmarks.predict:run``).

Synthesises order frames with numpy (:mod:`engine.predict.simulate`) so the figures
measure the models, not the database: fitting time (repeat-buying model, spend model,
inner calibration, categories and prices) and ``predict --all`` (every customer's
prediction row, as the CLI exports them). The same-run baseline is the naive rule
over the same customers.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from benchmarks.harness import BenchOptions, Metric, stopwatch
from engine.predict.next_purchase import PurchasePredictor
from engine.predict.simulate import simulate_order_lines
from engine.predict.views import export_frame

SECTION = "predict"
FULL_CUSTOMERS = 100_000
QUICK_CUSTOMERS = 10_000


def run(options: BenchOptions) -> list[Metric]:
    """Time fitting and ``predict --all`` on a synthetic store.

    Returns:
        Metrics: fit seconds, predict-all seconds (target < 60 s at 100,000 customers),
        the naive baseline's seconds on the same customers, and rows per second.
    """
    n = int(options.extra.get("customers", QUICK_CUSTOMERS if options.quick else FULL_CUSTOMERS))
    start = datetime(2023, 1, 1)
    lines, _ = simulate_order_lines(n, start=start, days=540, random_state=7)
    as_of = pd.Timestamp(start) + pd.Timedelta(days=540)
    predictor = PurchasePredictor()
    with stopwatch() as fit_time:
        predictor.fit(lines, as_of=as_of)
    with stopwatch() as predict_time:
        # what `predict --all` does after loading: every customer, formatted CSV
        frame = predictor.predict(sorted(predictor.summary_.index))
        csv = export_frame(frame).to_csv(index=False, lineterminator="\n")
    with stopwatch() as naive_time:
        predictor.naive_.predict(predictor.summary_, as_of=as_of)
    note = f"{n:,} customers, {len(lines):,} orders"
    target = 60.0 if n >= FULL_CUSTOMERS else None
    return [
        Metric(
            SECTION,
            "fit (model, spend, calibration, categories, prices)",
            fit_time(),
            "s",
            note=note,
        ),
        Metric(
            SECTION,
            "predict --all (rows + CSV)",
            predict_time(),
            "s",
            target=target,
            note=f"{len(frame):,} rows, {len(csv) / 1e6:.1f} MB",
        ),
        Metric(SECTION, "fit + predict --all", fit_time() + predict_time(), "s", target=target),
        Metric(SECTION, "naive baseline predict (same customers)", naive_time(), "s"),
        Metric(
            SECTION,
            "predict throughput",
            len(frame) / max(predict_time(), 1e-9),
            "rows/s",
            lower_is_better=False,
        ),
    ]

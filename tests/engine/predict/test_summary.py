from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from engine.predict.summary import purchase_days, rfm_summary

from .conftest import lines_frame

ROWS = [
    ("a", "1", "2024-01-01T09:00", 10.0),
    ("a", "2", "2024-01-01T18:00", 5.0),  # same day: one purchase day worth 15
    ("a", "3", "2024-01-11T00:00", 20.0),
    ("a", "4", "2024-01-31T00:00", 30.0),
    ("b", "5", "2024-01-21T00:00", 7.0),
    ("c", "6", "2024-03-01T00:00", 100.0),  # after the end: ignored
]
END = datetime(2024, 2, 10)


def test_rfm_summary_by_hand() -> None:
    summary = rfm_summary(
        lines_frame(ROWS), observation_period_end=END, customer_ids=["a", "b", "z"]
    )
    assert list(summary.index) == ["a", "b", "z"]
    a, b, z = (summary.loc[c] for c in "abz")
    # a: purchase days Jan 1, 11, 31 -> 2 repeats, 30 days first to last, 40 days to the end
    assert (a["frequency"], a["recency"], a["T"]) == (2.0, 30.0, 40.0)
    assert a["monetary_value"] == 25.0  # mean of the repeat days (20, 30); the first is excluded
    assert a["n_orders"] == 4 and a["total_spend"] == 65.0 and a["mean_gap"] == 15.0
    assert a["last_purchase"] == pd.Timestamp("2024-01-31")
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0.0, 0.0, 20.0, 0.0)
    assert np.isnan(b["mean_gap"])
    assert (z["frequency"], z["T"], z["n_orders"]) == (0.0, 0.0, 0)


def test_as_of_excludes_later_orders() -> None:
    summary = rfm_summary(lines_frame(ROWS), observation_period_end=datetime(2024, 1, 11))
    assert list(summary.index) == ["a"]
    assert summary.loc["a", "frequency"] == 0.0  # the Jan 11 order is not strictly before
    assert summary.loc["a", "T"] == 10.0


def test_purchase_days_merge_same_day_orders() -> None:
    days = purchase_days(lines_frame(ROWS), observation_period_end=END)
    first = days.iloc[0]
    assert (first["customer_id"], first["value"], first["n_orders"]) == ("a", 15.0, 2)
    assert len(days) == 4

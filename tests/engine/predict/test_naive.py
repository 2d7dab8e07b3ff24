from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from engine.predict import NaiveNextPurchase, rfm_summary

from .conftest import lines_frame

ROWS = [
    ("a", "1", "2024-01-01T09:00", 10.0),
    ("a", "2", "2024-01-11T00:00", 20.0),
    ("a", "3", "2024-01-31T00:00", 30.0),  # gaps 10 and 20: mean 15 -> due Feb 15
    ("b", "4", "2024-01-21T00:00", 7.0),  # one purchase: population gap 15 -> Feb 5, past
]
AS_OF = datetime(2024, 2, 10)


def test_last_purchase_plus_mean_gap_by_hand() -> None:
    summary = rfm_summary(
        lines_frame(ROWS), observation_period_end=AS_OF, customer_ids=["a", "b", "z"]
    )
    naive = NaiveNextPurchase().fit(summary)
    assert naive.population_mean_gap_ == 15.0
    got = naive.predict(summary, as_of=AS_OF, horizon_days=30)
    assert got.loc["a", "predicted_date"] == pd.Timestamp("2024-02-15")
    assert got.loc["a", "offset_days"] == 5.0
    # due dates Feb 15 and Mar 1 fall within 30 days of Feb 10; Mar 16 does not
    assert got.loc["a", "expected_purchases"] == 2.0
    # b's due date is past: "any moment now" is as_of itself
    assert got.loc["b", "predicted_date"] == pd.Timestamp("2024-02-10")
    # z never bought: one population gap from now
    assert got.loc["z", "predicted_date"] == pd.Timestamp("2024-02-25")
    assert got["p_buy"].tolist() == [1.0, 1.0, 1.0]


def test_store_without_repeat_buyers_uses_the_default_gap() -> None:
    summary = rfm_summary(lines_frame(ROWS[3:]), observation_period_end=AS_OF)
    naive = NaiveNextPurchase().fit(summary)
    assert naive.population_mean_gap_ == pytest.approx(30.0)

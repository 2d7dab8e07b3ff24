"""The per-customer predictor: contract columns, honest answers for thin histories,
point-in-time behaviour, shrinkage of categories and prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from engine.predict import (
    OUTPUT_COLUMNS,
    PurchasePredictor,
    prediction_record,
    slipping_high_value,
    store_outlook,
)
from engine.predict.outlook import MAX_OFFSET_DAYS

from .conftest import SIM_DAYS, SIM_START, lines_frame

AS_OF = SIM_START + pd.Timedelta(days=SIM_DAYS)


@pytest.fixture(scope="module")
def fitted(simulated_store: tuple[pd.DataFrame, pd.DataFrame]) -> PurchasePredictor:
    lines, _ = simulated_store
    return PurchasePredictor().fit(lines, as_of=AS_OF)


def test_not_fitted_before_fit() -> None:
    with pytest.raises(NotFittedError):
        PurchasePredictor().predict()


def test_predict_has_the_contract_columns_and_finite_values(fitted: PurchasePredictor) -> None:
    frame = fitted.predict()
    assert list(frame.columns[: len(OUTPUT_COLUMNS)]) == OUTPUT_COLUMNS
    assert "category_probabilities" in frame
    assert len(frame) == len(fitted.summary_)
    numeric = frame[
        [
            "confidence",
            "p_active",
            "expected_purchases_90d",
            "price_low",
            "price_high",
            "clv_12m",
            "p_buy_7d",
            "p_buy_30d",
            "p_buy_90d",
        ]
    ]
    assert np.isfinite(numeric.to_numpy()).all()
    assert frame["confidence"].between(0, 100).all() and frame["p_active"].between(0, 1).all()
    assert (frame["predicted_date"] >= AS_OF.floor("D")).all()
    # likely buyers get a date within the horizon; unlikely ones a date past it, never
    # "soon", at most three years out; nobody is certain
    likely = frame["p_buy_90d"] >= 0.5
    horizon_end = AS_OF + pd.Timedelta(days=fitted.horizon_days)
    assert (frame.loc[likely, "predicted_date"] <= horizon_end).all()
    assert (frame.loc[~likely, "predicted_date"] > horizon_end - pd.Timedelta(days=1)).all()
    assert (~likely).any() and likely.any()
    assert (frame["predicted_date"] <= AS_OF + pd.Timedelta(days=MAX_OFFSET_DAYS)).all()
    assert frame["confidence"].max() < 100 and frame["p_buy_90d"].max() < 1
    assert (frame["predicted_date_low"] <= frame["predicted_date"]).all()
    assert (frame["predicted_date"] <= frame["predicted_date_high"]).all()
    assert (frame["price_low"] < frame["price_high"]).all()
    assert (frame["p_buy_7d"] <= frame["p_buy_30d"]).all()
    assert (frame["p_buy_30d"] <= frame["p_buy_90d"]).all()
    assert frame["likely_categories"].str.count(";").eq(2).all()


def test_one_and_zero_purchase_customers_get_honest_answers(fitted: PurchasePredictor) -> None:
    one_purchase = fitted.summary_.index[fitted.summary_["frequency"] == 0][:1].tolist()
    assert one_purchase, "the simulated store has one-time buyers"
    frame = fitted.predict([*one_purchase, "never-bought"]).set_index("customer_id")
    everyone = fitted.predict()
    regulars = everyone.loc[everyone["n_purchases"] >= 10, "confidence"]
    for customer in [*one_purchase, "never-bought"]:
        row = frame.loc[customer]
        values = row[
            [
                "confidence",
                "p_active",
                "expected_purchases_90d",
                "price_low",
                "price_high",
                "clv_12m",
            ]
        ].to_numpy(dtype=float)
        assert np.isfinite(values).all()
        assert pd.notna(row["predicted_date"])
        assert row["confidence"] < regulars.median()
    never = frame.loc["never-bought"]
    assert never["n_purchases"] == 0 and never["total_spend"] == 0.0
    # population-based: the average buyer's chance, and the store's price range
    assert never["p_active"] == pytest.approx(everyone["p_active"].mean())
    mu, sd = fitted.prices_.population_
    assert never["price_low"] == pytest.approx(np.exp(mu - 1.2815516 * sd), rel=1e-4)
    record = prediction_record(frame.reset_index().iloc[-1])
    assert record["last_purchase"] is None and record["n_purchases"] == 0


def test_as_of_ignores_later_orders(simulated_store: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lines, _ = simulated_store
    as_of = SIM_START + pd.Timedelta(days=400)
    earlier = lines.loc[lines["ordered_at"] < as_of]
    full = PurchasePredictor().fit(lines, as_of=as_of).predict()
    cut = PurchasePredictor().fit(earlier, as_of=as_of).predict()
    pd.testing.assert_frame_equal(full, cut)


def _tiny_lines() -> pd.DataFrame:
    rows = []
    # store mix from 30 customers: A 60%, B 30%, C 10% of lines
    for i in range(30):
        cat = "A" if i < 18 else "B" if i < 27 else "C"
        rows += [
            (f"s{i}", f"s{i}-1", "2024-01-05", 20.0, cat),
            (f"s{i}", f"s{i}-2", "2024-02-05", 20.0, cat),
        ]
    rows += [("x", f"x{j}", f"2024-0{j + 1}-10", 50.0, "C") for j in range(5)]
    rows += [("x", "x-none", "2024-01-10", 1.0, None)]  # no category: skipped for categories
    return lines_frame(rows)


def test_categories_shrink_toward_the_store_mix_by_hand() -> None:
    lines = _tiny_lines()
    predictor = PurchasePredictor(category_prior_strength=5.0).fit(
        lines, as_of=pd.Timestamp("2024-07-01")
    )
    row = predictor.predict(["x", "nobody"]).set_index("customer_id")
    # mix over all 65 categorised lines: A 36, B 18, C 11 (x's 5 included)
    mix = {"A": 36 / 65, "B": 18 / 65, "C": 11 / 65}
    # x: 5 lines of C, k = 5 -> C (5 + 5 m_C)/10, A 5 m_A/10, B 5 m_B/10
    expected = {"C": (5 + 5 * mix["C"]) / 10, "A": 5 * mix["A"] / 10, "B": 5 * mix["B"] / 10}
    assert row.loc["x", "likely_categories"] == "C;A;B"
    assert row.loc["x", "category_probabilities"] == pytest.approx(expected, abs=1e-4)
    # nobody: the store mix itself
    assert row.loc["nobody", "likely_categories"] == "A;B;C"
    assert row.loc["nobody", "category_probabilities"] == pytest.approx(mix, abs=1e-4)


def test_price_range_shrinks_toward_the_population() -> None:
    lines = _tiny_lines()
    predictor = PurchasePredictor(price_prior_strength=3.0).fit(
        lines, as_of=pd.Timestamp("2024-07-01")
    )
    row = predictor.predict(["x"]).iloc[0]
    # x's orders are 50 (x5) and 1 (x1); the population's are mostly 20: x's range sits
    # between the population's centre and x's own typical order
    assert row["price_low"] < 50 < row["price_high"] * 2
    assert 20 < np.sqrt(row["price_low"] * row["price_high"]) < 50


def test_p_active_history_and_dashboard_views(
    fitted: PurchasePredictor, simulated_store: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, truth = simulated_store
    customer = truth.loc[truth["lapsed"], "customer_id"].iloc[0]
    days = fitted.history(customer)["day"]
    dates = pd.date_range(days.min() - pd.Timedelta(days=10), AS_OF, periods=12)
    history = fitted.p_active_history(customer, dates)
    assert (
        history["p_active"].iloc[0] != history["p_active"].iloc[0]
    )  # NaN before the first purchase
    after_last = history.loc[
        history["date"] > days.max() + pd.Timedelta(days=1), "p_active"
    ].to_numpy()
    assert (np.diff(after_last) <= 1e-12).all()  # silence only lowers it
    now = fitted.predict([customer])["p_active"].iloc[0]
    assert fitted.p_active_history(customer, [AS_OF])["p_active"].iloc[0] == pytest.approx(now)

    predictions = fitted.predict()
    segments = pd.DataFrame({"customer_id": predictions["customer_id"][:10], "segment": "vip"})
    outlook = store_outlook(predictions, segments=segments).set_index("segment")
    assert outlook.loc["all customers", "customers"] == len(predictions)
    assert outlook.loc["vip", "customers"] == 10
    assert outlook.loc["all customers", "expected_buyers_90d"] == pytest.approx(
        predictions["p_buy_90d"].sum()
    )
    assert (outlook["expected_buyers_7d"] <= outlook["expected_buyers_30d"]).all()

    slipping = slipping_high_value(fitted, predictions=predictions, limit=None)
    assert (slipping["p_active_drop"] >= 0.05).all()
    assert slipping["p_active_drop"].is_monotonic_decreasing
    lapsed = set(truth.loc[truth["lapsed"], "customer_id"])
    # the steepest falls are mostly customers the simulation made lapse (a slow Poisson
    # buyer's long silence can look the same, and is worth a call too)
    assert slipping["customer_id"].head(10).isin(lapsed).sum() >= 8


def test_a_store_with_two_one_time_buyers_still_answers() -> None:
    lines = lines_frame(
        [("a", "1", "2024-01-01T10:00", 10.0), ("b", "2", "2024-01-05T10:00", 30.0)]
    )
    predictor = PurchasePredictor().fit(lines, as_of=pd.Timestamp("2024-03-01"))
    frame = predictor.predict(["a", "b", "never"])
    numeric = frame[
        [
            "confidence",
            "p_active",
            "expected_purchases_90d",
            "price_low",
            "price_high",
            "clv_12m",
            "expected_order_value",
        ]
    ].to_numpy(dtype=float)
    assert np.isfinite(numeric).all()
    # no repeat purchase anywhere: a purchase is worth the mean purchase day, (10 + 30) / 2
    assert frame["expected_order_value"].tolist() == pytest.approx([20.0, 20.0, 20.0])
    assert (frame["confidence"] < 50).all()
    assert frame["likely_categories"].eq("").all()  # no product has a category

"""Acceptance: the model beats the naive rule, confidence is calibrated, lapsed customers
look lapsed; on a simulated store, a seeded store and CDNOW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from engine.predict import PurchasePredictor, calibration_table, evaluate_predictions

from .conftest import SIM_DAYS, SIM_START, read_cdnow_orders


def market_order_lines(market) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A seed market's order lines as the predictor reads them (what load_order_lines gives)."""
    lines = market.order_lines.merge(
        market.orders[["order_id", "customer_id", "ordered_at"]], on="order_id"
    ).merge(market.products[["product_id", "category"]], on="product_id")
    lines["amount"] = lines["quantity"] * lines["unit_price"] - lines["discount"]
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"]).astype("datetime64[ns]")
    return lines


def assert_beats_naive(result: dict, *, bgnbd_margin: float = 0.0) -> None:
    """Ours against the baselines: a lower Brier of P(buy within the horizon) than the
    naive rule and the constant base rate, and than plain BG/NBD (``bgnbd_margin`` is the
    slack allowed, as a fraction of its Brier); lower date errors over everyone than the
    naive rule."""
    methods = result["methods"]
    ours = methods["ours"]
    assert ours["brier"] < methods["naive"]["brier"]
    assert ours["brier"] < methods["base_rate"]["brier"]
    assert ours["brier"] < methods["bgnbd"]["brier"] * (1.0 + bgnbd_margin), methods
    everyone, naive = ours["date_error_everyone"], methods["naive"]["date_error_everyone"]
    assert everyone["mean_abs_error_days"] < naive["mean_abs_error_days"]
    assert everyone["median_abs_error_days"] <= naive["median_abs_error_days"]


def assert_calibrated(result: dict, *, min_customers: int = 50, tolerance: float = 10.0) -> None:
    checked = [row for row in result["calibration"] if row["customers"] >= min_customers]
    assert checked, "no confidence decile is populated enough to check"
    for row in checked:
        assert abs(row["stated"] - row["observed"]) <= tolerance, row


def test_calibration_table_by_hand() -> None:
    table = calibration_table(np.array([5.0, 15.0, 15.0, 100.0]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert table == [
        {"decile": "0-10", "customers": 1, "stated": 5.0, "observed": 0.0},
        {"decile": "10-20", "customers": 2, "stated": 15.0, "observed": 50.0},
        {"decile": "90-100", "customers": 1, "stated": 100.0, "observed": 100.0},
    ]


@pytest.mark.slow
def test_simulated_store(simulated_store: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lines, truth = simulated_store
    result = evaluate_predictions(lines, as_of=SIM_START + pd.Timedelta(days=SIM_DAYS - 120))
    assert_beats_naive(result, bgnbd_margin=0.01)
    assert_calibrated(result)
    assert result["customers"] > 2000 and result["buyers"] > 1000
    deciles = result["purchase_counts"]["deciles"]
    assert len(deciles) == 10 and deciles[-1]["actual"] > deciles[0]["actual"]
    predictions = (
        PurchasePredictor().fit(lines, as_of=SIM_START + pd.Timedelta(days=SIM_DAYS)).predict()
    )
    joined = predictions.merge(truth, on="customer_id")
    assert roc_auc_score(~joined["lapsed"], joined["p_active"]) >= 0.85


@pytest.fixture(scope="module")
def seeded_year():  # type: ignore[no-untyped-def]
    """A seeded market long enough for a 90-day holdout and an inner calibration split."""
    seed_market = pytest.importorskip("seed.market")
    return seed_market.generate_market(
        seed_market.MarketConfig(customers=2000, products=200, days=365, seed=11)
    )


@pytest.mark.slow
def test_seeded_store_beats_naive_and_is_calibrated(seeded_year) -> None:  # type: ignore[no-untyped-def]
    lines = market_order_lines(seeded_year)
    as_of = pd.Timestamp(seeded_year.config.end) - pd.Timedelta(days=90)
    result = evaluate_predictions(lines, as_of=as_of)
    assert_beats_naive(result, bgnbd_margin=0.01)
    assert_calibrated(result, tolerance=12.0)


def test_seeded_lapsed_customers_have_lower_p_active(small_market) -> None:  # type: ignore[no-untyped-def]
    lines = market_order_lines(small_market)
    truth = small_market.truth.assign(customer_id=small_market.truth["customer_id"].astype(str))
    predictor = PurchasePredictor().fit(lines, as_of=pd.Timestamp(small_market.config.end))
    predictions = predictor.predict(truth["customer_id"].tolist())
    assert np.isfinite(predictions[["confidence", "p_active", "clv_12m"]].to_numpy()).all()
    lapsed = truth["traits"].fillna("").str.split(";").apply(lambda traits: "lapsed" in traits)
    joined = predictions.merge(truth.assign(lapsed=lapsed), on="customer_id")
    assert joined["lapsed"].sum() >= 20
    assert roc_auc_score(~joined["lapsed"], joined["p_active"]) >= 0.85


@pytest.mark.slow
def test_cdnow_beats_naive(shared_data: Path) -> None:
    orders = read_cdnow_orders(shared_data)
    result = evaluate_predictions(orders, as_of=pd.Timestamp("1997-10-01"))
    assert_beats_naive(result)
    assert result["customers"] > 23000
    # expected purchases over 90 days track reality within 25% in total
    counts = result["purchase_counts"]
    assert abs(counts["model"] - counts["actual"]) / counts["actual"] < 0.25


@pytest.mark.slow
def test_dunnhumby_grocery_beats_naive_and_is_calibrated(shared_data: Path) -> None:
    folder = shared_data / "dunnhumby"
    if not (folder / "orders.csv").exists():
        pytest.skip(f"dunnhumby sample not found at {folder}")
    orders = pd.read_csv(
        folder / "orders.csv", dtype={"customer_id": str, "order_id": str, "product_id": str}
    )
    products = pd.read_csv(folder / "products.csv", dtype={"product_id": str})
    lines = orders.merge(products[["product_id", "category"]], on="product_id", how="left")
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], format="ISO8601").astype(
        "datetime64[ns]"
    )
    lines["amount"] = lines["quantity"] * lines["unit_price"] - lines["discount"].fillna(0.0)
    result = evaluate_predictions(lines, as_of=pd.Timestamp("2017-10-01"))
    assert_beats_naive(result)
    assert_calibrated(result)

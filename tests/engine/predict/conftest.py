"""Small frames for the prediction tests: hand-built ones and a simulated store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.predict.simulate import simulate_order_lines

SIM_START = pd.Timestamp("2023-01-01")
SIM_DAYS = 540


def lines_frame(rows: list[tuple]) -> pd.DataFrame:
    """Order lines from ``(customer_id, order_id, ordered_at, amount[, category])`` tuples."""
    frame = pd.DataFrame(
        [r if len(r) == 5 else (*r, None) for r in rows],
        columns=["customer_id", "order_id", "ordered_at", "amount", "category"],
    )
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], format="ISO8601").astype(
        "datetime64[ns]"
    )
    return frame


@pytest.fixture(scope="session")
def simulated_store() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3,000 simulated customers over 540 days (a fifth of them lapse): (order_lines, truth)."""
    return simulate_order_lines(
        3000, start=SIM_START.to_pydatetime(), days=SIM_DAYS, random_state=1
    )


def read_cdnow_orders(shared_data: Path) -> pd.DataFrame:
    """CDNOW orders as frames straight from the CSV (no importer): the order-line columns
    the predictor needs."""
    path = shared_data / "cdnow" / "orders.csv"
    if not path.exists():
        pytest.skip(f"CDNOW orders not found at {path}")
    orders = pd.read_csv(path, dtype={"customer_id": str, "order_id": str, "product_id": str})
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], format="ISO8601").astype(
        "datetime64[ns]"
    )
    orders["amount"] = orders["quantity"] * orders["unit_price"]
    return orders[["customer_id", "order_id", "ordered_at", "amount"]]

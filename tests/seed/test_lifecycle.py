"""Product lifecycles in the generated market: consumables come back, durables never do,
nothing sells before its launch or while out of stock (seed.lifecycle, docs/market.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seed.lifecycle import CONSUMABLE, REPURCHASE, SEMI_DURABLE
from seed.world import CATEGORIES


@pytest.fixture(scope="module")
def lines(small_market) -> pd.DataFrame:
    """Order lines with customer, time, category and the product's hidden lifecycle."""
    frame = small_market.order_lines.merge(
        small_market.orders[["order_id", "customer_id", "ordered_at"]]
    )
    frame = frame.merge(small_market.products[["product_id", "category"]])
    return frame.merge(small_market.product_lifecycle, on="product_id")


def test_every_item_has_the_class_of_its_kind():
    nouns = {noun for c in CATEGORIES for noun, _ in c.items}
    assert set(REPURCHASE) <= nouns, set(REPURCHASE) - nouns
    grocery = next(c for c in CATEGORIES if c.name == "Grocery")
    assert all(REPURCHASE[noun][0] == CONSUMABLE for noun, _ in grocery.items)
    books = next(c for c in CATEGORIES if c.name == "Books")
    assert all(noun not in REPURCHASE for noun, _ in books.items)  # durable
    cycles = {
        cls: [d for c, d in REPURCHASE.values() if c == cls] for cls in (CONSUMABLE, SEMI_DURABLE)
    }
    assert max(cycles[CONSUMABLE]) <= 60 <= min(cycles[SEMI_DURABLE]) + 30


def test_nobody_buys_a_durable_they_own(lines):
    durable = lines[lines["repurchase_class"] == "durable"]
    assert len(durable) > 1000
    assert not durable.duplicated(["customer_id", "product_id"]).any()


def test_consumables_come_back_about_every_cycle(lines):
    consumable = lines[lines["repurchase_class"] == "consumable"].sort_values("ordered_at")
    gap = consumable.groupby(["customer_id", "product_id"])["ordered_at"].diff().dt.days
    ratio = (gap / consumable["cycle_days"]).dropna()
    assert len(ratio) > 300
    # Due staples wait for the customer's next order, and customers use things up at
    # their own speed: around one cycle, a little later more often than earlier.
    assert 0.9 <= ratio.median() <= 2.0


def test_semi_durables_are_seldom_bought_again_within_months(lines):
    semi = lines[lines["repurchase_class"] == "semi_durable"]
    assert len(semi) > 300
    # Cycles of months in a 180-day market: a second one of the same is an exception.
    pairs = semi.groupby(["customer_id", "product_id"]).size()
    assert (pairs > 1).mean() < 0.1


def test_nothing_sells_before_its_launch_or_while_out_of_stock(small_market, lines):
    lifecycle = small_market.product_lifecycle
    start = pd.Timestamp(small_market.config.start)
    late = lifecycle["on_sale_from"] > start
    assert 0.05 < late.mean() < 0.25  # launches partway through
    assert lifecycle["out_of_stock_from"].notna().mean() > 0.03
    assert (lines["ordered_at"] >= lines["on_sale_from"].dt.normalize()).all()
    out = lines["out_of_stock_from"].notna()
    during = (
        out
        & (lines["ordered_at"] >= lines["out_of_stock_from"])
        & (lines["out_of_stock_to"].isna() | (lines["ordered_at"] < lines["out_of_stock_to"]))
    )
    assert not during.any()
    # Products still out of stock at the end are the catalogue's in_stock = false.
    gone = lifecycle.loc[
        lifecycle["out_of_stock_from"].notna() & lifecycle["out_of_stock_to"].isna(), "product_id"
    ]
    in_stock = small_market.products.set_index("product_id")["in_stock"]
    assert set(in_stock.index[~in_stock]) == set(gone)
    views = small_market.events[small_market.events["event_type"] == "product_view"]
    launched = views.merge(lifecycle[["product_id", "on_sale_from"]], on="product_id")
    assert (launched["occurred_at"] >= launched["on_sale_from"]).all()


# Aimed for (docs/market.md): a category's share of buyer-product pairs bought again in a
# year, on the default market.
REBOUGHT = {
    "Grocery": (0.35, 0.6),
    "Health": (0.25, 0.5),
    "Beauty": (0.2, 0.45),
    "Pet Supplies": (0.1, 0.35),
    "Apparel": (0.0, 0.05),
    "Electronics": (0.0, 0.03),
    "Books": (0.0, 0.0),
    "Toys": (0.0, 0.0),
    "Accessories": (0.0, 0.0),
}


def test_repeat_purchase_shares_by_category_are_those_aimed_for(default_market):
    lines = default_market.order_lines.merge(default_market.orders[["order_id", "customer_id"]])
    lines = lines.merge(default_market.products[["product_id", "category"]])
    orders = lines.groupby(["category", "customer_id", "product_id"])["order_id"].nunique()
    share = (orders > 1).groupby(level="category").mean()
    for category, (low, high) in REBOUGHT.items():
        assert low <= share[category] <= high, (category, round(float(share[category]), 3))
    assert np.isfinite(share).all()

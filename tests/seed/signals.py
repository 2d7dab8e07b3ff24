"""Raw per-customer signals of the planted traits, computed straight from a Market's frames.

A test helper (not the engine's scoring): plain shares and ratios, so tests can
check each trait is visible in the data without depending on docs/scoring.md.
"""

from __future__ import annotations

import pandas as pd

MOBILE_CHANNELS = ("mobile_web", "ios", "android")


def _activity(market) -> pd.DataFrame:
    events = market.events.loc[
        market.events["customer_id"].notna(), ["customer_id", "occurred_at", "channel", "device"]
    ]
    orders = market.orders.rename(columns={"ordered_at": "occurred_at"})[
        ["customer_id", "occurred_at", "channel", "device"]
    ]
    return pd.concat([events, orders], ignore_index=True)


def customer_signals(market) -> pd.DataFrame:
    """One row per customer: the raw signal behind each trait (NaN where undefined)."""
    customers = market.customers["customer_id"]
    out = pd.DataFrame(index=pd.Index(customers, name="customer_id"))
    lines = market.order_lines.merge(
        market.orders[["order_id", "customer_id", "ordered_at"]], on="order_id"
    )
    lines = lines.merge(
        market.products[["product_id", "list_price", "brand", "category"]], on="product_id"
    )
    lines["discounted"] = (lines["discount"] > 0) | (lines["unit_price"] < lines["list_price"])
    out["discounted_share"] = lines.groupby("customer_id")["discounted"].mean()
    lines["net"] = lines["quantity"] * lines["unit_price"]
    spend = lines.groupby("customer_id")["net"].sum()
    out["spend_ratio"] = spend / spend.median()
    end = pd.Timestamp(market.config.end)
    recent = market.orders[market.orders["ordered_at"] >= end - pd.Timedelta(days=365)]
    n_orders = recent.groupby("customer_id").size()
    out["order_ratio"] = n_orders / n_orders.median()

    act = _activity(market)
    act["weekend"] = act["occurred_at"].dt.day_of_week >= 5
    hour = act["occurred_at"].dt.hour
    act["night"] = (hour >= 22) | (hour < 6)
    act["mobile"] = (act["device"] == "mobile") | act["channel"].isin(MOBILE_CHANNELS)
    grouped = act.groupby("customer_id")
    out["weekend_share"] = grouped["weekend"].mean()
    out["night_share"] = grouped["night"].mean()
    out["mobile_share"] = grouped["mobile"].mean()
    out["last_activity"] = grouped["occurred_at"].max()

    branded = lines[lines["brand"].notna()]
    counts = branded.groupby(["customer_id", "brand"]).size().rename("n").reset_index()
    counts = counts.sort_values(["customer_id", "n"], ascending=[True, False])
    top2 = counts.groupby("customer_id").head(2).groupby("customer_id")["n"].sum()
    n_branded = counts.groupby("customer_id")["n"].sum()
    out["brand_top2_share"] = top2 / n_branded
    # Shrunk toward the typical share (pseudo-count 3), so two lines alone prove nothing.
    typical = out["brand_top2_share"].median()
    out["brand_top2_shrunk"] = (top2 + 3 * typical) / (n_branded + 3)

    events = market.events[market.events["customer_id"].notna()]
    views = events[events["event_type"] == "product_view"]
    first_view = (
        views.groupby(["customer_id", "product_id"])["occurred_at"].min().rename("first_view")
    )
    bought = lines[["customer_id", "product_id", "ordered_at"]].join(
        first_view, on=["customer_id", "product_id"]
    )
    bought = bought[bought["first_view"].notna() & (bought["first_view"] <= bought["ordered_at"])]
    bought["quick"] = (bought["ordered_at"] - bought["first_view"]) <= pd.Timedelta(minutes=30)
    out["quick_share"] = bought.groupby("customer_id")["quick"].mean()

    n_all_orders = market.orders.groupby("customer_id").size().reindex(out.index, fill_value=0)
    research = (
        events[events["event_type"].isin(["product_view", "search"])].groupby("customer_id").size()
    )
    ratio = research.reindex(out.index, fill_value=0) / (n_all_orders + 1)
    out["research_ratio"] = ratio / ratio.median()

    view_cat = views.merge(market.products[["product_id", "category"]], on="product_id")[
        ["customer_id", "category"]
    ]
    both = pd.concat([view_cat, lines[["customer_id", "category"]]], ignore_index=True)
    cat_counts = both.groupby(["customer_id", "category"]).size()
    share = cat_counts / cat_counts.groupby(level=0).transform("sum")
    top = share.groupby(level=0).idxmax()
    out["top_category_share"] = share.groupby(level=0).max()
    out["top_category"] = top.map(lambda pair: pair[1])
    return out


def carriers(market, trait: str) -> pd.Series:
    """Boolean per customer: does the truth list ``trait``?

    ``trait`` is an exact name, or a suffix such as ``_enthusiast``.
    """
    traits = market.truth.set_index("customer_id")["traits"].str.split(";")
    if trait.startswith("_"):
        return traits.map(lambda ts: any(t.endswith(trait) for t in ts))
    return traits.map(lambda ts: trait in ts)

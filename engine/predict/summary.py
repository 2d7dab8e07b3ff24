"""RFM summaries from order frames, as of an explicit ``observation_period_end``.

A *transaction* for the repeat-buying models is a purchase day: all of a customer's
orders on one calendar day count once (with their summed value), as in the CDNOW
literature, so split shipments and basket corrections do not look like loyalty.
Time is in days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
SUMMARY_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_orders",
    "total_spend",
    "first_purchase",
    "last_purchase",
    "mean_gap",
]


def purchase_days(order_lines: pd.DataFrame, *, observation_period_end: datetime) -> pd.DataFrame:
    """One row per (customer, purchase day) strictly before ``observation_period_end``.

    Args:
        order_lines: columns ``customer_id, ordered_at, amount`` (``order_id`` optional),
            e.g. :func:`engine.frames.load_order_lines`.
        observation_period_end: the "as of" moment; later rows are ignored.

    Returns:
        Columns ``customer_id, day`` (midnight), ``value`` (summed amount),
        ``n_orders`` (distinct orders that day), ``first_at``/``last_at`` (earliest and
        latest order time that day),
        sorted by customer and day.
    """
    end = pd.Timestamp(observation_period_end)
    lines = order_lines.loc[order_lines["ordered_at"] < end]
    frame = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].astype(str).to_numpy(),
            "day": lines["ordered_at"].dt.floor("D").to_numpy(),
            "value": lines["amount"].astype(float).fillna(0.0).to_numpy(),
            "ordered_at": lines["ordered_at"].to_numpy(),
            "order_id": (
                lines["order_id"].astype(str)
                if "order_id" in lines
                else pd.Series(np.arange(len(lines)).astype(str))
            ).to_numpy(),
        }
    )
    grouped = frame.groupby(["customer_id", "day"], sort=True, observed=True)
    days = grouped.agg(
        value=("value", "sum"),
        n_orders=("order_id", "nunique"),
        first_at=("ordered_at", "min"),
        last_at=("ordered_at", "max"),
    ).reset_index()
    return days


def summary_from_purchase_days(
    days: pd.DataFrame,
    *,
    observation_period_end: datetime,
    customer_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The RFM summary from :func:`purchase_days` output (rows at or after the end are ignored).

    Returns:
        Indexed by ``customer_id``: ``frequency`` (repeat purchase days), ``recency``
        (days from first to last purchase day), ``T`` (days from the first purchase day
        to the end), ``monetary_value`` (mean value of the repeat purchase days; 0 without
        one), ``n_orders``, ``total_spend``, ``first_purchase``, ``last_purchase``
        (timestamp of the latest order), ``mean_gap`` (recency / frequency; NaN without a
        repeat). With ``customer_ids``, exactly those customers in that order; those with
        no purchase get zeros (``T`` = 0: they are scored like a brand-new customer).
    """
    end = pd.Timestamp(observation_period_end)
    days = days.loc[days["day"] < end]
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].min()
    last_day = grouped["day"].max()
    count = grouped["day"].size()
    total = grouped["value"].sum()
    first_value = grouped["value"].first()  # days are sorted, so this is the first day's value
    frequency = (count - 1).astype(float)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last_day - first) / DAY,
            "T": (end - first) / DAY,
            "monetary_value": np.where(
                frequency > 0, (total - first_value) / frequency.clip(lower=1), 0.0
            ),
            "n_orders": grouped["n_orders"].sum().astype(int),
            "total_spend": total,
            "first_purchase": first,
            "last_purchase": grouped["last_at"].max(),
        }
    )
    summary["mean_gap"] = summary["recency"] / summary["frequency"].where(summary["frequency"] > 0)
    summary.index.name = "customer_id"
    if customer_ids is not None:
        summary = reindex_summary(summary, customer_ids)
    return summary[SUMMARY_COLUMNS]


def rfm_summary(
    order_lines: pd.DataFrame,
    *,
    observation_period_end: datetime,
    customer_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The RFM summary (in days) of order lines strictly before ``observation_period_end``.

    Args:
        order_lines: columns ``customer_id, ordered_at, amount`` (``order_id`` optional).
        observation_period_end: the "as of" moment.
        customer_ids: optional customers to report (including ones with no purchase).

    Returns:
        See :func:`summary_from_purchase_days`.
    """
    days = purchase_days(order_lines, observation_period_end=observation_period_end)
    return summary_from_purchase_days(
        days, observation_period_end=observation_period_end, customer_ids=customer_ids
    )


def reindex_summary(summary: pd.DataFrame, customer_ids: Sequence[str]) -> pd.DataFrame:
    """``summary`` for exactly ``customer_ids`` (in that order); customers absent from it
    (no purchase) get zeros and NaT, as a brand-new customer would."""
    wanted = pd.Index([str(c) for c in customer_ids], name="customer_id")
    result = summary.reindex(wanted)
    fill = {
        "frequency": 0.0,
        "recency": 0.0,
        "T": 0.0,
        "monetary_value": 0.0,
        "n_orders": 0,
        "total_spend": 0.0,
    }
    result = result.fillna(fill)
    result["n_orders"] = result["n_orders"].astype(int)
    return result[SUMMARY_COLUMNS]

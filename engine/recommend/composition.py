"""How the blend composes a list from its scores: what is never shown, and room for the moment.

The ranking (learned or weighted) decides between a customer's rebuys and new
products; two rules then shape the list, on every path alike:

* **owned durables are never shown again.** A product is *durable* in this store when
  few of its buyers ever buy it on a second order, read two ways: its repeat rate
  (buyers with two orders or more of it over its buyers) shrunk toward its category's
  is below ``durable_rate`` (a durable category: books, toys), or its own buyers make a
  repeat rate of ``durable_rate / 2`` at least four times as likely as its category's (a
  first-aid kit among the consumables of Health: 25 buyers, none bought a second). A
  customer who bought one has no use for another; consumables and clothes that wear out
  stay to the ranking and its rebuy model;
* **the moment gets room.** With a context given, the ``slots`` products that fit it
  best for this customer, among those they never bought whose odds the context at
  least multiplies by ``min_lift`` (tags included, see :mod:`.contextual`) and that the
  store tags for it or whose sales the weather plainly lifts, are placed
  from rank ``rank`` on, unless the ranking already has them higher. Which ones: the
  ranking's own order among the fitting products, else how well they fit. So a rainy
  evening shows rain gear even to a customer whose list is full of staples, and the
  context widgets visibly change a known customer's list. (Measured: room for the moment
  costs about 1% of NDCG@10 on the seeded store's holdout, 0.436 -> 0.431; on the real
  grocery sample, which has no tags or weather, it changes nothing.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import StoreData, top_k

CONTEXTUAL = "contextual"
DURABLE_ODDS = 4.0
"""How many times likelier a durable's repeat rate must make its buyers' record than its
category's (measured: on the real grocery sample it flags 0.8% of lines more than the
shrunk rate alone; on the seeded store it catches durables sold among consumables)."""


def _buyers(data: StoreData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per product: buyers, buyers on two orders or more, and its category's pooled share
    of such buyers (the store's for products without a category)."""
    p = data.purchases.drop_duplicates(["row", "item", "order_id"])
    orders = p.groupby(["row", "item"]).size()
    items = orders.index.get_level_values("item").to_numpy()
    repeat = (orders.to_numpy() >= 2).astype(float)
    buyers = np.bincount(items, minlength=data.n_items).astype(float)
    repeaters = np.bincount(items, weights=repeat, minlength=data.n_items)
    store = repeaters.sum() / buyers.sum() if buyers.sum() > 0 else 0.0
    codes, _ = data.codes("category")
    category = (
        pd.DataFrame({"c": codes, "b": buyers, "r": repeaters}).groupby("c")[["b", "r"]].sum()
    )
    share = (category["r"] + 10.0 * store) / (category["b"] + 10.0)
    category_rate = np.where(codes >= 0, pd.Series(codes).map(share).to_numpy(dtype=float), store)
    return buyers, repeaters, category_rate


def repeat_rates(data: StoreData, prior: float = 10.0) -> np.ndarray:
    """Per product: the share of its buyers who bought it on two orders or more, shrunk
    toward its category's share with ``prior`` pseudo-buyers (its category's share where
    nobody bought it)."""
    buyers, repeaters, category_rate = _buyers(data)
    return (repeaters + prior * category_rate) / (buyers + prior)


def durable_items(data: StoreData, durable_rate: float) -> np.ndarray:
    """Per product: durable in this store (the two readings of the module docstring)."""
    buyers, repeaters, category_rate = _buyers(data)
    shrunk = (repeaters + 10.0 * category_rate) / (buyers + 10.0)
    low = durable_rate / 2.0
    other = np.clip(np.maximum(category_rate, 2 * low), 1e-9, 1 - 1e-9)
    # log of P(buyers' repeats | rate = low) / P(... | rate = the category's)
    log_ratio = repeaters * np.log(low / other) + (buyers - repeaters) * np.log(
        (1 - low) / (1 - other)
    )
    return (shrunk < durable_rate) | (log_ratio >= np.log(DURABLE_ODDS))


def place_context_picks(
    total: np.ndarray,
    points: dict[str, np.ndarray],
    fit: np.ndarray,
    eligible: np.ndarray,
    *,
    slots: int,
    rank: int,
    min_lift: float,
) -> np.ndarray:
    """Give each row's best-fitting products room from rank ``rank`` on (in place).

    Args:
        total: rows x products final scores (0: not shown), changed in place.
        points: each recommender's share of ``total``; the lift a pick gets is credited to
            ``contextual`` (created if missing), so its reason is the moment's.
        fit: rows x products, how many times the context multiplies each product's odds
            (0 where a row has no context).
        eligible: rows x products that may be picked (in stock, never bought by the row).
        slots, rank, min_lift: see the module docstring.

    Returns:
        rows x slots product indices picked (-1 where a row had fewer fitting products).
    """
    n, n_items = total.shape
    picked = np.full((n, max(slots, 0)), -1, dtype=np.int64)
    fits = eligible & (fit >= min_lift)
    if slots <= 0 or not fits.any():
        return picked
    # The ranking's order among fitting products; how well they fit breaks ties (and
    # orders products the ranking did not score at all).
    top_fit = np.maximum(fit.max(axis=1, keepdims=True), 1e-9)
    key = np.where(fits, total + 1e-3 * fit / top_fit, -np.inf)
    k = min(slots, n_items)
    chosen = top_k(key, k)
    valid = np.isfinite(np.take_along_axis(key, chosen, axis=1))
    others = total.copy()
    rows = np.arange(n)[:, None]
    others[rows, chosen] = -np.inf
    ahead = max(rank - 1, 1)
    best_others = np.take_along_axis(others, top_k(others, min(ahead, n_items)), axis=1)
    bar = best_others[:, -1] if rank > 1 else best_others[:, 0] + 1.0
    positive = np.where(total > 0, total, np.inf).min(axis=1)
    # Below the (rank-1)-th other product; a short list puts the picks last but shown.
    bar = np.where(
        np.isfinite(bar) & (bar > 0), bar, np.where(np.isfinite(positive), positive, 1.0)
    )
    step = np.maximum(bar, 1e-3) * 1e-4
    boost = points.setdefault(CONTEXTUAL, np.zeros_like(total))
    for j in range(k):
        items = chosen[:, j]
        ok = valid[:, j]
        current = total[np.arange(n), items]
        new = np.where(ok, np.maximum(current, bar - step * (j + 1)), current)
        boost[np.arange(n), items] += (new - current).astype(boost.dtype)
        total[np.arange(n), items] = new
        picked[:, j] = np.where(ok, items, -1)
    return picked


def merge_rows(
    n_rows: int,
    n_items: int,
    parts: list[tuple[np.ndarray, tuple[np.ndarray, dict[str, np.ndarray]]]],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One ``(total, points)`` from results computed for disjoint subsets of the rows."""
    total = np.zeros((n_rows, n_items), np.float32)
    points: dict[str, np.ndarray] = {}
    for where, (part_total, part_points) in parts:
        total[where] = part_total
        for name, p in part_points.items():
            points.setdefault(name, np.zeros_like(total))[where] = p
    return total, points

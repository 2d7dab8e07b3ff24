"""Buy it again: how likely a customer is to rebuy each product they bought, learned from history.

The store's own history says how often each product is rebought (milk: often;
a television: never) and how much each customer rebuys. A logistic model is
trained inside ``fit`` on a temporal split of the training data itself: features
of every (customer, product) pair as of ``as_of - horizon``, label "bought it
again within the next ``horizon`` days". Applied to the features as of
``as_of``, it gives a calibrated probability of a rebuy in the coming horizon,
which the blend uses both as a score and as the rule "show an already-bought
product only when a rebuy is likely".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from .base import Contexts, Recommender, StoreData, lookup, sparse_rows

FEATURES = [
    "log_orders",
    "log_since_last",
    "log_due",
    "item_rate",
    "customer_rate",
    "once",
    "log_item_buyers",
]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def pair_features(
    purchases: pd.DataFrame, cutoff_days: float, *, prior: float = 10.0
) -> pd.DataFrame:
    """Features of every (customer row, product) pair from purchases older than ``cutoff_days``.

    Args:
        purchases: ``StoreData.purchases`` (``row, item, order_id, age_days``).
        cutoff_days: only lines with ``age_days > cutoff_days`` count, and ages are
            measured from that cutoff (0 for "as of now").
        prior: pseudo-count shrinking item and customer rebuy rates to the store's.

    Returns:
        One row per pair: ``row, item, orders, since_last, interval`` (expected days
        between purchases) and the model features :data:`FEATURES`.
    """
    p = purchases[purchases["age_days"] > cutoff_days]
    if p.empty:
        return pd.DataFrame(columns=["row", "item", "orders", "since_last", "interval", *FEATURES])
    age = p["age_days"].to_numpy() - cutoff_days
    orders = pd.DataFrame(
        {
            "row": p["row"].to_numpy(),
            "item": p["item"].to_numpy(),
            "order_id": p["order_id"].to_numpy(),
            "age": age,
        }
    )
    orders = orders.drop_duplicates(["row", "item", "order_id"])
    g = orders.groupby(["row", "item"], sort=False)["age"]
    pairs = pd.DataFrame({"orders": g.size(), "since_last": g.min(), "first": g.max()})
    pairs = pairs.reset_index()
    repeat = pairs["orders"] >= 2
    span = (pairs["first"] - pairs["since_last"]).to_numpy()
    own_interval = np.where(repeat, span / np.maximum(pairs["orders"] - 1, 1), np.nan)
    pairs["own_interval"] = own_interval
    global_rate = float(repeat.mean()) if len(pairs) else 0.0
    pairs["repeat"] = repeat.astype(float)
    item = pairs.groupby("item").agg(
        buyers=("orders", "size"), repeaters=("repeat", "sum"), interval=("own_interval", "median")
    )
    item["rate"] = (item["repeaters"] + prior * global_rate) / (item["buyers"] + prior)
    cust = pairs.groupby("row").agg(n=("orders", "size"), repeaters=("repeat", "sum"))
    cust["rate"] = (cust["repeaters"] + prior * global_rate) / (cust["n"] + prior)
    global_interval = float(np.nanmedian(own_interval)) if repeat.any() else 30.0
    item_interval = pairs["item"].map(item["interval"]).fillna(global_interval).to_numpy()
    interval = np.where(repeat, own_interval, item_interval)
    interval = np.maximum(interval, 1.0)
    pairs["interval"] = interval
    pairs["log_orders"] = np.log1p(pairs["orders"].to_numpy())
    pairs["log_since_last"] = np.log1p(pairs["since_last"].to_numpy())
    pairs["log_due"] = np.log1p(pairs["since_last"].to_numpy()) - np.log1p(interval)
    pairs["item_rate"] = _logit(pairs["item"].map(item["rate"]).to_numpy())
    pairs["customer_rate"] = _logit(pairs["row"].map(cust["rate"]).to_numpy())
    pairs["once"] = (~repeat).astype(float)
    pairs["log_item_buyers"] = np.log1p(pairs["item"].map(item["buyers"]).to_numpy())
    return pairs.drop(columns=["first", "own_interval", "repeat"])


def every_phrase(days: float) -> str:
    """``about every 3 weeks`` style wording of an interval in days."""
    if days < 1.5:
        return "about every day"
    if days < 13:
        return f"about every {round(days)} days"
    if days < 60:
        weeks = round(days / 7)
        return "about every week" if weeks == 1 else f"about every {weeks} weeks"
    months = round(days / 30.4)
    return "about every month" if months == 1 else f"about every {months} months"


class RebuyRecommender(Recommender):
    """Buy it again: the probability the customer rebuys each product within ``horizon_days``.

    Parameters:
        horizon_days: the window the probability refers to (and the inner split's length).
        max_training_pairs: pairs sampled for the inner logistic model (speed).
        random_state: seed of that sampling.

    Learned state: ``model_`` (None when history is too short: a heuristic is
    used instead), ``prob_``, ``orders_``, ``interval_``
    (customers x products sparse: probability, orders so far, expected days between).
    """

    name = "rebuy"
    label = "Buy it again"

    def __init__(
        self,
        horizon_days: float = 30.0,
        max_training_pairs: int = 50_000,
        random_state: int | None = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.max_training_pairs = max_training_pairs
        self.random_state = random_state

    def _fit(self, data: StoreData) -> None:
        rng = np.random.default_rng(self.random_state)
        purchases = data.purchases
        past = pair_features(purchases, self.horizon_days)
        self.model_: LogisticRegression | None = None
        if len(past):
            recent = purchases[purchases["age_days"] <= self.horizon_days]
            bought = pd.MultiIndex.from_arrays(
                [recent["row"].to_numpy(), recent["item"].to_numpy()]
            )
            label = pd.MultiIndex.from_arrays(
                [past["row"].to_numpy(), past["item"].to_numpy()]
            ).isin(bought)
            if len(past) > self.max_training_pairs:
                pick = rng.choice(len(past), self.max_training_pairs, replace=False)
                x, y = past[FEATURES].to_numpy()[pick], label[pick]
            else:
                x, y = past[FEATURES].to_numpy(), label
            if y.sum() >= 10 and (~y).sum() >= 10:
                # Seven features: Newton steps converge in a handful of iterations.
                self.model_ = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=100).fit(
                    x, y
                )
        self.new_item_rate_ = self._new_item_rate(purchases)
        now = pair_features(purchases, 0.0)
        if self.model_ is not None and len(now):
            prob = self.model_.predict_proba(now[FEATURES].to_numpy())[:, 1]
        elif len(now):
            prob = self._heuristic(now)
        else:
            prob = np.zeros(0)
        now["prob"] = prob
        where = (now["row"].to_numpy(dtype=np.int64), now["item"].to_numpy(dtype=np.int64))
        shape = (data.n_customers, data.n_items)
        # +1e-6 keeps a pair with probability ~0 in the sparse structure.
        self.prob_ = sp.csr_matrix((prob.astype(np.float32) + 1e-6, where), shape=shape)
        self.orders_ = sp.csr_matrix((now["orders"].to_numpy(dtype=float), where), shape=shape)
        self.interval_ = sp.csr_matrix((now["interval"].to_numpy(dtype=float), where), shape=shape)
        for m in (self.prob_, self.orders_, self.interval_):
            m.sort_indices()

    def _heuristic(self, pairs: pd.DataFrame, prior: float = 2.0) -> np.ndarray:
        """Rebuy probability without a learned model (too little history to learn from):
        the customer's own repeat share shrunk to the product's rebuy rate, times the
        chance the next purchase falls in the horizon, fading once long overdue."""
        item_rate = 1 / (1 + np.exp(-pairs["item_rate"].to_numpy()))
        orders = pairs["orders"].to_numpy(dtype=float)
        repeat = (orders - 1 + prior * item_rate) / (orders + prior)
        interval = pairs["interval"].to_numpy(dtype=float)
        in_horizon = 1 - np.exp(-self.horizon_days / interval)
        overdue = np.maximum(pairs["since_last"].to_numpy(dtype=float) - 2 * interval, 0)
        return repeat * in_horizon * np.exp(-overdue / (2 * interval))

    def _new_item_rate(self, purchases: pd.DataFrame, top: int = 20) -> float:
        """How likely a customer buys one of the store's top sellers they never bought,
        within the horizon: the bar a rebuy must clear to count as "likely".

        Measured on the same inner split as the model: top sellers and buyers before
        ``as_of - horizon``, purchases in the last ``horizon`` days.
        """
        past = purchases[purchases["age_days"] > self.horizon_days]
        recent = purchases[purchases["age_days"] <= self.horizon_days]
        if past.empty or recent.empty:
            return float("nan")
        best = past.groupby("item")["row"].nunique().nlargest(top).index.to_numpy()
        customers = np.unique(past["row"].to_numpy())  # as for the rebuy pairs: known before
        had = pd.MultiIndex.from_arrays([past["row"].to_numpy(), past["item"].to_numpy()])
        cand = pd.MultiIndex.from_product([customers, best])
        cand = cand[~cand.isin(had)]
        if len(cand) == 0:
            return float("nan")
        got = pd.MultiIndex.from_arrays([recent["row"].to_numpy(), recent["item"].to_numpy()])
        return float(cand.isin(got).mean())

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        return sparse_rows(self.prob_, rows).toarray().astype(np.float32)

    def explain_many(
        self, rows: np.ndarray, items: np.ndarray, contexts: object = None
    ) -> list[str]:
        """:meth:`explain` for many pairs at once (two sparse look-ups)."""
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        safe, known = np.maximum(rows, 0), rows >= 0
        orders = np.where(known, np.asarray(self.orders_[safe, items]).ravel(), 0)
        interval = np.where(known, np.asarray(self.interval_[safe, items]).ravel(), 0)
        return self._wording(orders, interval)

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        return self._wording(lookup(self.orders_, row, items), lookup(self.interval_, row, items))

    @staticmethod
    def _wording(orders: np.ndarray, interval: np.ndarray) -> list[str]:
        out = []
        for n, days in zip(orders, interval, strict=True):
            if n >= 2:
                out.append(f"You buy this {every_phrase(days)}")
            elif n == 1:
                out.append(f"You bought this before; customers rebuy it {every_phrase(days)}")
            else:
                out.append("Customers often buy this again")
        return out

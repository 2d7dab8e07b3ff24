"""P(at least one purchase in the next ``horizon`` days): a discriminative, calibrated model.

Training rows come from several cut-offs *inside* the training period: at each cut-off
``c`` (every label window ``[c, c + horizon)`` ends at or before ``as_of``) every customer
with a purchase day before ``c`` gets RFM-style features computed from the days before ``c``
and the label "bought in ``[c, c + horizon)``". Gradient-boosted trees (LightGBM, one thread,
fixed seed: byte-identical output) learn on all cut-offs but the most recent; an isotonic map
fitted on that held-in most recent cut-off calibrates them. Probabilities are clipped to
``[clip, 1 - clip]``: nobody is certain. With too few cut-offs the repeat model's own
probability, isotonic-calibrated where one cut-off exists, is used instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from .bgnbd import BetaGeoFitter
from .summary import DAY

FEATURES = [
    "recency",
    "frequency",
    "tenure",
    "mean_gap",
    "last_gap",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "orders_365d",
    "monetary",
    "p_alive",
    "expected_h",
    "recency_over_gap",
]


def features_at(
    days: pd.DataFrame, cutoff: pd.Timestamp, model: BetaGeoFitter, horizon: float
) -> pd.DataFrame:
    """Features per customer from purchase days (``customer_id, day, value``) before ``cutoff``.

    Returns a frame indexed by customer id (sorted) with :data:`FEATURES` columns, in days.
    """
    before = days.loc[days["day"] < cutoff]
    grouped = before.groupby("customer_id", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped["day"].size().astype(float)
    age = (cutoff - before["day"]) / DAY
    out = pd.DataFrame(index=first.index)
    out["recency"] = ((cutoff - last) / DAY).to_numpy()
    out["frequency"] = (count - 1.0).to_numpy()
    out["tenure"] = ((cutoff - first) / DAY).to_numpy()
    span = ((last - first) / DAY).to_numpy()
    out["mean_gap"] = np.where(out["frequency"] > 0, span / np.maximum(out["frequency"], 1), np.nan)
    ordered = before.sort_values(["customer_id", "day"])
    previous = ordered.groupby("customer_id")["day"].shift(1)
    second_last = previous.groupby(ordered["customer_id"]).last()
    out["last_gap"] = ((last - second_last.reindex(first.index)) / DAY).to_numpy()
    for w in (30, 90, 180, 365):
        recent = before.loc[age.to_numpy() <= w]
        out[f"orders_{w}d"] = (
            recent.groupby("customer_id").size().reindex(first.index).fillna(0.0).to_numpy()
        )
    out["monetary"] = (grouped["value"].sum() / count).to_numpy()
    x = out["frequency"].to_numpy()
    t_x = span
    big_t = out["tenure"].to_numpy()
    out["p_alive"] = model.conditional_probability_alive(x, t_x, big_t)
    out["expected_h"] = model.conditional_expected_number_of_purchases_up_to_time(
        horizon, x, t_x, big_t
    )
    out["recency_over_gap"] = out["recency"] / out["mean_gap"]
    return out


def labels_at(
    days: pd.DataFrame, index: pd.Index, cutoff: pd.Timestamp, horizon: float
) -> np.ndarray:
    """1.0 where the customer has a purchase day in ``[cutoff, cutoff + horizon)``."""
    stop = cutoff + pd.Timedelta(days=horizon)
    window = days.loc[(days["day"] >= cutoff) & (days["day"] < stop), "customer_id"]
    return index.isin(pd.Index(window.unique())).astype(float)


class BuyProbabilityModel:
    """Calibrated P(buy within ``horizon_days``) from RFM features at cut-offs before as_of.

    Args:
        horizon_days: the label window.
        n_cutoffs: how many cut-offs (``spacing_days`` apart) to train and calibrate on.
        spacing_days: days between cut-offs.
        min_customers: a cut-off needs this many customers to count.
        clip: probabilities are kept in ``[clip, 1 - clip]``.
        random_state: the trees' seed.
    """

    def __init__(
        self,
        *,
        horizon_days: float = 90.0,
        n_cutoffs: int = 5,
        spacing_days: float = 30.0,
        min_customers: int = 100,
        clip: float = 0.005,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.n_cutoffs = n_cutoffs
        self.spacing_days = spacing_days
        self.min_customers = min_customers
        self.clip = clip
        self.random_state = random_state

    def _trees(self) -> Any:
        import lightgbm as lgb

        return lgb.LGBMClassifier(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=40,
            subsample=1.0,
            colsample_bytree=1.0,
            reg_lambda=1.0,
            random_state=self.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(
        self, days: pd.DataFrame, *, as_of: pd.Timestamp, model: BetaGeoFitter
    ) -> BuyProbabilityModel:
        """Fit on purchase days before ``as_of``; ``model`` (fitted before as_of) gives the
        BG/NBD features. Sets ``kind_`` (``"trees"``, ``"repeat_model_calibrated"`` or
        ``"repeat_model"``), ``cutoffs_``, ``train_rows_``."""
        horizon = float(self.horizon_days)
        self.model_ = model
        latest = (as_of - pd.Timedelta(days=horizon)).floor("D")
        sets: list[tuple[pd.Timestamp, pd.DataFrame, np.ndarray]] = []
        for k in range(self.n_cutoffs):
            cutoff = latest - pd.Timedelta(days=float(k * self.spacing_days))
            frame = features_at(days, cutoff, model, horizon)
            if len(frame) < self.min_customers:
                break
            y = labels_at(days, frame.index, cutoff, horizon)
            if y.min() == y.max():
                break
            sets.append((cutoff, frame, y))
        self.cutoffs_ = [c.to_pydatetime() for c, _, _ in sets]
        self.trees_: Any = None
        self.calibrator_: IsotonicRegression | None = None
        self.train_rows_ = int(sum(len(f) for _, f, _ in sets[1:]))
        if len(sets) >= 3:
            train_x = pd.concat([f for _, f, _ in sets[1:]])[FEATURES].to_numpy(dtype=float)
            train_y = np.concatenate([y for _, _, y in sets[1:]])
            self.trees_ = self._trees().fit(train_x, train_y)
            held = sets[0][1][FEATURES].to_numpy(dtype=float)
            raw = self.trees_.predict_proba(held)[:, 1]
            self.kind_ = "trees"
        elif sets:
            raw = self._repeat_raw(sets[0][1])
            self.kind_ = "repeat_model_calibrated"
        else:
            self.kind_ = "repeat_model"
            return self
        self.calibrator_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            raw, sets[0][2]
        )
        return self

    def _repeat_raw(self, frame: pd.DataFrame) -> np.ndarray:
        x = frame["frequency"].to_numpy()
        t_x = np.nan_to_num(frame["mean_gap"].to_numpy() * x)
        return self.model_.probability_of_purchase_within(
            float(self.horizon_days), x, t_x, frame["tenure"].to_numpy()
        )

    def predict_proba(self, days: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
        """Calibrated probabilities for every customer with a purchase day before ``as_of``."""
        frame = features_at(days, as_of, self.model_, float(self.horizon_days))
        if self.trees_ is not None:
            raw = self.trees_.predict_proba(frame[FEATURES].to_numpy(dtype=float))[:, 1]
        else:
            raw = self._repeat_raw(frame)
        p = raw if self.calibrator_ is None else self.calibrator_.predict(raw)
        return pd.Series(np.clip(p, self.clip, 1.0 - self.clip), index=frame.index)

"""P(at least one purchase in the next ``horizon`` days): BG/NBD, corrected by boosted trees.

The repeat-buying model is the base: it already handles a store that ages (customers'
tenure grows, activity decays), which a model learned at earlier cut-offs cannot see.
Gradient-boosted trees learn a *correction* to its log-odds from features that mean the
same at every cut-off (how late the customer is relative to their own rhythm, how
regular they are, whether they speed up or slow down), never raw tenure or counts over
windows longer than the youngest training store could have.

Training rows come from cut-offs *inside* the training period: at each cut-off ``c``
(every label window ``[c, c + horizon)`` ends at or before ``as_of``) the base model is
refitted on the purchase days before ``c`` (so its probability is the same feature in
training and at scoring), every customer with a purchase day before ``c`` gets features
from the days before ``c``, and the label "bought in ``[c, c + horizon)``". The trees start
from the base model's log-odds (LightGBM ``init_score``) and are trained with log-loss on
the older cut-offs; the most recent cut-off is held in: it chooses how many rounds of
correction to keep (early stopping; zero rounds is the plain base model). The trees are
then refitted with that many rounds on every cut-off. Log-loss boosting from a calibrated
start keeps probabilities calibrated; the evaluation's calibration table checks it.

Probabilities are clipped to ``[clip, 1 - clip]``: nobody is certain. With fewer than two
usable cut-offs the base model's own probability is used. One thread, fixed seed:
byte-identical output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .bgnbd import BetaGeoFitter
from .mbgnbd import ModifiedBetaGeoFitter
from .summary import DAY

BASES: dict[str, type[BetaGeoFitter]] = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter}

#: the correction's inputs: each means the same in a young store and an old one
FEATURES = [
    "recency_over_gap",
    "cv_gap",
    "recency_over_max_gap",
    "rate_90d",
    "trend",
    "days_30d",
    "logit_alive",
    "z_gap",
    "log_recency",
    "share_30_90",
    "rate_ratio",
]
#: every column :func:`features_at` returns
COLUMNS = [
    "recency",
    "frequency",
    "tenure",
    "mean_gap",
    "std_gap",
    "max_gap",
    "last_gap",
    "days_90d",
    "p_base",
    "p_alive",
    "logit_base",
    *FEATURES,
]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1.0 - 1e-6)
    return np.asarray(np.log(q / (1.0 - q)))


def features_at(
    days: pd.DataFrame, cutoff: pd.Timestamp, model: BetaGeoFitter, horizon: float
) -> pd.DataFrame:
    """Features per customer from purchase days (``customer_id, day, value``) before ``cutoff``.

    Args:
        days: :func:`engine.predict.summary.purchase_days` output (any order).
        cutoff: the moment the features describe; later days are ignored.
        model: a repeat-buying model fitted on the days before ``cutoff`` (gives
            ``p_base``, its P(buy within ``horizon``), and ``p_alive``).
        horizon: the label window in days.

    Returns:
        A frame indexed by customer id (sorted) with :data:`COLUMNS`, times in days.
        Gap statistics are NaN where the customer has too few gaps for them.
    """
    before = days.loc[days["day"] < cutoff].sort_values(["customer_id", "day"])
    codes, ids = pd.factorize(before["customer_id"].to_numpy(), sort=True)
    n = len(ids)
    index = pd.Index(ids, name="customer_id")
    if n == 0:
        return pd.DataFrame(columns=COLUMNS, index=index, dtype=float)
    age = ((cutoff - before["day"]) / DAY).to_numpy(dtype=float)
    count = np.bincount(codes, minlength=n).astype(float)
    starts = np.searchsorted(codes, np.arange(n))
    ends = np.r_[starts[1:], len(codes)]
    tenure, recency = age[starts], age[ends - 1]
    x = count - 1.0
    t_x = tenure - recency
    same = codes[1:] == codes[:-1]
    gaps = (age[:-1] - age[1:])[same]
    owner = codes[1:][same]
    gap_sum = np.bincount(owner, gaps, n)
    gap_squares = np.bincount(owner, gaps * gaps, n)
    max_gap = np.zeros(n)
    np.maximum.at(max_gap, owner, gaps)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_gap = np.where(x > 0, gap_sum / np.maximum(x, 1.0), np.nan)
        std_gap = np.where(
            x > 1, np.sqrt(np.maximum(gap_squares / np.maximum(x, 1.0) - mean_gap**2, 0.0)), np.nan
        )
        out: dict[str, np.ndarray] = {
            "recency": recency,
            "frequency": x,
            "tenure": tenure,
            "mean_gap": mean_gap,
            "std_gap": std_gap,
            "max_gap": np.where(x > 0, max_gap, np.nan),
            "last_gap": np.where(x > 0, age[np.maximum(ends - 2, 0)] - recency, np.nan),
        }
        days_30 = np.bincount(codes, (age <= 30).astype(float), n)
        days_90 = np.bincount(codes, (age <= 90).astype(float), n)
        days_180 = np.bincount(codes, (age <= 180).astype(float), n)
        out["days_30d"] = days_30
        out["days_90d"] = days_90
        out["rate_90d"] = days_90 / np.minimum(np.maximum(tenure, 1.0), 90.0)
        rate_all = count / np.maximum(tenure, 1.0)
        out["trend"] = days_90 - (days_180 - days_90)
        out["recency_over_gap"] = recency / mean_gap
        out["cv_gap"] = std_gap / mean_gap
        out["recency_over_max_gap"] = recency / out["max_gap"]
        out["z_gap"] = (recency - mean_gap) / std_gap
        out["log_recency"] = np.log1p(recency)
        out["share_30_90"] = days_30 / np.maximum(days_90, 1.0)
        out["rate_ratio"] = out["rate_90d"] / rate_all
    out["p_base"] = model.probability_of_purchase_within(horizon, x, t_x, tenure)
    out["p_alive"] = model.conditional_probability_alive(x, t_x, tenure)
    out["logit_base"] = _logit(out["p_base"])
    out["logit_alive"] = _logit(out["p_alive"])
    return pd.DataFrame(out, index=index)[COLUMNS]


def labels_at(
    days: pd.DataFrame, index: pd.Index, cutoff: pd.Timestamp, horizon: float
) -> np.ndarray:
    """1.0 where the customer has a purchase day in ``[cutoff, cutoff + horizon)``."""
    stop = cutoff + pd.Timedelta(days=horizon)
    window = days.loc[(days["day"] >= cutoff) & (days["day"] < stop), "customer_id"]
    return index.isin(pd.Index(window.unique())).astype(float)


def summary_arrays(days: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[np.ndarray, ...]:
    """``(x, t_x, T)`` in days from the purchase days before ``cutoff`` (customers sorted)."""
    before = days.loc[days["day"] < cutoff]
    grouped = before.groupby("customer_id", sort=True)["day"]
    first, last = grouped.min(), grouped.max()
    x = (grouped.size() - 1).to_numpy(dtype=float)
    return x, ((last - first) / DAY).to_numpy(), ((cutoff - first) / DAY).to_numpy()


class BuyProbabilityModel:
    """Calibrated P(buy within ``horizon_days``): a base repeat-buying model, corrected.

    Args:
        horizon_days: the label window.
        base: ``"bgnbd"`` (default) or ``"mbgnbd"``, refitted at every cut-off.
        penalizer_coef: the base model's L2 penalty.
        n_cutoffs: how many cut-offs (``spacing_days`` apart) to train on; the most
            recent is held in to choose the number of boosting rounds.
        spacing_days: days between cut-offs.
        min_customers: a cut-off needs this many customers to count.
        max_rounds: at most this many boosting rounds.
        clip: probabilities are kept in ``[clip, 1 - clip]``.
        random_state: the trees' seed.
    """

    def __init__(
        self,
        *,
        horizon_days: float = 90.0,
        base: str = "bgnbd",
        penalizer_coef: float = 0.001,
        n_cutoffs: int = 4,
        spacing_days: float = 15.0,
        min_customers: int = 100,
        max_rounds: int = 500,
        clip: float = 0.005,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.base = base
        self.penalizer_coef = penalizer_coef
        self.n_cutoffs = n_cutoffs
        self.spacing_days = spacing_days
        self.min_customers = min_customers
        self.max_rounds = max_rounds
        self.clip = clip
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": 0.03,
            "num_leaves": 3,
            "min_data_in_leaf": 200,
            "lambda_l2": 10.0,
            "seed": self.random_state,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }

    def _fit_base(
        self, days: pd.DataFrame, cutoff: pd.Timestamp, start: dict[str, float] | None
    ) -> BetaGeoFitter:
        if self.base not in BASES:
            raise ValueError(f"unknown base model {self.base!r}; valid: {', '.join(BASES)}")
        x, t_x, big_t = summary_arrays(days, cutoff)
        initial = None if start is None else [start[k] for k in BetaGeoFitter.param_names]
        return BASES[self.base](penalizer_coef=self.penalizer_coef).fit(
            x, t_x, big_t, initial_params=initial
        )

    def fit(self, days: pd.DataFrame, *, as_of: pd.Timestamp) -> BuyProbabilityModel:
        """Fit on purchase days (``customer_id, day, value``) strictly before ``as_of``.

        Returns:
            self, with ``base_model_`` (fitted on every day before as_of), ``kind_``
            (``"corrected"`` or ``"base"``), ``cutoffs_``, ``rounds_`` (boosting rounds
            kept; 0 means the base model alone), ``train_rows_``.
        """
        import lightgbm as lgb

        horizon = float(self.horizon_days)
        end = pd.Timestamp(as_of)
        days = days.loc[days["day"] < end]
        self.base_model_ = self._fit_base(days, end, None)
        latest = (end - pd.Timedelta(days=horizon)).floor("D")
        # The final trees learn on cut-offs latest, latest - spacing, ...; the number of
        # rounds is chosen the way it will be used: trees from cut-offs whose label windows
        # end at or before a held-in cut-off (as the final trees' end at as_of) scored on it.
        sets = self._sets(days, latest, horizon)
        probe_sets = self._sets(days, latest - pd.Timedelta(days=horizon), horizon)
        self.cutoffs_ = [c.to_pydatetime() for c, _, _ in sets]
        self.train_rows_ = int(sum(len(f) for _, f, _ in sets))
        self.booster_: Any = None
        self.rounds_ = 0
        self.kind_ = "base"
        if not sets or not probe_sets:
            return self
        held_frame, held_y = sets[0][1], sets[0][2]
        held = lgb.Dataset(
            held_frame[FEATURES].to_numpy(dtype=float),
            held_y,
            init_score=held_frame["logit_base"].to_numpy(),
            free_raw_data=False,
        )
        probe = lgb.train(
            self._params(),
            _dataset(probe_sets),
            self.max_rounds,
            valid_sets=[held],
            callbacks=[lgb.early_stopping(30, verbose=False)],
        )
        # early stopping never reports 0 rounds: keep the base alone when the kept
        # rounds do no better on the held-in cut-off than no correction at all
        plain = _log_loss(held_frame["logit_base"].to_numpy(), held_y)
        corrected = _log_loss(
            held_frame["logit_base"].to_numpy()
            + probe.predict(
                held_frame[FEATURES].to_numpy(dtype=float),
                num_iteration=probe.best_iteration,
                raw_score=True,
            ),
            held_y,
        )
        self.held_in_log_loss_ = {"base": plain, "corrected": corrected}
        if corrected >= plain:
            return self
        self.rounds_ = int(probe.best_iteration)
        self.booster_ = lgb.train(self._params(), _dataset(sets), self.rounds_)
        self.kind_ = "corrected"
        return self

    def _sets(
        self, days: pd.DataFrame, latest: pd.Timestamp, horizon: float
    ) -> list[tuple[pd.Timestamp, pd.DataFrame, np.ndarray]]:
        """(cut-off, features, labels) at ``latest`` and every ``spacing_days`` before it,
        while a cut-off has ``min_customers`` and both labels."""
        sets: list[tuple[pd.Timestamp, pd.DataFrame, np.ndarray]] = []
        for k in range(self.n_cutoffs):
            cutoff = latest - pd.Timedelta(days=float(k * self.spacing_days))
            if days.loc[days["day"] < cutoff, "customer_id"].nunique() < self.min_customers:
                break
            # warm start: the store at the cut-off is the same store, a little younger
            model = self._fit_base(days, cutoff, self.base_model_.params_)
            frame = features_at(days, cutoff, model, horizon)
            y = labels_at(days, frame.index, cutoff, horizon)
            if y.min() == y.max():
                break
            sets.append((cutoff, frame, y))
        return sets

    def predict_proba(self, days: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
        """Probabilities for every customer with a purchase day before ``as_of`` (the
        moment fitted at), indexed by customer id."""
        if not hasattr(self, "base_model_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this BuyProbabilityModel is not fitted yet: call fit(...) first")
        frame = features_at(days, pd.Timestamp(as_of), self.base_model_, float(self.horizon_days))
        z = frame["logit_base"].to_numpy()
        if self.booster_ is not None and len(frame):
            z = z + self.booster_.predict(frame[FEATURES].to_numpy(dtype=float), raw_score=True)
        p = 1.0 / (1.0 + np.exp(-z))
        return pd.Series(np.clip(p, self.clip, 1.0 - self.clip), index=frame.index)


def _dataset(parts: list[tuple[pd.Timestamp, pd.DataFrame, np.ndarray]]) -> Any:
    import lightgbm as lgb

    frame = pd.concat([f for _, f, _ in parts])
    return lgb.Dataset(
        frame[FEATURES].to_numpy(dtype=float),
        np.concatenate([y for _, _, y in parts]),
        init_score=frame["logit_base"].to_numpy(),
        free_raw_data=False,
    )


def _log_loss(z: np.ndarray, y: np.ndarray) -> float:
    """Mean log-loss of log-odds ``z`` against 0/1 labels."""
    return float(np.mean(np.logaddexp(0.0, z) - y * z))

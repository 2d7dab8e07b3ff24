"""Per-customer next-purchase predictions: when, how sure, what, for how much, and how alive.

:class:`PurchasePredictor` combines

* a repeat-buying model (MBG/NBD by default, BG/NBD on request) for ``p_active``,
  expected purchases and the distribution of the time to the next purchase;
* Gamma-Gamma for the value of a purchase (so ``clv_12m``);
* the naive "last purchase + mean gap" rule, blended into the predicted date with a
  weight learned on a temporal holdout inside the training data;
* an isotonic map, learned on that same inner holdout, that turns the model's
  probability of a purchase within +/- ``window_days`` of the predicted date into a
  ``confidence`` that means what it says (see docs/prediction.md);
* the customer's category history and order values, shrunk toward the store's.

Everything is in days and uses only order lines strictly before ``as_of``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression

from .base import BaseFitter
from .bgnbd import BetaGeoFitter
from .buy_model import BuyProbabilityModel
from .gamma_gamma import GammaGammaFitter
from .mbgnbd import ModifiedBetaGeoFitter
from .naive import NaiveNextPurchase
from .summary import DAY, purchase_days, reindex_summary, summary_from_purchase_days

MODELS: dict[str, type[BetaGeoFitter]] = {"mbgnbd": ModifiedBetaGeoFitter, "bgnbd": BetaGeoFitter}
OUTPUT_COLUMNS = [
    "customer_id",
    "predicted_date",
    "confidence",
    "p_active",
    "expected_purchases_90d",
    "p_buy_90d",
    "likely_categories",
    "price_low",
    "price_high",
    "clv_12m",
]
OUTLOOK_WINDOWS = (7, 30, 90)
NO_CATEGORY = "(none)"
_DAYS_PER_MONTH = 365.25 / 12
FAR_RATE_DAYS = 90.0
#: the furthest predicted date (days after as_of)
MAX_OFFSET_DAYS = 1095.0
#: confidence is kept in [MIN_CONFIDENCE, MAX_CONFIDENCE] (percent) and probabilities in
#: [1 - PROBABILITY_CAP, PROBABILITY_CAP]: a forecast is never certain
MIN_CONFIDENCE = 0.1
MAX_CONFIDENCE = 99.0
PROBABILITY_CAP = 0.995


class _PlattMap:
    """Platt scaling: a logistic curve on the logit of the raw probability (two
    parameters, so it cannot overfit the inner holdout the way a step function can)."""

    def fit(self, raw: np.ndarray, hit: np.ndarray) -> _PlattMap:
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(C=1e6).fit(self._features(raw), hit.astype(int))
        return self

    @staticmethod
    def _features(raw: np.ndarray) -> np.ndarray:
        clipped = np.clip(np.asarray(raw, dtype=float), 1e-6, 1 - 1e-6)
        return np.log(clipped / (1 - clipped)).reshape(-1, 1)

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict_proba(self._features(raw))[:, 1])


def _make_calibrator(kind: str) -> Any:
    if kind == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    if kind == "platt":
        return _PlattMap()
    raise ValueError(f"unknown calibration {kind!r}; valid: isotonic, platt")


def _date_weights_grid() -> np.ndarray:
    return np.round(np.linspace(0.0, 1.0, 21), 2)


class PurchasePredictor(BaseFitter):
    """Next-purchase predictions for every customer, as of a moment.

    Args:
        model: ``"mbgnbd"`` (default; one-time buyers can be inactive) or ``"bgnbd"``.
        penalizer_coef: L2 penalty for the repeat-buying and spend fits.
        horizon_days: the predicted date is the median time to the next purchase *given
            one within this horizon* (a date 3 years out helps no merchandiser).
        window_days: confidence is the chance of a purchase within +/- this many days
            of the predicted date.
        calibration_days: length of the inner holdout that calibrates confidence and
            the date blend (default ``horizon_days + window_days``, so every predicted
            window is observed in it).
        category_prior_strength: pseudo-count of store-mix lines added to each customer's
            category counts.
        price_prior_strength: pseudo-count of population orders in each customer's
            order-value estimate.
        price_coverage: share of orders the price range should cover (0.8 -> 10th..90th).
        clv_months: months of expected spend in ``clv_12m``.
        annual_discount_rate: discount applied month by month to future spend (0 = none).
        min_calibration_customers: an inner split needs this many customers; with no
            such split the model's own probabilities are used uncalibrated and the date
            is the model's.
        calibration: ``"isotonic"`` (default) or ``"platt"`` (a logistic curve).
        calibration_splits: how many inner splits to pool (each a full refit).
        calibration_spacing_days: days between consecutive inner splits.
        random_state: seed of the P(buy in 90 d) trees (default 0); the fit is deterministic.
        far_dates: give customers with ``p_buy_90d < 0.5`` a date past the horizon (the
            median of an exponential wait with that 90-day chance, its band that wait's
            middle half) and its low confidence (default on; off reproduces the old
            within-horizon dates for comparison).
    """

    def __init__(
        self,
        *,
        model: str = "mbgnbd",
        penalizer_coef: float = 0.001,
        horizon_days: float = 90.0,
        window_days: float = 7.0,
        calibration_days: float | None = None,
        category_prior_strength: float = 5.0,
        price_prior_strength: float = 3.0,
        price_coverage: float = 0.8,
        clv_months: int = 12,
        annual_discount_rate: float = 0.0,
        min_calibration_customers: int = 200,
        calibration: str = "isotonic",
        calibration_splits: int = 3,
        calibration_spacing_days: float = 30.0,
        random_state: int | None = None,
        far_dates: bool = True,
    ) -> None:
        self.model = model
        self.penalizer_coef = penalizer_coef
        self.horizon_days = horizon_days
        self.window_days = window_days
        self.calibration_days = calibration_days
        self.category_prior_strength = category_prior_strength
        self.price_prior_strength = price_prior_strength
        self.price_coverage = price_coverage
        self.clv_months = clv_months
        self.annual_discount_rate = annual_discount_rate
        self.min_calibration_customers = min_calibration_customers
        self.calibration = calibration
        self.calibration_splits = calibration_splits
        self.calibration_spacing_days = calibration_spacing_days
        self.random_state = random_state
        self.far_dates = far_dates

    # -- fitting ------------------------------------------------------------------
    def _new_model(self) -> BetaGeoFitter:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; valid: {', '.join(MODELS)}")
        return MODELS[self.model](penalizer_coef=self.penalizer_coef)

    def _fit_repeat_model(
        self, summary: pd.DataFrame, start: dict[str, float] | None = None
    ) -> BetaGeoFitter:
        initial = None if start is None else [start[name] for name in BetaGeoFitter.param_names]
        return self._new_model().fit(
            summary["frequency"], summary["recency"], summary["T"], initial_params=initial
        )

    def _date_parts(
        self,
        model: BetaGeoFitter,
        naive: NaiveNextPurchase,
        summary: pd.DataFrame,
        as_of: pd.Timestamp,
        weight: float,
    ) -> dict[str, np.ndarray]:
        """Offsets (days from as_of) of the predicted date and its band, and the raw
        (uncalibrated) probability of a purchase within the window around it."""
        x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        horizon = float(self.horizon_days)
        model_offset = model.time_to_next_purchase_quantile(0.5, x, big_t, horizon)
        naive_offset = np.minimum(
            naive.predict(summary, as_of=as_of)["offset_days"].to_numpy(), horizon
        )
        offset = np.clip(weight * model_offset + (1.0 - weight) * naive_offset, 0.0, horizon)
        low = np.minimum(model.time_to_next_purchase_quantile(0.25, x, big_t, horizon), offset)
        high = np.maximum(model.time_to_next_purchase_quantile(0.75, x, big_t, horizon), offset)
        alive = model.conditional_probability_alive(x, t_x, big_t)
        w = float(self.window_days)
        survive_before = model.probability_no_purchase_if_alive(
            np.maximum(offset - w, 0.0), x, big_t
        )
        survive_after = model.probability_no_purchase_if_alive(offset + w + 1.0, x, big_t)
        raw = alive * (survive_before - survive_after)
        return {
            "offset": offset,
            "low": low,
            "high": high,
            "raw": np.clip(raw, 0.0, 1.0),
            "model_offset": model_offset,
            "naive_offset": naive_offset,
        }

    def _inner_split(
        self, days: pd.DataFrame, inner_end: pd.Timestamp, stop: pd.Timestamp
    ) -> dict[str, Any] | None:
        """Fit at ``inner_end`` on the purchase days before it and observe what happened
        in ``[inner_end, stop)``: the model's and the naive offsets, the actual first
        purchase offset, and everything needed to score a predicted date."""
        before = days.loc[days["day"] < inner_end]
        if before["customer_id"].nunique() < self.min_calibration_customers:
            return None
        summary = summary_from_purchase_days(before, observation_period_end=inner_end)
        # Warm start from the main fit: the inner store is the same store, a little younger.
        model = self._fit_repeat_model(summary, start=self.repeat_model_.params_)
        naive = NaiveNextPurchase().fit(summary)
        after = days.loc[(days["day"] >= inner_end) & (days["day"] < stop)]
        # hash lookups into the summary's index (``isin`` on strings is far slower)
        pos = summary.index.get_indexer(after["customer_id"])
        known = pos >= 0
        offsets = ((after["day"] - inner_end) / DAY).to_numpy()[known]
        pos = pos[known]
        first_after = np.full(len(summary), np.inf)
        np.minimum.at(first_after, pos, offsets)
        parts = self._date_parts(model, naive, summary, inner_end, 1.0)
        return {
            "model": model,
            "naive": naive,
            "summary": summary,
            "model_offset": parts["model_offset"],
            "naive_offset": parts["naive_offset"],
            "first_after": first_after,
            "later_offsets": offsets,
            "later_pos": pos,
            "inner_end": inner_end,
        }

    def _calibrate(self, days: pd.DataFrame, as_of: pd.Timestamp) -> None:
        """Learn the date blend and the confidence map on inner holdouts before ``as_of``.

        Several inner splits, ``calibration_spacing_days`` apart, are pooled: more
        customers per confidence level, so the map follows the data, not its noise.
        """
        length = self.calibration_days or (self.horizon_days + self.window_days)
        first_end = (as_of - pd.Timedelta(days=float(length))).floor("D")
        self.date_weight_ = 1.0
        self.calibrator_ = None
        self.calibration_info_ = {"inner_as_of": [], "customers": 0}
        splits = []
        for k in range(self.calibration_splits):
            inner_end = first_end - pd.Timedelta(days=float(k * self.calibration_spacing_days))
            split = self._inner_split(days, inner_end, inner_end + pd.Timedelta(days=float(length)))
            if split is not None:
                splits.append(split)
        if not splits:
            return
        # The blend weight that minimises the median absolute date error of the customers
        # who did buy within the horizon, pooled over the splits.
        first = np.concatenate([sp["first_after"] for sp in splits])
        buyers = first <= self.horizon_days
        if buyers.sum() >= 20:
            m_off = np.concatenate([sp["model_offset"] for sp in splits])[buyers]
            n_off = np.concatenate([sp["naive_offset"] for sp in splits])[buyers]
            grid = _date_weights_grid()
            errors = np.array(
                [
                    np.median(
                        np.abs(
                            np.floor(np.clip(w * m_off + (1 - w) * n_off, 0, self.horizon_days))
                            - first[buyers]
                        )
                    )
                    for w in grid
                ]
            )
            # ties go to the model (the larger weight)
            self.date_weight_ = float(grid[errors <= errors.min() + 1e-9].max())
        raws, hits = [], []
        for sp in splits:
            parts = self._date_parts(
                sp["model"], sp["naive"], sp["summary"], sp["inner_end"], self.date_weight_
            )
            predicted_day = np.floor(parts["offset"])
            # A hit: any purchase day within +/- window of the predicted day.
            pos = sp["later_pos"]
            near = np.abs(sp["later_offsets"] - predicted_day[pos]) <= self.window_days
            hit = np.zeros(len(predicted_day), dtype=float)
            hit[np.unique(pos[near])] = 1.0
            raws.append(parts["raw"])
            hits.append(hit)
        raw, hit = np.concatenate(raws), np.concatenate(hits)
        self.calibrator_ = _make_calibrator(self.calibration).fit(raw, hit)
        self.calibration_info_ = {
            "inner_as_of": [sp["inner_end"].to_pydatetime() for sp in splits],
            "customers": int(len(hit)),
            "hit_rate": float(hit.mean()),
            "date_weight": self.date_weight_,
        }

    def fit(self, order_lines: pd.DataFrame, *, as_of: datetime) -> PurchasePredictor:
        """Fit on order lines strictly before ``as_of``.

        Args:
            order_lines: columns ``customer_id, ordered_at, amount`` (and ``order_id``,
                ``category`` when available), e.g. :func:`engine.frames.load_order_lines`.
            as_of: the moment to predict from; later rows are ignored.

        Returns:
            self, fitted: ``as_of_``, ``days_`` (purchase days), ``summary_`` (RFM in
            days), ``repeat_model_``, ``spend_model_``, ``naive_``, ``date_weight_``,
            ``calibrator_``, ``category_counts_``, ``category_mix_``, ``price_stats_``.
        """
        end = pd.Timestamp(as_of)
        lines = order_lines.loc[order_lines["ordered_at"] < end]
        self.as_of_ = end
        self.days_ = purchase_days(lines, observation_period_end=end)
        self.summary_ = summary_from_purchase_days(self.days_, observation_period_end=end)
        if len(self.summary_) == 0:
            raise ValueError("no orders before as_of: nothing to fit")
        self.repeat_model_ = self._fit_repeat_model(self.summary_)
        self.spend_model_ = GammaGammaFitter(penalizer_coef=self.penalizer_coef).fit(
            self.summary_["frequency"],
            self.summary_["monetary_value"],
            fallback_value=float(self.days_["value"].clip(lower=0.0).mean()),
        )
        self.naive_ = NaiveNextPurchase().fit(self.summary_)
        self._calibrate(self.days_, end)
        # the same repeat-buying family as the dates and confidence, so the two agree
        self.buy_model_ = BuyProbabilityModel(
            horizon_days=90.0,
            base=self.model,
            penalizer_coef=self.penalizer_coef,
            random_state=0 if self.random_state is None else self.random_state,
        ).fit(self.days_, as_of=end)
        self.p_buy_90d_ = self.buy_model_.predict_proba(self.days_, end)
        self._fit_categories(lines)
        self._fit_prices(lines)
        self.params_ = {**self.repeat_model_.params_, "date_weight": self.date_weight_}
        self._fit_population()
        return self

    def _fit_categories(self, lines: pd.DataFrame) -> None:
        if "category" in lines:
            known = lines.loc[lines["category"].notna() & (lines["category"].astype(str) != "")]
        else:
            known = lines.iloc[0:0].assign(category=pd.Series(dtype=str))
        counts = (
            known.groupby([known["customer_id"].astype(str), known["category"].astype(str)])
            .size()
            .rename("n")
            .reset_index()
        )
        counts.columns = ["customer_id", "category", "n"]
        self.category_counts_ = counts
        mix = counts.groupby("category")["n"].sum()
        self.category_mix_ = (mix / mix.sum()).sort_values(ascending=False) if len(mix) else mix

    def _fit_prices(self, lines: pd.DataFrame) -> None:
        # Integer codes and bincounts: grouping 10^6 string keys in pandas is the slow part.
        key = lines["order_id"] if "order_id" in lines else lines["ordered_at"]
        order_code, _ = pd.factorize(key)
        customer_code, customers = pd.factorize(lines["customer_id"].astype(str))
        n_orders = int(order_code.max()) + 1 if len(order_code) else 0
        value = np.bincount(
            order_code, weights=lines["amount"].astype(float).fillna(0.0), minlength=n_orders
        )
        owner = np.zeros(n_orders, dtype=np.int64)
        owner[order_code] = customer_code
        keep = value > 0
        logs, owner = np.log(value[keep]), owner[keep]
        size = np.bincount(owner, minlength=len(customers)).astype(float)
        total = np.bincount(owner, weights=logs, minlength=len(customers))
        squares = np.bincount(owner, weights=logs**2, minlength=len(customers))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / size
            var = np.maximum(squares / size - mean**2, 0.0)
        stats = pd.DataFrame(
            {"n": size, "mean": mean, "var": var}, index=pd.Index(customers, name="customer_id")
        )
        self.price_stats_ = stats.loc[stats["n"] > 0]
        self.population_log_price_ = (
            (float(logs.mean()), float(logs.std())) if len(logs) else (0.0, 0.0)
        )

    # -- predicting ----------------------------------------------------------------
    def _summary_for(self, customer_ids: Sequence[str] | None) -> pd.DataFrame:
        self._check_fitted()
        if customer_ids is None:
            return self.summary_
        return reindex_summary(self.summary_, customer_ids)

    def _confidence(self, raw: np.ndarray) -> np.ndarray:
        calibrated = raw if self.calibrator_ is None else self.calibrator_.predict(raw)
        return np.clip(np.nan_to_num(100.0 * calibrated, nan=0.0), 0.0, 100.0)

    def purchase_probabilities(
        self, windows: Sequence[int] = OUTLOOK_WINDOWS, customer_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """P(at least one purchase within each window after as_of), one column ``p_buy_{w}d``
        per window, indexed by customer."""
        summary = self._summary_for(customer_ids)
        x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        return pd.DataFrame(
            {
                f"p_buy_{w}d": self.repeat_model_.probability_of_purchase_within(w, x, t_x, big_t)
                for w in windows
            },
            index=summary.index,
        )

    def _clv(
        self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, value: np.ndarray
    ) -> np.ndarray:
        model = self.repeat_model_
        total = np.zeros_like(x)
        previous = np.zeros_like(x)
        for month in range(1, self.clv_months + 1):  # a loop over months, vectorised over customers
            cumulative = model.conditional_expected_number_of_purchases_up_to_time(
                month * _DAYS_PER_MONTH, x, t_x, big_t
            )
            discount = (1.0 + self.annual_discount_rate) ** (-month / 12.0)
            total += (cumulative - previous) * discount
            previous = cumulative
        return total * value

    def _categories(self, index: pd.Index) -> pd.DataFrame:
        """Top three categories per customer: (n_c + k m_c) / (n + k).

        Candidates are the customer's own categories plus the store's top three (a
        category the customer never bought scores k m_c / (n + k), which only the store's
        top three can win). Integer codes throughout: string grouping is the slow path.
        """
        k = float(self.category_prior_strength)
        mix = self.category_mix_
        if len(mix) == 0:
            return pd.DataFrame(
                {"likely_categories": "", "category_probabilities": [{}] * len(index)},
                index=index,
            )
        names = mix.index.to_numpy(dtype=object)
        shares = mix.to_numpy(dtype=float)
        counts = self.category_counts_
        cust = index.get_indexer(counts["customer_id"])
        mine = cust >= 0
        cust = cust[mine]
        cat = mix.index.get_indexer(counts["category"])[mine]
        n = counts["n"].to_numpy(dtype=float)[mine]
        totals = np.bincount(cust, weights=n, minlength=len(index))
        own_score = (n + k * shares[cat]) / (totals[cust] + k)
        top = np.arange(min(3, len(mix)))
        prior_cust = np.repeat(np.arange(len(index)), len(top))
        prior_cat = np.tile(top, len(index))
        prior_score = k * shares[prior_cat] / (totals[prior_cust] + k)
        # a category the customer bought keeps its own (higher) score
        fresh = ~np.isin(prior_cust * len(mix) + prior_cat, cust * len(mix) + cat)
        all_cust = np.concatenate([cust, prior_cust[fresh]])
        all_cat = np.concatenate([cat, prior_cat[fresh]])
        all_score = np.concatenate([own_score, prior_score[fresh]])
        order = np.lexsort((all_cat, -all_score, all_cust))
        all_cust, all_cat, all_score = all_cust[order], all_cat[order], all_score[order]
        group_start = np.searchsorted(all_cust, all_cust, side="left")
        rank = np.arange(len(all_cust)) - group_start
        keep = rank < 3
        top_cat = np.full((len(index), 3), -1)
        top_score = np.zeros((len(index), 3))
        top_cat[all_cust[keep], rank[keep]] = all_cat[keep]
        top_score[all_cust[keep], rank[keep]] = all_score[keep]
        labels = np.where(top_cat >= 0, names[np.maximum(top_cat, 0)], "")
        joined = (
            pd.Series(labels[:, 0], dtype=object)
            .str.cat(
                [pd.Series(labels[:, 1], dtype=object), pd.Series(labels[:, 2], dtype=object)],
                sep=";",
            )
            .str.strip(";")
        )
        probabilities = [
            {c: round(float(p), 4) for c, p in zip(cs, ps, strict=True) if c}
            for cs, ps in zip(labels.tolist(), top_score.tolist(), strict=True)
        ]
        return pd.DataFrame(
            {"likely_categories": joined.to_numpy(), "category_probabilities": probabilities},
            index=index,
        )

    def _prices(self, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
        k = float(self.price_prior_strength)
        mu0, sd0 = self.population_log_price_
        stats = self.price_stats_.reindex(index)
        n = stats["n"].fillna(0.0).to_numpy()
        mean = stats["mean"].fillna(mu0).to_numpy()
        var = stats["var"].fillna(0.0).to_numpy()
        mu = (n * mean + k * mu0) / (n + k)
        # own spread counts n - 1 degrees of freedom; the population's counts k
        spread = np.sqrt(
            (np.maximum(n - 1.0, 0.0) * var + k * sd0**2) / (np.maximum(n - 1.0, 0.0) + k)
        )
        z = float(norm.ppf(0.5 + self.price_coverage / 2.0))
        return np.exp(mu - z * spread), np.exp(mu + z * spread)

    def _core(self, summary: pd.DataFrame) -> dict[str, np.ndarray]:
        """The numeric predictions (offsets in days from as_of) for each summary row."""
        model = self.repeat_model_
        x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        parts = self._date_parts(model, self.naive_, summary, self.as_of_, self.date_weight_)
        value = self.spend_model_.conditional_expected_average_profit(
            x, summary["monetary_value"].to_numpy(dtype=float)
        )
        core = {
            "offset": parts["offset"],
            "low": parts["low"],
            "high": parts["high"],
            "confidence": self._confidence(parts["raw"]),
            "p_active": np.clip(model.conditional_probability_alive(x, t_x, big_t), 0.0, 1.0),
            "expected_purchases_90d": model.conditional_expected_number_of_purchases_up_to_time(
                90.0, x, t_x, big_t
            ),
            "clv_12m": self._clv(x, t_x, big_t, value),
            "expected_order_value": value,
        }
        repeat = {
            w: model.probability_of_purchase_within(w, x, t_x, big_t) for w in OUTLOOK_WINDOWS
        }
        p90 = self.p_buy_90d_.reindex(summary.index).to_numpy(dtype=float)
        p90 = np.where(np.isnan(p90), np.clip(repeat[90], 0.005, 0.995), p90)
        for w in OUTLOOK_WINDOWS:
            # the shorter windows keep the repeat model's shape, scaled to the calibrated 90 d
            scaled = repeat[w] * p90 / np.maximum(repeat[90], 1e-12)
            core[f"p_buy_{w}d"] = np.clip(np.minimum(scaled, p90), 0.0, p90)
        core["p_buy_90d"] = p90
        # Honest dates: an unlikely buyer's date is the median of an exponential wait whose
        # 90-day chance is p90 (past the horizon when p90 < 1/2), its band that wait's middle
        # half, all at most three years out; never a date "soon".
        rate = np.maximum(-np.log1p(-p90), 1e-9) / FAR_RATE_DAYS
        unlikely = (p90 < 0.5) & bool(self.far_dates)

        def wait(q: float) -> np.ndarray:
            return np.minimum(-np.log1p(-q) / rate, MAX_OFFSET_DAYS)

        core["offset"] = np.where(unlikely, np.maximum(wait(0.5), core["offset"]), core["offset"])
        core["low"] = np.where(unlikely, wait(0.25), core["low"])
        core["high"] = np.where(unlikely, wait(0.75), core["high"])
        core["high"] = np.maximum(core["high"], core["offset"])
        core["low"] = np.minimum(core["low"], core["offset"])
        # confidence (a purchase near the date) can never exceed the chance of buying at all
        core["confidence"] = np.minimum(core["confidence"], 100.0 * p90)
        # a moved date's confidence: the same exponential wait's chance of a first purchase
        # within +/- window of it
        half = float(self.window_days)
        near = np.exp(-rate * np.maximum(core["offset"] - half, 0.0)) - np.exp(
            -rate * (core["offset"] + half + 1.0)
        )
        core["confidence"] = np.where(
            unlikely, np.minimum(core["confidence"], 100.0 * near), core["confidence"]
        )
        # nobody is certain either way: never 100 (nor 0) unless the data could prove it
        core["confidence"] = np.clip(core["confidence"], MIN_CONFIDENCE, MAX_CONFIDENCE)
        core["p_active"] = np.clip(core["p_active"], 1.0 - PROBABILITY_CAP, PROBABILITY_CAP)
        return core

    def _fit_population(self) -> None:
        """What a customer with no purchase gets: the average buyer, honestly uncertain.

        The repeat-buying models describe customers from their first purchase on; for
        someone who never bought, the only defensible answer is the population's:
        mean probabilities and values over buyers, the median predicted date with the
        buyers' middle half as its band, and as confidence the calibrated chance, averaged
        over buyers, of a purchase within the window of that one population date.
        """
        core = self._core(self.summary_)
        population = {name: float(np.mean(values)) for name, values in core.items()}
        population["offset"] = float(np.median(core["offset"]))
        population["low"] = float(np.quantile(core["offset"], 0.25))
        population["high"] = float(np.quantile(core["offset"], 0.75))
        # The chance that an average buyer buys within the window of the population
        # date, through the same calibration map as everyone else.
        summary = self.summary_
        model = self.repeat_model_
        x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        w = float(self.window_days)
        offset = np.full(len(x), population["offset"])
        raw = model.conditional_probability_alive(x, t_x, big_t) * (
            model.probability_no_purchase_if_alive(np.maximum(offset - w, 0.0), x, big_t)
            - model.probability_no_purchase_if_alive(offset + w + 1.0, x, big_t)
        )
        population["confidence"] = float(
            np.clip(
                np.mean(self._confidence(np.clip(raw, 0.0, 1.0))), MIN_CONFIDENCE, MAX_CONFIDENCE
            )
        )
        self.population_ = population

    def predict(self, customer_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Predictions for the given customers (default: everyone who bought before as_of).

        Customers with no purchase before as_of get the population's answer (see
        docs/prediction.md: the average buyer's probabilities and values, the median
        date with the buyers' spread as its band, population price range), never NaN.

        Returns:
            One row per customer with :data:`OUTPUT_COLUMNS` (``predicted_date`` a
            Timestamp at midnight, ``confidence`` 0..100, ``p_active`` 0..1,
            ``likely_categories`` ``;``-separated) plus ``category_probabilities`` (dict),
            ``predicted_date_low``/``predicted_date_high`` (the middle half of the
            next-purchase distribution given a purchase within the horizon),
            ``p_buy_7d``, ``p_buy_30d``, ``p_buy_90d``, ``n_purchases`` (purchase days),
            ``total_spend``, ``last_purchase`` (NaT without one), ``expected_order_value``.
        """
        summary = self._summary_for(customer_ids)
        core = self._core(summary)
        never = summary["n_orders"].to_numpy() == 0
        if never.any():
            for name, value in self.population_.items():
                core[name] = np.where(never, value, core[name])
        low, high = self._prices(summary.index)
        start = self.as_of_

        def day(offset: np.ndarray) -> pd.DatetimeIndex:
            return (start + pd.to_timedelta(offset, unit="D")).floor("D")

        x = summary["frequency"].to_numpy(dtype=float)
        frame = pd.DataFrame(
            {
                "customer_id": summary.index.to_numpy(),
                "predicted_date": day(core["offset"]),
                "confidence": core["confidence"],
                "p_active": core["p_active"],
                "expected_purchases_90d": core["expected_purchases_90d"],
                "price_low": low,
                "price_high": high,
                "clv_12m": core["clv_12m"],
                "predicted_date_low": day(core["low"]),
                "predicted_date_high": day(core["high"]),
                "n_purchases": np.where(never, 0.0, x + 1.0).astype(int),
                "total_spend": summary["total_spend"].to_numpy(dtype=float),
                "last_purchase": summary["last_purchase"].to_numpy(),
                "expected_order_value": core["expected_order_value"],
                **{f"p_buy_{w}d": core[f"p_buy_{w}d"] for w in OUTLOOK_WINDOWS},
            }
        )
        frame.insert(5, "p_buy_90d", frame.pop("p_buy_90d"))
        categories = self._categories(summary.index)
        frame.insert(6, "likely_categories", categories["likely_categories"].to_numpy())
        frame["category_probabilities"] = categories["category_probabilities"].to_numpy()
        return frame.reset_index(drop=True)

    # -- views for the dashboard ------------------------------------------------------
    def history(self, customer_id: str) -> pd.DataFrame:
        """The customer's purchase days before as_of (``day, value, n_orders``) for a timeline."""
        self._check_fitted()
        rows = self.days_.loc[self.days_["customer_id"] == str(customer_id)]
        return rows[["day", "value", "n_orders"]].reset_index(drop=True)

    def p_active_history(
        self, customer_id: str, dates: Sequence[datetime] | pd.DatetimeIndex
    ) -> pd.DataFrame:
        """``p_active`` of one customer at each date, from their purchases before that date
        and the parameters fitted as of ``as_of_``.

        Dates after ``as_of_`` show the decay if the customer buys nothing more. Before the
        first purchase ``p_active`` is NaN (the customer did not exist for the model).

        Returns:
            Columns ``date, p_active, expected_purchases_90d``.
        """
        self._check_fitted()
        when = pd.DatetimeIndex(pd.to_datetime(list(dates))).astype("datetime64[ns]")
        own = np.sort(self.history(customer_id)["day"].to_numpy(dtype="datetime64[ns]"))
        count = np.searchsorted(own, when.to_numpy(), side="left")  # purchase days strictly before
        has = count > 0
        first = own[0] if len(own) else np.datetime64("NaT")
        last = (
            own[np.maximum(count - 1, 0)] if len(own) else np.full(len(when), np.datetime64("NaT"))
        )
        x = np.maximum(count - 1, 0).astype(float)
        t_x = np.where(has, (last - first) / np.timedelta64(1, "D"), 0.0)
        big_t = np.where(has, (when.to_numpy() - first) / np.timedelta64(1, "D"), 0.0)
        model = self.repeat_model_
        alive = np.where(has, model.conditional_probability_alive(x, t_x, big_t), np.nan)
        expected = np.where(
            has,
            model.conditional_expected_number_of_purchases_up_to_time(90.0, x, t_x, big_t),
            np.nan,
        )
        return pd.DataFrame({"date": when, "p_active": alive, "expected_purchases_90d": expected})


def store_outlook(
    predictions: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    windows: Sequence[int] = OUTLOOK_WINDOWS,
) -> pd.DataFrame:
    """Expected number of customers buying within 7, 30 and 90 days, overall and by segment.

    Args:
        predictions: :meth:`PurchasePredictor.predict` output (columns ``customer_id`` and
            ``p_buy_{w}d`` for each window).
        segments: optional ``customer_id, segment`` memberships (a customer may be in several).
        windows: which windows to report (each must have its ``p_buy_{w}d`` column).

    Returns:
        Columns ``segment`` (``"all customers"`` first), ``customers``, and
        ``expected_buyers_{w}d`` per window (sum of the customers' probabilities).
    """
    columns = [f"p_buy_{w}d" for w in windows]
    missing = [c for c in columns if c not in predictions]
    if missing:
        raise ValueError(f"predictions lack {', '.join(missing)}; valid windows: {OUTLOOK_WINDOWS}")
    parts = [predictions[["customer_id", *columns]].assign(segment="all customers")]
    if segments is not None and len(segments):
        joined = (
            segments[["customer_id", "segment"]]
            .astype({"customer_id": str})
            .merge(predictions[["customer_id", *columns]], on="customer_id", how="inner")
        )
        parts.append(joined)
    rows = pd.concat(parts, ignore_index=True)
    grouped = rows.groupby("segment", sort=False)
    result = grouped[columns].sum()
    result.columns = [f"expected_buyers_{w}d" for w in windows]
    result.insert(0, "customers", grouped.size())
    return result.reset_index()


def slipping_high_value(
    predictor: PurchasePredictor,
    *,
    predictions: pd.DataFrame | None = None,
    lookback_days: float = 90.0,
    value_quantile: float = 0.8,
    min_drop: float = 0.05,
    limit: int | None = 100,
) -> pd.DataFrame:
    """High-value customers whose ``p_active`` fell over the last ``lookback_days``.

    High value: total spend before as_of at or above the ``value_quantile`` of buyers.
    ``p_active_before`` is computed from purchases before ``as_of - lookback_days`` with
    the same fitted parameters, so the drop reflects the customer's silence, not a refit.

    Returns:
        Columns ``customer_id, total_spend, clv_12m, p_active_before, p_active,
        p_active_drop, last_purchase``, biggest drop first (ties: bigger spenders first).
    """
    predictor._check_fitted()
    now = predictions if predictions is not None else predictor.predict()
    then_end = predictor.as_of_ - pd.Timedelta(days=float(lookback_days))
    then = summary_from_purchase_days(predictor.days_, observation_period_end=then_end)
    x, t_x, big_t = (then[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    before = pd.Series(
        predictor.repeat_model_.conditional_probability_alive(x, t_x, big_t),
        index=then.index,
        name="p_active_before",
    )
    spend = now.set_index("customer_id")["total_spend"]
    threshold = spend[spend > 0].quantile(value_quantile) if (spend > 0).any() else np.inf
    frame = now.loc[
        now["total_spend"] >= threshold,
        ["customer_id", "total_spend", "clv_12m", "p_active", "last_purchase"],
    ]
    frame = frame.merge(before, left_on="customer_id", right_index=True, how="inner")
    frame["p_active_drop"] = frame["p_active_before"] - frame["p_active"]
    frame = frame.loc[frame["p_active_drop"] >= min_drop]
    frame = frame.sort_values(["p_active_drop", "total_spend"], ascending=[False, False])
    columns = [
        "customer_id",
        "total_spend",
        "clv_12m",
        "p_active_before",
        "p_active",
        "p_active_drop",
        "last_purchase",
    ]
    frame = frame[columns].reset_index(drop=True)
    return frame if limit is None else frame.head(limit)


def export_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """The ``predict --all --format csv`` columns of the contract, formatted: ISO dates,
    confidence to 0.1, probabilities to 4 decimals, money to cents."""
    out = predictions[OUTPUT_COLUMNS].copy()
    out["predicted_date"] = out["predicted_date"].dt.strftime("%Y-%m-%d")
    out["confidence"] = out["confidence"].round(1)
    out["p_active"] = out["p_active"].round(4)
    out["expected_purchases_90d"] = out["expected_purchases_90d"].round(4)
    out["p_buy_90d"] = out["p_buy_90d"].round(4)
    for column in ("price_low", "price_high", "clv_12m"):
        out[column] = out[column].round(2)
    return out


def prediction_record(row: pd.Series) -> dict[str, Any]:
    """One prediction row as a JSON-ready dict (dates ISO, numbers rounded)."""

    def iso(value: Any) -> str | None:
        return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()

    return {
        "customer_id": row["customer_id"],
        "predicted_date": iso(row["predicted_date"]),
        "predicted_date_low": iso(row["predicted_date_low"]),
        "predicted_date_high": iso(row["predicted_date_high"]),
        "confidence": round(float(row["confidence"]), 1),
        "p_active": round(float(row["p_active"]), 4),
        "expected_purchases_90d": round(float(row["expected_purchases_90d"]), 4),
        "likely_categories": [c for c in str(row["likely_categories"]).split(";") if c],
        "category_probabilities": dict(row["category_probabilities"]),
        "price_low": round(float(row["price_low"]), 2),
        "price_high": round(float(row["price_high"]), 2),
        "clv_12m": round(float(row["clv_12m"]), 2),
        "p_buy_7d": round(float(row["p_buy_7d"]), 4),
        "p_buy_30d": round(float(row["p_buy_30d"]), 4),
        "p_buy_90d": round(float(row["p_buy_90d"]), 4),
        "n_purchases": int(row["n_purchases"]),
        "total_spend": round(float(row["total_spend"]), 2),
        "last_purchase": iso(row["last_purchase"]),
    }

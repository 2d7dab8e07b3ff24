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

Everything is in days and uses only order lines strictly before ``as_of``. The arithmetic
of one prediction (dates, windows, far dates, value) is :mod:`engine.predict.outlook`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .base import BaseFitter
from .basket import CategoryMix, PriceRange
from .bgnbd import BetaGeoFitter
from .buy_model import BuyProbabilityModel
from .calibration import calibrate
from .gamma_gamma import GammaGammaFitter
from .mbgnbd import ModifiedBetaGeoFitter
from .naive import NaiveNextPurchase
from .outlook import (
    MAX_CONFIDENCE,
    MIN_CONFIDENCE,
    clv,
    date_parts,
    honest_dates,
    p_active_history,
    window_probability,
)
from .summary import purchase_days, reindex_summary, summary_from_purchase_days

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
        """:func:`engine.predict.outlook.date_parts` with this predictor's horizon and window."""
        return date_parts(
            model,
            naive,
            summary,
            as_of,
            weight,
            horizon_days=self.horizon_days,
            window_days=self.window_days,
        )

    def fit(self, order_lines: pd.DataFrame, *, as_of: datetime) -> PurchasePredictor:
        """Fit on order lines strictly before ``as_of``.

        Args:
            order_lines: columns ``customer_id, ordered_at, amount`` (and ``order_id``,
                ``category`` when available), e.g. :func:`engine.frames.load_order_lines`.
            as_of: the moment to predict from; later rows are ignored.

        Returns:
            self, fitted: ``as_of_``, ``days_`` (purchase days), ``summary_`` (RFM in
            days), ``repeat_model_``, ``spend_model_``, ``naive_``, ``date_weight_``,
            ``calibrator_``, ``categories_`` (:class:`~engine.predict.basket.CategoryMix`),
            ``prices_`` (:class:`~engine.predict.basket.PriceRange`).
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
        self.date_weight_, self.calibrator_, self.calibration_info_ = calibrate(
            self, self.days_, end
        )
        # the same repeat-buying family as the dates and confidence, so the two agree
        self.buy_model_ = BuyProbabilityModel(
            horizon_days=90.0,
            base=self.model,
            penalizer_coef=self.penalizer_coef,
            random_state=0 if self.random_state is None else self.random_state,
        ).fit(self.days_, as_of=end)
        self.p_buy_90d_ = self.buy_model_.predict_proba(self.days_, end)
        self.categories_ = CategoryMix().fit(lines)
        self.prices_ = PriceRange().fit(lines)
        self.params_ = {**self.repeat_model_.params_, "date_weight": self.date_weight_}
        self._fit_population()
        return self

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
            "clv_12m": clv(
                model,
                x,
                t_x,
                big_t,
                value,
                months=self.clv_months,
                annual_discount_rate=self.annual_discount_rate,
            ),
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
        return honest_dates(core, p90, window_days=self.window_days, far_dates=self.far_dates)

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
        offset = np.full(len(x), population["offset"])
        raw = window_probability(model, x, t_x, big_t, offset, self.window_days)
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
        low, high = self.prices_.predict(
            summary.index, self.price_prior_strength, self.price_coverage
        )
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
        categories = self.categories_.predict(summary.index, self.category_prior_strength)
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
        own = self.history(customer_id)["day"].to_numpy(dtype="datetime64[ns]")
        return p_active_history(self.repeat_model_, own, dates)

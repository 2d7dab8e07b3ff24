"""BG/NBD (Fader, Hardie & Lee 2005): "buy till you die" with dropout after repeat purchases.

While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
after each *repeat* purchase they drop out with probability ``p ~ Beta(a, b)``.
Fitted by maximum likelihood on an RFM summary (see :mod:`engine.predict.summary`):
``frequency`` x (repeat purchases), ``recency`` t_x (first to last purchase) and
``T`` (first purchase to the end of observation), all in one time unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from .base import ArrayLike, BaseFitter, as_array, check_summary, group_rows


@dataclass(frozen=True)
class _Indexed:
    """A summary with its distinct values of x, T and t_x and where each row points."""

    x: np.ndarray
    ux: np.ndarray
    ix: np.ndarray
    uT: np.ndarray
    iT: np.ndarray
    ut: np.ndarray
    it: np.ndarray

    @staticmethod
    def build(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> _Indexed:
        ux, ix = np.unique(x, return_inverse=True)
        uT, iT = np.unique(T, return_inverse=True)
        ut, it = np.unique(t_x, return_inverse=True)
        return _Indexed(x, ux, ix.ravel(), uT, iT.ravel(), ut, it.ravel())


class BetaGeoFitter(BaseFitter):
    """The BG/NBD model.

    Args:
        penalizer_coef: L2 penalty on the *log*-parameters, added to the mean negative
            log-likelihood (0 reproduces the published fits; a little, e.g. 0.001,
            keeps tiny or degenerate stores from running off to extreme values). On the
            log scale, unlike ``lifetimes``' penalty on the raw values, it barely depends
            on the time unit: alpha in days is 7x alpha in weeks.
    """

    param_names = ("r", "alpha", "a", "b")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    # -- likelihood ---------------------------------------------------------------
    @staticmethod
    def _x_terms(params: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The parts of the log-likelihood that depend on x only: the constant term, and
        the log coefficient of the "dropped out after the last purchase" branch
        (-inf where that branch is impossible: no repeat purchase in BG/NBD)."""
        r, alpha, a, b = params
        base = (
            gammaln(r + x)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + x)
            - gammaln(b)
            - gammaln(a + b + x)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)), -np.inf)
        return base, coef

    @classmethod
    def _log_likelihood(
        cls, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Per-row log-likelihood (vectorised over customers)."""
        return cls._indexed_log_likelihood(params, _Indexed.build(x, t_x, T))

    @classmethod
    def _indexed_log_likelihood(cls, params: np.ndarray, data: _Indexed) -> np.ndarray:
        # gammaln and log run once per distinct x, T and t_x, not once per customer:
        # customers share them heavily, and they are the costly part.
        r, alpha = params[0], params[1]
        base, coef = cls._x_terms(params, data.ux)
        shape = r + data.x
        survived = -shape * np.log(alpha + data.uT)[data.iT]
        dropped = coef[data.ix] - shape * np.log(alpha + data.ut)[data.it]
        return base[data.ix] + np.logaddexp(survived, dropped)

    def _objective(self, log_params: np.ndarray, data: _Indexed, weights: np.ndarray) -> float:
        params = np.exp(log_params)
        ll = self._indexed_log_likelihood(params, data)
        value = -np.sum(weights * ll) / np.sum(weights)
        value += self.penalizer_coef * float(np.sum(log_params**2))
        return float(value) if np.isfinite(value) else 1e300

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        initial_params: ArrayLike | None = None,
    ) -> BetaGeoFitter:
        """Fit by maximum likelihood (log-parameterised L-BFGS-B; restarted once if it stalls).

        Args:
            frequency, recency, T: the RFM summary, one value per customer.
            weights: optional counts of customers sharing each row.
            initial_params: optional starting point in ``param_names`` order.

        Returns:
            self, with ``params_`` (dict), ``log_likelihood_`` (mean per customer)
            and ``n_customers_``.
        """
        x, t_x, big_t = as_array(frequency), as_array(recency), as_array(T)
        check_summary(x, t_x, big_t)
        if len(x) == 0:
            raise ValueError("cannot fit on zero customers")
        (gx, gt, gT), counts = group_rows(
            x, t_x, big_t, weights=None if weights is None else as_array(weights)
        )
        if initial_params is None:
            # alpha is in time units: start it near the typical observation span so
            # the same start works in days and in weeks.
            start = np.array([1.0, max(float(np.mean(big_t)), 1e-3) / 4.0, 1.0, 1.0])
        else:
            start = as_array(initial_params)
        args = (_Indexed.build(gx, gt, gT), counts)
        options = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8}
        best = minimize(
            self._objective, np.log(start), args=args, method="L-BFGS-B", options=options
        )
        if not best.success:
            # A restart from where it stopped fixes the rare early stop on a flat ridge.
            again = minimize(self._objective, best.x, args=args, method="L-BFGS-B", options=options)
            if again.fun <= best.fun:
                best = again
        values = np.exp(best.x)
        self.params_ = dict(zip(self.param_names, (float(v) for v in values), strict=True))
        self.log_likelihood_ = -float(best.fun)
        self.n_customers_ = int(np.sum(counts))
        return self

    # -- predictions --------------------------------------------------------------
    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def _alive_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Odds of being dead vs alive given the history (0 for x = 0 in BG/NBD)."""
        r, alpha, a, b = self._p()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
            return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        x, t_x, big_t = as_array(frequency), as_array(recency), as_array(T)
        return 1.0 / (1.0 + self._alive_odds(x, t_x, big_t))

    def _expected_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected purchases in (T, T+t] for a customer alive at T, averaged over the posterior."""
        r, alpha, a, b = self._p()
        a = a if abs(a - 1.0) > 1e-6 else 1.0 + 1e-6  # the closed form has a pole at a = 1
        z = t / (alpha + T + t)
        # Euler's transformation of 2F1(r+x, b+x; a+b+x-1; z) (1-z)^(r+x): the
        # transformed series has small fixed upper parameters, so it stays finite
        # for heavy buyers where the textbook form overflows.
        tail = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        return (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T]."""
        x, t_x, big_t = as_array(frequency), as_array(recency), as_array(T)
        t_arr = as_array(t)
        value = self._expected_if_alive(t_arr, x, big_t) / (1.0 + self._alive_odds(x, t_x, big_t))
        return np.clip(np.nan_to_num(value, nan=0.0, posinf=0.0), 0.0, None)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> np.ndarray:
        """E[purchases in (0, t]] for a customer who has just made a first purchase."""
        t_arr = as_array(t)
        zeros = np.zeros_like(t_arr)
        return self.conditional_expected_number_of_purchases_up_to_time(t_arr, zeros, zeros, zeros)

    def probability_no_purchase_if_alive(
        self, t: ArrayLike, frequency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(no purchase in (T, T+t] | alive at T): the posterior rate is Gamma(r+x, alpha+T)
        and dropout happens only at purchases, so this is a Lomax survival function."""
        r, alpha, _, _ = self._p()
        x, big_t, t_arr = as_array(frequency), as_array(T), np.maximum(as_array(t), 0.0)
        return ((alpha + big_t) / (alpha + big_t + t_arr)) ** (r + x)

    def probability_of_purchase_within(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(at least one purchase in (T, T+t] | x, t_x, T)."""
        alive = self.conditional_probability_alive(frequency, recency, T)
        return alive * (1.0 - self.probability_no_purchase_if_alive(t, frequency, T))

    def time_to_next_purchase_quantile(
        self, q: ArrayLike, frequency: ArrayLike, T: ArrayLike, horizon: float | None = None
    ) -> np.ndarray:
        """Quantile ``q`` of the time from T to the next purchase, given alive at T
        (and, with ``horizon``, given that the purchase happens within it)."""
        r, alpha, _, _ = self._p()
        x, big_t, q_arr = as_array(frequency), as_array(T), as_array(q)
        scale, shape = alpha + big_t, r + x
        mass = 1.0 if horizon is None else 1.0 - ((scale / (scale + horizon)) ** shape)
        survive = 1.0 - q_arr * mass
        return scale * (survive ** (-1.0 / shape) - 1.0)

"""Gamma-Gamma (Fader, Hardie & Lee 2005): the spend per transaction.

A customer's transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, v)``, independent
of how often they buy. Fitted on customers with at least one *repeat* transaction
(``frequency >= 1``, ``monetary_value`` = mean value of their repeat transactions);
everyone else gets the population mean ``p v / (q - 1)``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from .base import ArrayLike, BaseFitter, as_array


class GammaGammaFitter(BaseFitter):
    """The Gamma-Gamma spend model.

    Args:
        penalizer_coef: L2 penalty on the log-parameters (added to the mean negative
            log-likelihood), as in :class:`engine.predict.bgnbd.BetaGeoFitter`.
    """

    param_names = ("p", "q", "v")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    @staticmethod
    def _log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of ``x`` transactions averaging ``m``."""
        p, q, v = params
        return (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + (p * x) * np.log(x)
            - (p * x + q) * np.log(x * m + v)
        )

    @staticmethod
    def _fast_log_likelihood(
        params: np.ndarray,
        ux: np.ndarray,
        ix: np.ndarray,
        x: np.ndarray,
        log_m: np.ndarray,
        xm: np.ndarray,
    ) -> np.ndarray:
        # gammaln once per distinct x; one log per customer per evaluation
        p, q, v = params
        per_x = gammaln(p * ux + q) - gammaln(p * ux) + (p * ux) * np.log(ux)
        px = p * x
        return per_x[ix] - gammaln(q) + q * np.log(v) + (px - 1) * log_m - (px + q) * np.log(xm + v)

    def _objective(self, log_params: np.ndarray, *data: np.ndarray) -> float:
        params = np.exp(log_params)
        value = -float(np.mean(self._fast_log_likelihood(params, *data)))
        value += self.penalizer_coef * float(np.sum(log_params**2))
        return value if np.isfinite(value) else 1e300

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, fallback_value: float = 0.0
    ) -> GammaGammaFitter:
        """Fit on repeat customers (rows with ``frequency >= 1`` and ``monetary_value > 0``;
        others are ignored).

        When fewer than 10 such customers exist, or the fit is degenerate (q <= 1, so
        the population mean is infinite), the model falls back to the plain mean of
        the observed values (``fallback_`` is True): an honest answer, not an error.
        With no repeat customer at all, the population mean is ``fallback_value`` (the
        predictor passes the mean value of all purchase days).

        Returns:
            self, with ``params_``, ``population_mean_`` and ``fallback_``.
        """
        x, m = as_array(frequency), as_array(monetary_value)
        keep = (x >= 1) & (m > 0) & np.isfinite(m)
        x, m = x[keep], m[keep]
        self.fallback_ = True
        self.params_ = {"p": np.nan, "q": np.nan, "v": np.nan}
        self.population_mean_ = float(np.mean(m)) if len(m) else float(fallback_value)
        if len(m) < 10:
            return self
        scale = float(np.mean(m))
        start = np.log([1.0, 2.0, scale])
        ux, ix = np.unique(x, return_inverse=True)
        data = (ux, ix.ravel(), x, np.log(m), x * m)
        result = minimize(
            self._objective,
            start,
            args=data,
            method="L-BFGS-B",
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        again = minimize(
            self._objective,
            result.x,
            args=data,
            method="L-BFGS-B",
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        result = again if again.fun <= result.fun else result
        p, q, v = (float(val) for val in np.exp(result.x))
        if q > 1.0 and np.isfinite(p * v / (q - 1.0)):
            self.params_ = {"p": p, "q": q, "v": v}
            self.population_mean_ = p * v / (q - 1.0)
            self.fallback_ = False
        return self

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> np.ndarray:
        """E[value of a transaction | x repeat transactions averaging m]: the customer's mean
        shrunk toward the population mean, weighted by how many transactions back it."""
        self._check_fitted()
        x, m = as_array(frequency), as_array(monetary_value)
        has_history = (x >= 1) & (m > 0) & np.isfinite(m)
        if self.fallback_:
            # Same shrinkage shape with a pseudo-count of 1 transaction.
            shrunk = (x * np.where(has_history, m, 0.0) + self.population_mean_) / (x + 1.0)
            return np.where(has_history, shrunk, self.population_mean_)
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        safe_m = np.where(has_history, m, 0.0)
        value = (p * (v + x * safe_m)) / (p * x + q - 1.0)
        return np.where(has_history, value, self.population_mean_)

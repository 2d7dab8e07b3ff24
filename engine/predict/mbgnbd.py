"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD whose customers may also drop
out right after their *first* purchase.

The one change that matters here: in BG/NBD a customer with no repeat purchase is
alive with probability 1 however long ago they bought, so a one-time buyer who
vanished two years ago looks as alive as yesterday's. MBG/NBD gives them a
P(alive) that falls with time, which is what ``p_active`` must do for lapsed customers.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from .base import ArrayLike, as_array
from .bgnbd import BetaGeoFitter


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """The MBG/NBD model (same parameters, fitting and API as :class:`BetaGeoFitter`)."""

    @staticmethod
    def _x_terms(params: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, alpha, a, b = params
        base = (
            gammaln(r + x)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + x + 1)
            - gammaln(b)
            - gammaln(a + b + x + 1)
        )
        # dropping out right after the last purchase is possible even with x = 0
        return base, np.log(a) - np.log(b + x)

    def _alive_odds(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._p()
        log_odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.exp(np.minimum(log_odds, 700.0))

    def _expected_if_alive(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._p()
        a = a if abs(a - 1.0) > 1e-6 else 1.0 + 1e-6
        z = t / (alpha + T + t)
        # Euler's transformation of 2F1(r+x, b+x+1; a+b+x; z) (1-z)^(r+x), as in BG/NBD.
        tail = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - r, a - 1.0, a + b + x, z)
        return (a + b + x) / (a - 1.0) * (1.0 - tail)

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(alive at T | x, t_x, T); below 1 even with no repeat purchase."""
        x, t_x, big_t = as_array(frequency), as_array(recency), as_array(T)
        return 1.0 / (1.0 + self._alive_odds(x, t_x, big_t))

"""The naive baseline: next purchase = last purchase + the customer's mean gap.

A customer with a single purchase (no gap of their own) gets the population's mean
gap; a date that is already past is moved to "as of" (a forecast cannot be in the
past, and "any moment now" is what the rule means there). This is the yardstick the
model must beat (see :mod:`engine.predict.evaluation`).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from .base import BaseFitter
from .summary import DAY

#: used only when no customer in the store has a repeat purchase
DEFAULT_GAP_DAYS = 30.0


class NaiveNextPurchase(BaseFitter):
    """Last purchase + mean gap between purchases."""

    def fit(self, summary: pd.DataFrame) -> NaiveNextPurchase:
        """Learn the population mean gap.

        Args:
            summary: an RFM summary (:func:`engine.predict.summary.rfm_summary`);
                reads ``mean_gap``.

        Returns:
            self, with ``population_mean_gap_`` (days; the mean of the repeat buyers' own
            mean gaps) and ``params_``.
        """
        gaps = summary["mean_gap"].dropna()
        gaps = gaps[gaps > 0]
        self.population_mean_gap_ = float(gaps.mean()) if len(gaps) else DEFAULT_GAP_DAYS
        self.params_ = {"population_mean_gap": self.population_mean_gap_}
        return self

    def gap_days(self, summary: pd.DataFrame) -> np.ndarray:
        """Each customer's own mean gap, or the population's when they have none."""
        self._check_fitted()
        gap = summary["mean_gap"].to_numpy(dtype=float)
        return np.where(np.isfinite(gap) & (gap > 0), gap, self.population_mean_gap_)

    def predict(
        self, summary: pd.DataFrame, *, as_of: datetime, horizon_days: float = 90.0
    ) -> pd.DataFrame:
        """The naive forecast for each row of ``summary``.

        Returns:
            Indexed like ``summary``: ``predicted_date`` (a day), ``offset_days`` (days from
            ``as_of``), ``expected_purchases`` (how many due dates, one gap apart from the
            predicted one, fall within the horizon) and
            ``p_buy`` (1 when the predicted date falls within the horizon, else 0: the
            rule has no notion of uncertainty).
        """
        self._check_fitted()
        start = pd.Timestamp(as_of)
        gap = self.gap_days(summary)
        last_day = pd.to_datetime(summary["last_purchase"]).dt.floor("D")
        # A customer with no purchase at all is "due" one population gap from now.
        step = pd.to_timedelta(gap, unit="D")
        due = last_day + step
        due = due.where(due.notna(), pd.Series(start + step, index=due.index))
        offset = np.maximum(((due - start) / DAY).to_numpy(dtype=float), 0.0)
        predicted = (start + pd.to_timedelta(offset, unit="D")).floor("D")
        return pd.DataFrame(
            {
                "predicted_date": predicted,
                "offset_days": offset,
                "expected_purchases": np.where(
                    offset < horizon_days, 1.0 + np.floor((horizon_days - offset) / gap), 0.0
                ),
                "p_buy": (offset <= horizon_days).astype(float),
            },
            index=summary.index,
        )

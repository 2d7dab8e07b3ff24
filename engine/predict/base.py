"""The common base of the repeat-buying models (the ``lifetimes`` fitter layout).

Every model: parameters in ``__init__``, ``fit(...) -> self``, learned state ending
in ``_``, :class:`sklearn.exceptions.NotFittedError` before ``fit``. Time is in
whatever unit the summary uses (the engine uses days; the CDNOW literature check uses weeks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

ArrayLike: TypeAlias = np.ndarray | pd.Series | Sequence[float] | float


def as_array(values: ArrayLike) -> np.ndarray:
    """A float ndarray view of a scalar, sequence or Series (index dropped)."""
    return np.asarray(values, dtype=float)


class BaseFitter:
    """Shared plumbing: fitted-state checks and a compact representation of the parameters."""

    #: names of the learned parameters, in the order the optimiser sees them
    param_names: tuple[str, ...] = ()

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit(...) first"
            )

    @property
    def summary_params(self) -> dict[str, float]:
        """The learned parameters by name (raises NotFittedError before fit)."""
        self._check_fitted()
        return dict(self.params_)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())  # type: ignore[attr-defined]
            return f"<{type(self).__name__}: {inner}>"
        return f"<{type(self).__name__}: not fitted>"


def group_rows(
    *columns: np.ndarray, weights: np.ndarray | None = None
) -> tuple[list[np.ndarray], np.ndarray]:
    """Collapse identical rows to unique rows with counts (the likelihood is a weighted sum).

    Customers share (x, t_x, T) far more often than not (whole-day purchase dates,
    common cohorts), so this shrinks the work of every likelihood evaluation.
    """
    stacked = np.column_stack(columns)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    base = np.ones(len(stacked)) if weights is None else np.asarray(weights, dtype=float)
    counts = np.bincount(inverse.ravel(), weights=base, minlength=len(unique))
    return [unique[:, i] for i in range(unique.shape[1])], counts


def check_summary(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> None:
    """Refuse impossible summaries (these are programming errors, not user input)."""
    if np.any(frequency < 0) or np.any(recency < 0) or np.any(recency > T + 1e-9):
        raise ValueError("invalid RFM summary: need frequency >= 0 and 0 <= recency <= T")
    if np.any((frequency == 0) & (recency > 0)):
        raise ValueError("invalid RFM summary: recency must be 0 when frequency is 0")

"""The arithmetic of one prediction, from a fitted repeat-buying model: the predicted
date and its band, the chance of a purchase near it, the far dates of unlikely
buyers, the value of the coming months and ``p_active`` through time.

:class:`engine.predict.next_purchase.PurchasePredictor` fits the models and calls
these; each is a pure function of the model and per-customer arrays (``x`` repeat
purchases, ``t_x`` recency, ``big_t`` age, all in days).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .bgnbd import BetaGeoFitter
from .naive import NaiveNextPurchase

_DAYS_PER_MONTH = 365.25 / 12
FAR_RATE_DAYS = 90.0
#: the furthest predicted date (days after as_of)
MAX_OFFSET_DAYS = 1095.0
#: confidence is kept in [MIN_CONFIDENCE, MAX_CONFIDENCE] (percent) and probabilities in
#: [1 - PROBABILITY_CAP, PROBABILITY_CAP]: a forecast is never certain
MIN_CONFIDENCE = 0.1
MAX_CONFIDENCE = 99.0
PROBABILITY_CAP = 0.995


def window_probability(
    model: BetaGeoFitter,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    offset: np.ndarray,
    window_days: float,
) -> np.ndarray:
    """The model's (uncalibrated) chance of a purchase within +/- ``window_days`` of
    ``offset`` days after as_of."""
    w = float(window_days)
    alive = model.conditional_probability_alive(x, t_x, big_t)
    survive_before = model.probability_no_purchase_if_alive(np.maximum(offset - w, 0.0), x, big_t)
    survive_after = model.probability_no_purchase_if_alive(offset + w + 1.0, x, big_t)
    return alive * (survive_before - survive_after)  # type: ignore[no-any-return]


def date_parts(
    model: BetaGeoFitter,
    naive: NaiveNextPurchase,
    summary: pd.DataFrame,
    as_of: pd.Timestamp,
    weight: float,
    *,
    horizon_days: float,
    window_days: float,
) -> dict[str, np.ndarray]:
    """Offsets (days from as_of) of the predicted date and its band, and the raw
    (uncalibrated) probability of a purchase within the window around it.

    The date blends the model's median wait (weight ``weight``) with the naive
    "last purchase + mean gap" rule, both within ``horizon_days``.
    """
    x, t_x, big_t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    horizon = float(horizon_days)
    model_offset = model.time_to_next_purchase_quantile(0.5, x, big_t, horizon)
    naive_offset = np.minimum(
        naive.predict(summary, as_of=as_of)["offset_days"].to_numpy(), horizon
    )
    offset = np.clip(weight * model_offset + (1.0 - weight) * naive_offset, 0.0, horizon)
    low = np.minimum(model.time_to_next_purchase_quantile(0.25, x, big_t, horizon), offset)
    high = np.maximum(model.time_to_next_purchase_quantile(0.75, x, big_t, horizon), offset)
    raw = window_probability(model, x, t_x, big_t, offset, window_days)
    return {
        "offset": offset,
        "low": low,
        "high": high,
        "raw": np.clip(raw, 0.0, 1.0),
        "model_offset": model_offset,
        "naive_offset": naive_offset,
    }


def clv(
    model: BetaGeoFitter,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    value: np.ndarray,
    *,
    months: int,
    annual_discount_rate: float,
) -> np.ndarray:
    """Expected spend over the next ``months``, discounted month by month."""
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, months + 1):  # a loop over months, vectorised over customers
        cumulative = model.conditional_expected_number_of_purchases_up_to_time(
            month * _DAYS_PER_MONTH, x, t_x, big_t
        )
        discount = (1.0 + annual_discount_rate) ** (-month / 12.0)
        total += (cumulative - previous) * discount
        previous = cumulative
    return total * value


def honest_dates(
    core: dict[str, np.ndarray], p90: np.ndarray, *, window_days: float, far_dates: bool
) -> dict[str, np.ndarray]:
    """``core`` (offsets, ``confidence``, ``p_active``) made honest for unlikely buyers
    (``p90``, their chance of buying within 90 days, under 1/2) and bounded: nobody is
    certain either way. Updates ``core`` in place and returns it."""
    # Honest dates: an unlikely buyer's date is the median of an exponential wait whose
    # 90-day chance is p90 (past the horizon when p90 < 1/2), its band that wait's middle
    # half, all at most three years out; never a date "soon".
    rate = np.maximum(-np.log1p(-p90), 1e-9) / FAR_RATE_DAYS
    unlikely = (p90 < 0.5) & bool(far_dates)

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
    half = float(window_days)
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


def p_active_history(
    model: BetaGeoFitter, purchase_days: np.ndarray, dates: Sequence[datetime] | pd.DatetimeIndex
) -> pd.DataFrame:
    """``p_active`` of one customer at each date, from their purchase days before that
    date and ``model``'s parameters (NaN before the first purchase).

    Returns:
        Columns ``date, p_active, expected_purchases_90d``.
    """
    when = pd.DatetimeIndex(pd.to_datetime(list(dates))).astype("datetime64[ns]")
    own = np.sort(np.asarray(purchase_days, dtype="datetime64[ns]"))
    count = np.searchsorted(own, when.to_numpy(), side="left")  # purchase days strictly before
    has = count > 0
    first = own[0] if len(own) else np.datetime64("NaT")
    last = own[np.maximum(count - 1, 0)] if len(own) else np.full(len(when), np.datetime64("NaT"))
    x = np.maximum(count - 1, 0).astype(float)
    t_x = np.where(has, (last - first) / np.timedelta64(1, "D"), 0.0)
    big_t = np.where(has, (when.to_numpy() - first) / np.timedelta64(1, "D"), 0.0)
    alive = np.where(has, model.conditional_probability_alive(x, t_x, big_t), np.nan)
    expected = np.where(
        has,
        model.conditional_expected_number_of_purchases_up_to_time(90.0, x, t_x, big_t),
        np.nan,
    )
    return pd.DataFrame({"date": when, "p_active": alive, "expected_purchases_90d": expected})

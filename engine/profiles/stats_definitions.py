"""What the sufficient statistics are: their columns, the decay and the windows.

Shared by the batch (:mod:`engine.profiles.stats_batch`) and the one-customer
queries of :mod:`engine.profiles.stats`; see that module for the definitions in
words and ``docs/scoring.md`` for the scores built on them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from engine.profiles.emotion import RATING_HALF_LIFE_DAYS
from engine.vocabulary import is_mobile, is_night, is_weekend

T0 = datetime(2000, 1, 1)
"""Origin of the time-decay weights (any fixed moment works; it cancels in shares)."""
T0_EPOCH = (T0 - datetime(1970, 1, 1)).total_seconds()

INTEREST_HALF_LIFE_DAYS = 90.0
"""Half-life of category/brand interest (views and purchased lines)."""
INTEREST_LAMBDA = math.log(2.0) / INTEREST_HALF_LIFE_DAYS
RATING_LAMBDA = math.log(2.0) / RATING_HALF_LIFE_DAYS

FREQUENCY_WINDOW = timedelta(days=365)
IMPULSE_WINDOW_SECONDS = 30 * 60.0
# A line's own time (aliases ``l`` and ``o``): the till's stamp, else the order's.
LINE_TIME = "coalesce(l.ordered_at, o.ordered_at)"

COUNT_COLUMNS = [
    "orders",
    "orders_365",
    "lines",
    "disc_lines",
    "branded_lines",
    "top2_lines",
    "viewed_lines",
    "quick_lines",
    "views",
    "searches",
    "activity",
    "weekend",
    "night",
    "mobile",
    "reviews",
    "interest_events",
]
FLOAT_COLUMNS = ["spend", "rating_wsum", "rating_w", "interest_total", "top_interest"]
STATS_COLUMNS = ["customer_id", *COUNT_COLUMNS, *FLOAT_COLUMNS, "top_category"]
"""Columns of :func:`compute_stats`'s frame (one row per customer)."""


def decay_weight(at: datetime, lam: float) -> float:
    """``exp(lam * days(at - T0))``: the un-normalised weight of an observation at ``at``."""
    return math.exp(lam * ((at - T0).total_seconds() / 86400.0))


def decay_factor(as_of: datetime, lam: float) -> float:
    """Multiply a stored weight sum by this to read it as of ``as_of``."""
    return math.exp(-lam * ((as_of - T0).total_seconds() / 86400.0))


def activity_flags(at: datetime, channel: str | None, device: str | None) -> dict[str, int]:
    """The weekend/night/mobile flags of one event or order (the generated columns' rule)."""
    return {
        "weekend": int(is_weekend(at)),
        "night": int(is_night(at.hour)),
        "mobile": int(is_mobile(channel, device)),
    }

"""The market's calendar: day weights (seasons, weekends) and the hours people shop."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.vocabulary import NIGHT_HOUR_LIST
from seed.spec import MarketConfig

# Share of activity in each hour of the day for most customers (night 22-05 ~ 8%).
HOURLY = np.array(
    [
        0.9,
        0.5,
        0.25,
        0.15,
        0.15,
        0.35,
        1.0,
        2.0,
        3.0,
        3.5,
        3.8,
        4.0,
        4.5,
        4.3,
        4.0,
        3.8,
        4.0,
        4.5,
        5.0,
        5.5,
        5.5,
        4.5,
        2.8,
        1.7,
    ]
)
NIGHT_HOURS = np.array(NIGHT_HOUR_LIST)


class Calendar:
    """Day weights (seasonality, weekends) and helpers to draw activity times."""

    def __init__(self, config: MarketConfig) -> None:
        self.days = config.days
        self.start = np.datetime64(config.start, "s")
        day_index = np.arange(self.days)
        dates = pd.DatetimeIndex(self.start + day_index.astype("timedelta64[D]"))
        self.doy = dates.day_of_year.to_numpy()
        self.weekend = dates.day_of_week.to_numpy() >= 5

        def bump(center: float, width: float) -> np.ndarray:
            # Circular distance in days so a peak near New Year wraps around.
            dist = np.abs(self.doy - center)
            dist = np.minimum(dist, 365 - dist)
            return np.exp(-((dist / width) ** 2))

        seasonal = 1.0 + 0.6 * bump(352, 14) + 0.45 * bump(332, 4) - 0.15 * bump(20, 15)
        weekly = np.where(self.weekend, 1.25, 1.0)
        weights = seasonal * weekly
        self.cdf_all = np.concatenate([[0.0], np.cumsum(weights)])
        self.cdf_weekend = np.concatenate([[0.0], np.cumsum(np.where(self.weekend, weights, 0))])
        self.cdf_weekday = np.concatenate([[0.0], np.cumsum(np.where(self.weekend, 0, weights))])
        self.start_dow = int(dates[0].day_of_week) if self.days else 0
        # Daytime hours (06:00-21:59) and night hours are drawn separately: how much of a
        # customer's activity is at night is their own propensity.
        day_hours = np.where(np.isin(np.arange(24), NIGHT_HOURS), 0.0, HOURLY)
        self.cdf_hour = np.cumsum(day_hours / day_hours.sum())
        # Night owls' hours: few at 22:00 so activity shifted a few minutes back stays at night.
        night = np.zeros(24)
        night[NIGHT_HOURS] = [0.6, 1.6, 2.0, 1.8, 1.5, 1.1, 0.8, 0.6]
        self.cdf_night = np.cumsum(night / night.sum())

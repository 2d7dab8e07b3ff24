"""A synthetic order stream with known answers, for tests and the benchmark.

Kept apart from the models (as ``lifetimes`` keeps its generators apart from its
fitters). Customers buy with gamma-distributed gaps (shape 1 is a Poisson buyer,
larger shapes are more regular), spend log-normally around their own level, prefer
a few categories, and a share of them lapse: they stop buying for good at least
``min_lapse_days`` before the end.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

CATEGORIES = ("Coffee", "Tea", "Snacks", "Dairy", "Bakery", "Produce", "Frozen", "Household")


def simulate_order_lines(
    n_customers: int,
    *,
    start: datetime = datetime(2023, 1, 1),
    days: int = 540,
    lapsed_share: float = 0.2,
    min_lapse_days: int = 120,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate order lines (one line per order) and the truth behind them.

    Returns:
        ``(order_lines, truth)``. ``order_lines`` columns: ``customer_id, order_id,
        ordered_at, amount, category``. ``truth`` columns: ``customer_id, lapsed``
        (bool), ``mean_gap_days``, ``regularity`` (gamma shape of the gaps),
        ``stop_day`` (days after ``start`` when buying stopped; ``days`` if never).
    """
    rng = np.random.default_rng(random_state)
    ids = np.array([f"c{i:06d}" for i in range(n_customers)])
    mean_gap = np.exp(rng.normal(np.log(35.0), 0.6, n_customers))
    shape = rng.choice([1.0, 2.0, 4.0], size=n_customers, p=[0.4, 0.35, 0.25])
    first = rng.uniform(0, days * 0.6, n_customers)
    lapsed = rng.random(n_customers) < lapsed_share
    stop = np.where(lapsed, rng.uniform(first, np.maximum(first, days - min_lapse_days)), days)
    stop = np.maximum(stop, first)
    # Enough gaps to pass the end for every customer: days / min gap, with slack.
    n_gaps = int(np.ceil(days / max(mean_gap.min(), 1.0) * 1.5)) + 5
    n_gaps = min(n_gaps, 200)
    gaps = rng.gamma(shape[:, None], (mean_gap / shape)[:, None], size=(n_customers, n_gaps))
    times = first[:, None] + np.concatenate(
        [np.zeros((n_customers, 1)), np.cumsum(gaps, axis=1)[:, :-1]], axis=1
    )
    keep = times < stop[:, None]
    keep[:, 0] = True  # everyone made a first purchase
    row, col = np.nonzero(keep)
    when = times[row, col]
    level = np.exp(rng.normal(np.log(40.0), 0.5, n_customers))
    amount = np.round(level[row] * np.exp(rng.normal(0.0, 0.3, len(row))), 2)
    favourite = rng.dirichlet(np.full(len(CATEGORIES), 0.3), size=n_customers)
    cumulative = np.cumsum(favourite, axis=1)
    pick = (rng.random(len(row))[:, None] > cumulative[row]).sum(axis=1)
    pick = np.minimum(pick, len(CATEGORIES) - 1)
    seconds = np.round(when * 86400.0).astype("int64")
    order_lines = (
        pd.DataFrame(
            {
                "customer_id": ids[row],
                "order_id": np.char.add(np.char.add(ids[row], "-"), col.astype(str)),
                "ordered_at": (pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")).astype(
                    "datetime64[ns]"
                ),
                "amount": amount,
                "category": np.asarray(CATEGORIES)[pick],
            }
        )
        .sort_values("ordered_at", kind="stable")
        .reset_index(drop=True)
    )
    truth = pd.DataFrame(
        {
            "customer_id": ids,
            "lapsed": lapsed,
            "mean_gap_days": mean_gap,
            "regularity": shape,
            "stop_day": stop,
        }
    )
    return order_lines, truth

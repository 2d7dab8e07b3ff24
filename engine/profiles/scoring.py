"""The nine 0-100 scores: a pure, vectorised function of (statistics, calibration).

``docs/scoring.md`` documents every formula. Two families:

* **shares** (price sensitivity, brand loyalty, impulse, weekend, night,
  mobile): ``100 (k + a p0) / (n + a)``, the customer's share ``k/n`` shrunk
  toward the store's share ``p0`` with a pseudo-count ``a`` (:data:`PSEUDO_COUNT`),
  so a customer with no data sits exactly at the store's share;
* **ratios** (lifetime value, frequency, research): ``100 r / (1 + r)`` with
  ``r`` the customer's figure over the store's median, so the median customer
  scores 50 and a customer with nothing scores 0.

The store-level numbers (medians, shares) are a :class:`Calibration`, fitted by
batch scoring (:func:`fit_calibration`) and kept with every profile, so the
real-time path scores with exactly the numbers the batch used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

SCORES = (
    "lifetime_value",
    "purchase_frequency",
    "price_sensitivity",
    "brand_loyalty",
    "impulse_buying",
    "research_intensity",
    "weekend_shopping",
    "night_shopping",
    "mobile_usage",
)
"""The nine scores, in the order of the ``profiles`` table."""

PSEUDO_COUNT = 3.0
"""Pseudo-count of the shrinkage toward the store's share (personas.md: 3)."""
MIN_BRANDED_LINES = 5
"""Customers with fewer branded lines do not vote on the store's typical top-2 share
(their top-2 share is high by arithmetic, not by loyalty)."""

EVIDENCE = {
    "lifetime_value": "orders",
    "purchase_frequency": "orders_365",
    "price_sensitivity": "lines",
    "brand_loyalty": "branded_lines",
    "impulse_buying": "viewed_lines",
    "research_intensity": "activity",
    "weekend_shopping": "activity",
    "night_shopping": "activity",
    "mobile_usage": "activity",
}
"""Which statistic is the "n" (amount of evidence) behind each score."""

MIN_EVIDENCE: dict[str, int] = {
    "lifetime_value": 2,
    "purchase_frequency": 2,
    "price_sensitivity": 5,
    "brand_loyalty": 8,
    "impulse_buying": 5,
    "research_intensity": 10,
    "weekend_shopping": 10,
    "night_shopping": 10,
    "mobile_usage": 10,
}
"""Default minimum evidence (its :data:`EVIDENCE` count) for a score to be given; below
it the score is "not enough data" (NaN). Configurable with the segment rules
(:func:`engine.profiles.segments.save_min_evidence`); ``docs/scoring.md`` says why."""


def evidence_mask(
    stats: Mapping[str, Any], minimums: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Per score: whether the customer has enough evidence for it (bool array or scalar).

    Args:
        stats: the statistics (frame or one customer's mapping).
        minimums: minimum evidence per score (default :data:`MIN_EVIDENCE`).
    """
    minimums = {**MIN_EVIDENCE, **(minimums or {})}
    return {
        name: np.asarray(stats[EVIDENCE[name]], dtype=float) >= max(minimums[name], 1)
        for name in SCORES
    }


EVIDENCE_WORDS = {
    "orders": "orders",
    "orders_365": "orders in the last 365 days",
    "lines": "order lines",
    "branded_lines": "branded products",
    "viewed_lines": "viewed-then-bought lines",
    "activity": "actions",
}
"""What each :data:`EVIDENCE` count counts, in words."""


def not_enough_data(score: str, n: int, min_n: int) -> str:
    """``"not enough data (3 of 5 order lines)"``: the state of a score below its minimum."""
    return f"not enough data ({n} of {min_n} {EVIDENCE_WORDS[EVIDENCE[score]]})"


@dataclass(frozen=True)
class Calibration:
    """Store-level reference values every score is measured against.

    Medians are over customers with evidence (buyers for spend, buyers in the
    window for frequency, active customers for research); shares are pooled
    over the store's lines or activity.
    """

    median_spend: float = 1.0
    median_orders_365: float = 1.0
    median_research: float = 1.0
    discount_share: float = 0.0
    top2_share: float = 0.5
    impulse_share: float = 0.0
    weekend_share: float = 2.0 / 7.0
    night_share: float = 8.0 / 24.0
    mobile_share: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Calibration:
        """Rebuild from :meth:`as_dict` output; unknown keys ignored, missing ones default."""
        if not data:
            return cls()
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in names})


def _median(values: pd.Series, default: float) -> float:
    values = values[values > 0]
    if values.empty:
        return default
    return float(values.median())


def _pooled(numerator: pd.Series, denominator: pd.Series, default: float) -> float:
    total = float(denominator.sum())
    return float(numerator.sum()) / total if total > 0 else default


def research_ratio(stats: Mapping[str, Any]) -> Any:
    """(views + searches) / (orders + 1): research events per order."""
    views = np.asarray(stats["views"], dtype=float)
    searches = np.asarray(stats["searches"], dtype=float)
    orders = np.asarray(stats["orders"], dtype=float)
    return (views + searches) / (orders + 1.0)


def fit_calibration(stats: pd.DataFrame) -> Calibration:
    """The store's medians and shares from a stats frame (see ``compute_stats``).

    An empty store gets the neutral defaults of :class:`Calibration`.
    """
    if stats.empty:
        return Calibration()
    defaults = Calibration()
    active = stats["activity"] > 0
    research = pd.Series(research_ratio(stats), index=stats.index)[active]
    branded = stats["branded_lines"] >= MIN_BRANDED_LINES
    if not branded.any():
        branded = stats["branded_lines"] > 0
    top2 = stats.loc[branded, "top2_lines"] / stats.loc[branded, "branded_lines"]
    return Calibration(
        median_spend=_median(stats["spend"], defaults.median_spend),
        median_orders_365=_median(stats["orders_365"].astype(float), defaults.median_orders_365),
        median_research=_median(research, defaults.median_research),
        discount_share=_pooled(stats["disc_lines"], stats["lines"], defaults.discount_share),
        top2_share=float(top2.median()) if not top2.empty else defaults.top2_share,
        impulse_share=_pooled(stats["quick_lines"], stats["viewed_lines"], defaults.impulse_share),
        weekend_share=_pooled(stats["weekend"], stats["activity"], defaults.weekend_share),
        night_share=_pooled(stats["night"], stats["activity"], defaults.night_share),
        mobile_share=_pooled(stats["mobile"], stats["activity"], defaults.mobile_share),
    )


def shrunk_share(k: Any, n: Any, prior: float, pseudo: float = PSEUDO_COUNT) -> Any:
    """``100 (k + pseudo * prior) / (n + pseudo)``: 0-100, the prior when ``n == 0``."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    return 100.0 * (k + pseudo * prior) / (n + pseudo)


def ratio_score(value: Any, median: float) -> Any:
    """``100 r / (1 + r)`` with ``r = max(value, 0) / median``: 50 at the median, 0 at nothing.

    Computed as ``100 v / (v + median)``, which cannot overflow for tiny medians.
    """
    v = np.maximum(np.asarray(value, dtype=float), 0.0)
    m = median if median > 0 else 1.0
    return 100.0 * v / (v + m)


def score_columns(stats: Mapping[str, Any], calibration: Calibration) -> dict[str, Any]:
    """The nine scores from statistics (a frame, or a dict of scalars for one customer).

    Args:
        stats: mapping with the count/float columns of
            :data:`engine.profiles.stats.STATS_COLUMNS` (arrays or scalars).
        calibration: the store-level reference values.

    Returns:
        ``{score name: array (or 0-d array) of 0-100 floats}``, never NaN.
    """
    c = calibration
    scores = {
        "lifetime_value": ratio_score(stats["spend"], c.median_spend),
        "purchase_frequency": ratio_score(stats["orders_365"], c.median_orders_365),
        "price_sensitivity": shrunk_share(stats["disc_lines"], stats["lines"], c.discount_share),
        "brand_loyalty": shrunk_share(stats["top2_lines"], stats["branded_lines"], c.top2_share),
        "impulse_buying": shrunk_share(
            stats["quick_lines"], stats["viewed_lines"], c.impulse_share
        ),
        "research_intensity": ratio_score(research_ratio(stats), c.median_research),
        "weekend_shopping": shrunk_share(stats["weekend"], stats["activity"], c.weekend_share),
        "night_shopping": shrunk_share(stats["night"], stats["activity"], c.night_share),
        "mobile_usage": shrunk_share(stats["mobile"], stats["activity"], c.mobile_share),
    }
    return {k: np.clip(np.nan_to_num(v, nan=0.0), 0.0, 100.0) for k, v in scores.items()}


def _bounded(value: float) -> float:
    # np.clip(np.nan_to_num(value, nan=0.0), 0, 100) of one float
    return 0.0 if value != value else min(max(value, 0.0), 100.0)


def score_one(stats: Mapping[str, Any], calibration: Calibration) -> dict[str, float]:
    """:func:`score_columns` of one customer's statistics, in plain floats.

    The same operations in the same order on IEEE doubles, so the same numbers to the
    last bit (``tests/engine/profiles/test_scoring.py`` checks it), without numpy's
    cost per call: real-time tracking scores one customer per event.
    """
    c, pseudo = calibration, PSEUDO_COUNT

    def ratio(value: Any, median: float) -> float:
        v = max(float(value), 0.0)
        return 100.0 * v / (v + (median if median > 0 else 1.0))

    def share(k: Any, n: Any, prior: float) -> float:
        return 100.0 * (float(k) + pseudo * prior) / (float(n) + pseudo)

    try:
        research = (float(stats["views"]) + float(stats["searches"])) / (
            float(stats["orders"]) + 1.0
        )
        activity = stats["activity"]
        scores = {
            "lifetime_value": ratio(stats["spend"], c.median_spend),
            "purchase_frequency": ratio(stats["orders_365"], c.median_orders_365),
            "price_sensitivity": share(stats["disc_lines"], stats["lines"], c.discount_share),
            "brand_loyalty": share(stats["top2_lines"], stats["branded_lines"], c.top2_share),
            "impulse_buying": share(stats["quick_lines"], stats["viewed_lines"], c.impulse_share),
            "research_intensity": ratio(research, c.median_research),
            "weekend_shopping": share(stats["weekend"], activity, c.weekend_share),
            "night_shopping": share(stats["night"], activity, c.night_share),
            "mobile_usage": share(stats["mobile"], activity, c.mobile_share),
        }
    except ZeroDivisionError:  # impossible counts (n = -3): numpy's inf and NaN rules
        return {k: float(v) for k, v in score_columns(stats, calibration).items()}
    return {k: _bounded(v) for k, v in scores.items()}


def enough_one(
    stats: Mapping[str, Any], minimums: Mapping[str, int] | None = None
) -> dict[str, bool]:
    """:func:`evidence_mask` of one customer's statistics, in plain booleans."""
    minimums = {**MIN_EVIDENCE, **(minimums or {})}
    return {name: float(stats[EVIDENCE[name]]) >= max(minimums[name], 1) for name in SCORES}


def score_frame(
    stats: pd.DataFrame, calibration: Calibration, minimums: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """``customer_id`` plus the nine score columns, one row per row of ``stats``.

    A score whose evidence is below ``minimums`` (default :data:`MIN_EVIDENCE`) is NaN:
    "not enough data", neither a number nor a rank.
    """
    columns = score_columns(stats, calibration)
    enough = evidence_mask(stats, minimums)
    frame = pd.DataFrame({"customer_id": stats["customer_id"].to_numpy()})
    for name in SCORES:
        frame[name] = np.where(enough[name], np.asarray(columns[name], dtype=float), np.nan)
    return frame


def explain(
    stats: Mapping[str, Any], calibration: Calibration, minimums: Mapping[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    """For one customer: each score's value, evidence ``n`` and the ``min_n`` it needs,
    inputs and a sentence. ``value`` is ``None`` when ``n < min_n`` (not enough data)."""
    minimums = {**MIN_EVIDENCE, **(minimums or {})}
    scores = score_one(stats, calibration)
    c = calibration
    s = {k: stats[k] for k in stats}
    research = float(research_ratio(s))
    inputs: dict[str, dict[str, Any]] = {
        "lifetime_value": {"net_spend": s["spend"], "store_median_spend": c.median_spend},
        "purchase_frequency": {
            "orders_last_365d": s["orders_365"],
            "store_median_orders_365d": c.median_orders_365,
        },
        "price_sensitivity": {
            "discounted_lines": s["disc_lines"],
            "lines": s["lines"],
            "store_share": c.discount_share,
        },
        "brand_loyalty": {
            "top2_brand_lines": s["top2_lines"],
            "branded_lines": s["branded_lines"],
            "store_typical_share": c.top2_share,
        },
        "impulse_buying": {
            "quick_lines": s["quick_lines"],
            "viewed_then_bought_lines": s["viewed_lines"],
            "store_share": c.impulse_share,
        },
        "research_intensity": {
            "views": s["views"],
            "searches": s["searches"],
            "orders": s["orders"],
            "research_per_order": research,
            "store_median": c.median_research,
        },
        "weekend_shopping": {
            "weekend_activity": s["weekend"],
            "activity": s["activity"],
            "store_share": c.weekend_share,
        },
        "night_shopping": {
            "night_activity": s["night"],
            "activity": s["activity"],
            "store_share": c.night_share,
        },
        "mobile_usage": {
            "mobile_activity": s["mobile"],
            "activity": s["activity"],
            "store_share": c.mobile_share,
        },
    }
    sentences = {
        "lifetime_value": "net spend {net_spend:.2f} vs store median {store_median_spend:.2f}",
        "purchase_frequency": "{orders_last_365d} orders in the last 365 days vs median "
        "{store_median_orders_365d:g}",
        "price_sensitivity": "{discounted_lines} of {lines} lines discounted "
        "(store {store_share:.0%})",
        "brand_loyalty": "{top2_brand_lines} of {branded_lines} branded products from the top 2 "
        "brands (store typical {store_typical_share:.0%})",
        "impulse_buying": "{quick_lines} of {viewed_then_bought_lines} viewed-then-bought lines "
        "within 30 min of the first view (store {store_share:.0%})",
        "research_intensity": "{research_per_order:.1f} views+searches per order vs store "
        "median {store_median:.1f}",
        "weekend_shopping": "{weekend_activity} of {activity} actions on Sat/Sun "
        "(store {store_share:.0%})",
        "night_shopping": "{night_activity} of {activity} actions 22:00-05:59 "
        "(store {store_share:.0%})",
        "mobile_usage": "{mobile_activity} of {activity} actions on mobile "
        "(store {store_share:.0%})",
    }
    out: dict[str, dict[str, Any]] = {}
    for name in SCORES:
        n = int(s[EVIDENCE[name]])
        need = max(int(minimums[name]), 1)
        enough = n >= need
        out[name] = {
            "value": scores[name] if enough else None,
            "n": n,
            "min_n": need,
            "inputs": inputs[name],
            "explanation": sentences[name].format(**inputs[name])
            + ("" if enough else f"; {not_enough_data(name, n, need)}"),
        }
    return out

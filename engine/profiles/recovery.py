"""Persona recovery: how well the segments find the customers a trait was planted in.

``truth`` is the seed's ``customer_id,traits`` (``personalize seed --truth``);
category enthusiasts are pooled into one row ``enthusiast`` (a hit needs the
same ``<category>_enthusiast`` name on both sides).
"""

from __future__ import annotations

import pandas as pd

BEHAVIORAL_SEGMENTS = (
    "high_value", "frequent_buyer", "deal_seeker", "brand_loyal", "impulse_buyer",
    "researcher", "weekend_shopper", "night_owl", "mobile_first", "enthusiast",
)


def _pairs(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    pairs = frame[["customer_id", column]].copy()
    pairs[column] = pairs[column].fillna("").astype(str).str.split(";")
    pairs = pairs.explode(column)
    return pairs.loc[pairs[column] != ""].rename(columns={column: "segment"})


def recovery(truth: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Per behavioral segment: ``planted, found, precision, recall``.

    Args:
        truth: ``customer_id, traits`` (``;``-separated planted traits).
        profiles: ``customer_id, segments`` (``;``-separated, as from
            :func:`engine.profiles.compute_profiles`).

    Returns:
        Frame indexed by segment (:data:`BEHAVIORAL_SEGMENTS`); precision or
        recall is NaN where nothing was found or planted.
    """
    planted = _pairs(truth, "traits")
    found = _pairs(profiles, "segments")
    rows = []
    for segment in BEHAVIORAL_SEGMENTS:
        if segment == "enthusiast":
            t = planted.loc[planted["segment"].str.endswith("_enthusiast")]
            f = found.loc[found["segment"].str.endswith("_enthusiast")]
        else:
            t = planted.loc[planted["segment"] == segment]
            f = found.loc[found["segment"] == segment]
        hits = len(t.merge(f, on=["customer_id", "segment"]))
        rows.append({
            "segment": segment, "planted": len(t), "found": len(f),
            "precision": hits / len(f) if len(f) else float("nan"),
            "recall": hits / len(t) if len(t) else float("nan"),
        })
    return pd.DataFrame(rows).set_index("segment")

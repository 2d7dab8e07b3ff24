"""Persona recovery: the default rules find the customers the seed planted each trait in.

On the small seeded market (``seeded_db_url``), for each behavioral segment the
planted carriers (``market.truth``) must be recovered with precision and recall
>= 0.85 at the default thresholds. Category enthusiasts are pooled (each
category alone has a handful of carriers in a 600-customer store): a
``(customer, <category>_enthusiast)`` pair is a hit when the trait and the
segment name agree.
"""

from __future__ import annotations

import pandas as pd
import pytest

from engine.db import make_engine, session_scope
from engine.profiles import compute_profiles
from engine.profiles.recovery import BEHAVIORAL_SEGMENTS, recovery

SEGMENTS = list(BEHAVIORAL_SEGMENTS)
TARGET = 0.85


@pytest.fixture(scope="module")
def table(small_market, seeded_db_url) -> pd.DataFrame:
    engine = make_engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            profiles = compute_profiles(session)
    finally:
        engine.dispose()
    return recovery(small_market.truth, profiles)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_persona_recovered(table, segment):
    row = table.loc[segment]
    assert row["planted"] > 0, f"the seed planted no {segment}"
    assert row["precision"] >= TARGET and row["recall"] >= TARGET, (
        f"{segment}: planted {row['planted']}, found {row['found']}, "
        f"precision {row['precision']:.2f}, recall {row['recall']:.2f}\n{table.to_string()}"
    )

"""The tour's examples come from the store as it is: planted personas on the seeded store,
telling real customers on an imported one, and something sensible on a tiny store."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.tour import (
    DIFFERENT_BELOW,
    TRAITS,
    campaign_rule,
    pick_buyer,
    pick_personas,
    pick_slipping,
)
from engine.db import make_engine, session_scope
from engine.profiles import compute_profiles
from engine.profiles.scoring import SCORES


def _profiles(url_or_engine) -> pd.DataFrame:
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    with session_scope(engine) as session:
        return compute_profiles(session)


def _assert_they_differ(profiles: pd.DataFrame, picks) -> None:
    ranks = profiles.set_index("customer_id")[list(SCORES)].rank(pct=True)
    assert len({p.customer_id for p in picks}) == len(picks) == 3
    assert len({p.score for p in picks}) == 3
    for i, pick in enumerate(picks):
        assert pick.percentile >= 0.9  # each is a clear case of their habit
        for other in picks[:i]:  # ... and unremarkable on the habits shown before
            assert ranks.at[pick.customer_id, other.score] < DIFFERENT_BELOW


def test_on_the_seeded_store_the_picks_are_planted_personas(seeded_db_url, small_market):
    profiles = _profiles(seeded_db_url)
    picks = pick_personas(profiles)
    _assert_they_differ(profiles, picks)
    traits = small_market.truth.set_index("customer_id")["traits"].fillna("")
    planted = [p.segment in traits[p.customer_id].split(";") for p in picks]
    assert sum(planted) >= 2, [(p.customer_id, p.segment, traits[p.customer_id]) for p in picks]


@pytest.mark.slow
def test_on_an_imported_real_store_the_picks_are_telling_customers(imported_sample):
    _, imported = imported_sample("dunnhumby")  # its orders and products, imported once
    profiles = _profiles(f"sqlite:///{imported}")  # read only
    picks = pick_personas(profiles)
    _assert_they_differ(profiles, picks)
    orders = profiles.set_index("customer_id")["orders"]
    assert all(orders[p.customer_id] >= 2 for p in picks)  # real shoppers, not one-offs


def test_hand_made_profiles_pick_the_strongest_case_of_each_habit():
    base = {s: 50.0 for s in SCORES}
    rows = [
        {"customer_id": "owl", **base, "night_shopping": 95.0},
        {"customer_id": "owl2", **base, "night_shopping": 94.0, "price_sensitivity": 99.0},
        {"customer_id": "owl3", **base, "night_shopping": 96.0},
        {"customer_id": "deal", **base, "price_sensitivity": 90.0},
        {"customer_id": "loyal", **base, "brand_loyalty": 97.0},
        {"customer_id": "once", **base, "brand_loyalty": 100.0},
        *({"customer_id": f"x{i}", **base} for i in range(20)),
    ]
    frame = pd.DataFrame(rows).assign(orders=3, activity=10, segments="")
    frame.loc[frame["customer_id"] == "once", "orders"] = 1  # one order: passed over
    frame.loc[frame["customer_id"] == "owl", "activity"] = 40  # more evidence than owl3
    picks = pick_personas(frame)
    # owl2 is the best deal seeker but also a night owl: the personas must differ.
    assert [p.customer_id for p in picks] == ["owl", "deal", "loyal"]
    assert [p.segment for p in picks] == ["night_owl", "deal_seeker", "brand_loyal"]


def test_a_store_without_customers_picks_nobody():
    empty = pd.DataFrame(columns=["customer_id", *SCORES, "orders", "activity"])
    assert pick_personas(empty) == []
    assert pick_buyer(pd.DataFrame()) is None
    assert pick_slipping(pd.DataFrame(), pd.DataFrame()) is None
    assert campaign_rule(None) == "high_value AND p_buy_30d >= 0.3"


def test_buyer_and_slipping_picks():
    predictions = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"], "p_buy_90d": [0.2, 0.9, 0.9, 0.1, 0.5],
        "clv_12m": [10.0, 50.0, 80.0, 500.0, 5.0], "p_active": [0.9, 0.9, 0.8, 0.3, 0.1],
    })  # fmt: skip
    assert pick_buyer(predictions) == "c"  # a tie on p_buy goes to the more valuable
    assert pick_buyer(predictions, exclude=("c",)) == "b"
    slipping = pd.DataFrame({"customer_id": ["e", "a"]})
    assert pick_slipping(slipping, predictions) == "e"
    assert pick_slipping(slipping.iloc[0:0], predictions) == "d"  # top spender least active
    assert set(TRAITS.values()) >= {"night_owl", "deal_seeker"}

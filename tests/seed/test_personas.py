"""Every planted trait is visible in the raw rows of the small market, as docs/personas.md says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seed.personas import CONTRADICTIONS, PERSONAS, TRAITS, assign_traits
from tests.seed.signals import carriers, customer_signals


@pytest.fixture(scope="module")
def signals(small_market) -> pd.DataFrame:
    return customer_signals(small_market)


@pytest.fixture(scope="module")
def active(small_market) -> pd.Series:
    """Customers who are not lapsed (the traits' shares are read on them)."""
    return ~carriers(small_market, "lapsed")


# (trait, signal, threshold): carriers above it, non-carriers below it.
SEPARATIONS = [
    ("deal_seeker", "discounted_share", 0.6),
    ("weekend_shopper", "weekend_share", 0.65),
    ("night_owl", "night_share", 0.6),
    ("mobile_first", "mobile_share", 0.75),
    ("impulse_buyer", "quick_share", 0.5),
    ("researcher", "research_ratio", 3.0),
    ("brand_loyal", "brand_top2_shrunk", 0.72),
    ("_enthusiast", "top_category_share", 0.6),
    ("high_value", "spend_ratio", 5.0),
    ("frequent_buyer", "order_ratio", 3.2),
]


@pytest.mark.parametrize(("trait", "signal", "threshold"), SEPARATIONS)
def test_trait_separates_carriers_from_others(
    small_market, signals, active, trait, signal, threshold
):
    carrier = carriers(small_market, trait) & active
    values = signals[signal]
    above = values > threshold
    assert carrier.sum() >= 20, f"too few {trait} carriers to judge"
    recall = above[carrier].mean()
    # Customers with too little data to compute the signal are not counted as false alarms.
    others = active & ~carrier & values.notna()
    false_alarm = above[others].mean()
    assert recall >= 0.85, f"{trait}: only {recall:.0%} of carriers show {signal} > {threshold}"
    assert false_alarm <= 0.05, f"{trait}: {false_alarm:.0%} of others show {signal} > {threshold}"


def test_group_shares_match_the_documented_levels(small_market, signals, active):
    deal = carriers(small_market, "deal_seeker") & active
    assert signals.loc[deal, "discounted_share"].median() > 0.8
    assert signals.loc[active & ~deal, "discounted_share"].median() < 0.3
    weekend = carriers(small_market, "weekend_shopper") & active
    assert signals.loc[weekend, "weekend_share"].median() > 0.8
    assert 0.25 < signals.loc[active & ~weekend, "weekend_share"].median() < 0.4
    night = carriers(small_market, "night_owl") & active
    assert signals.loc[night, "night_share"].median() > 0.8
    assert signals.loc[active & ~night, "night_share"].median() < 0.16
    mobile = carriers(small_market, "mobile_first") & active
    assert signals.loc[mobile, "mobile_share"].median() > 0.85
    assert 0.2 < signals.loc[active & ~mobile, "mobile_share"].median() < 0.4


def test_lapsed_customers_are_silent_for_the_last_120_days(small_market, signals):
    lapsed = carriers(small_market, "lapsed")
    cutoff = pd.Timestamp(small_market.config.end) - pd.Timedelta(days=120)
    last = signals.loc[lapsed, "last_activity"].dropna()
    assert len(last) > 20
    assert (last < cutoff).all()
    reviews = small_market.reviews[small_market.reviews["customer_id"].isin(lapsed[lapsed].index)]
    assert (reviews["reviewed_at"] < cutoff).all()
    # Everyone else is still around near the end.
    recent = signals.loc[~lapsed, "last_activity"] >= cutoff
    assert recent.mean() > 0.97


def test_enthusiasts_favour_the_category_they_are_named_after(small_market, signals):
    truth = small_market.truth.set_index("customer_id")["traits"]
    enthusiast = truth.str.extract(r"(\w+)_enthusiast")[0].dropna()
    enthusiast = enthusiast[~carriers(small_market, "lapsed")[enthusiast.index]]
    top = signals.loc[enthusiast.index, "top_category"].str.lower().str.replace(" ", "_")
    assert (top == enthusiast).mean() > 0.9


def test_truth_names_are_segment_names(small_market):
    names = set(";".join(small_market.truth["traits"]).split(";")) - {""}
    plain = {t for t in TRAITS if t != "enthusiast"}
    assert names - plain, "some enthusiasts expected"
    assert all(n in plain or n.endswith("_enthusiast") for n in names)
    assert names & plain == plain


def test_contradictory_traits_are_never_combined(small_market):
    traits = small_market.truth["traits"].str.split(";")
    for first, second in CONTRADICTIONS:
        assert not traits.map(lambda ts, a=first, b=second: a in ts and b in ts).any()
    lapsed = traits.map(lambda ts: "lapsed" in ts)
    assert (traits[lapsed].map(len) == 1).all()


def test_prevalences_are_reasonable():
    rng = np.random.default_rng(3)
    assignment = assign_traits(rng, 20_000, np.ones(12))
    shares = {trait: flags.mean() for trait, flags in assignment.flags.items()}
    assert 0.13 < shares["lapsed"] < 0.17
    for trait in TRAITS:
        if trait != "lapsed":
            assert 0.06 <= shares[trait] <= 0.16, (trait, shares[trait])
    both_value = assignment.flags["high_value"] & assignment.flags["frequent_buyer"]
    assert 0.01 < both_value.mean() < 0.05  # the high-value regulars
    assert {p.key for p in PERSONAS} >= {"bargain_hunter", "high_value_regular", "lapsed"}


def test_brand_loyalists_favourites_span_several_categories(small_market):
    lines = small_market.order_lines.merge(small_market.orders[["order_id", "customer_id"]])
    lines = lines.merge(small_market.products[["product_id", "brand", "category"]])
    loyal = carriers(small_market, "brand_loyal")
    loyal_lines = lines[lines["customer_id"].isin(loyal[loyal].index) & lines["brand"].notna()]
    top_brand = loyal_lines.groupby("customer_id")["brand"].agg(lambda s: s.value_counts().index[0])
    spans = small_market.products.groupby("brand")["category"].nunique()
    assert (spans[top_brand].to_numpy() >= 3).mean() > 0.9

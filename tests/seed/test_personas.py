"""The planted traits on the small market: personas shift continuous propensities, never fence them.

Each customer's latent propensities are in ``market.truth`` (one column per score). The
behaviour in the raw rows follows them with sampling noise, the carriers of a trait sit
well above the others on average, and the two groups overlap, as they do in a real store
(docs/personas.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from seed.personas import CONTRADICTIONS, PERSONAS, TRAITS, assign_traits
from tests.seed.signals import carriers, customer_signals


@pytest.fixture(scope="module")
def signals(small_market) -> pd.DataFrame:
    return customer_signals(small_market)


@pytest.fixture(scope="module")
def active(small_market) -> pd.Series:
    """Customers who are not lapsed (the traits' shares are read on them)."""
    return ~carriers(small_market, "lapsed")


@pytest.fixture(scope="module")
def latent(small_market) -> pd.DataFrame:
    return small_market.truth.set_index("customer_id")


@pytest.fixture(scope="module")
def evidence(small_market, signals) -> pd.DataFrame:
    """Per customer: orders, lines, branded lines and actions (events other than purchases
    plus orders), to read each raw signal only where it rests on enough observations."""
    index = signals.index
    orders = small_market.orders.groupby("customer_id").size().reindex(index, fill_value=0)
    lines = small_market.order_lines.merge(small_market.orders[["order_id", "customer_id"]])
    lines = lines.merge(small_market.products[["product_id", "brand"]])
    events = small_market.events
    actions = events[events["customer_id"].notna() & (events["event_type"] != "purchase")]
    return pd.DataFrame(
        {
            "orders": orders,
            "lines": lines.groupby("customer_id").size().reindex(index, fill_value=0),
            "branded": lines[lines["brand"].notna()]
            .groupby("customer_id")
            .size()
            .reindex(index, fill_value=0),
            "actions": actions.groupby("customer_id").size().reindex(index, fill_value=0) + orders,
        }
    )


# (trait, raw signal, latent column, evidence column, minimum evidence, rank correlation
# the raw signal reaches with the latent propensity over those customers).
SIGNALS = [
    ("deal_seeker", "discounted_share", "price_sensitivity", "lines", 10, 0.7),
    ("weekend_shopper", "weekend_share", "weekend_shopping", "actions", 20, 0.65),
    ("night_owl", "night_share", "night_shopping", "actions", 20, 0.65),
    ("mobile_first", "mobile_share", "mobile_usage", "actions", 20, 0.8),
    ("impulse_buyer", "quick_share", "impulse_buying", "lines", 10, 0.7),
    ("researcher", "research_ratio", "research_intensity", "actions", 20, 0.8),
    ("brand_loyal", "brand_top2_shrunk", "brand_loyalty", "branded", 10, 0.6),
    ("high_value", "spend_ratio", "lifetime_value", "orders", 2, 0.6),
    ("frequent_buyer", "order_ratio", "purchase_frequency", "orders", 2, 0.65),
]


@pytest.mark.parametrize(("trait", "signal", "column", "basis", "minimum", "target"), SIGNALS)
def test_behaviour_follows_the_latent_propensity(
    signals, latent, evidence, active, trait, signal, column, basis, minimum, target
):
    """Drawn with noise, but from the propensity: the raw share ranks like it."""
    enough = active & (evidence[basis] >= minimum) & signals[signal].notna()
    assert enough.sum() >= 150, f"too few customers with {minimum}+ {basis} to judge {signal}"
    rho = spearmanr(signals.loc[enough, signal], latent.loc[enough, column])[0]
    assert rho >= target, f"{signal} vs latent {column}: Spearman {rho:.2f} < {target}"


@pytest.mark.parametrize(("trait", "signal", "column"), [s[:3] for s in SIGNALS])
def test_personas_shift_the_propensities_but_do_not_fence_them(
    small_market, signals, latent, active, trait, signal, column
):
    carrier = carriers(small_market, trait) & active
    others = active & ~carrier
    assert carrier.sum() >= 20, f"too few {trait} carriers to judge"
    planted, rest = latent.loc[carrier, column], latent.loc[others, column]
    # Shifted: the typical carrier is above three quarters of everyone else.
    assert planted.median() > rest.quantile(0.75), trait
    # Not fenced: some ordinary customers reach the carriers' range, in the latent numbers
    # and in the rows (the highest ordinary customer is above the lowest carrier).
    assert (rest > planted.quantile(0.25)).sum() >= 5, f"{trait}: no ordinary customer overlaps"
    shown = signals[signal]
    assert shown[others].max() > shown[carrier].min(), f"{trait}: {signal} is fenced off"


def test_shares_sit_at_a_real_stores_levels(small_market, signals, active):
    """Ordinary customers' shares at the levels docs/market.md quotes; carriers' well above."""
    levels = {  # signal: (ordinary median range, carriers' median above)
        "discounted_share": ((0.15, 0.45), 0.6),
        "weekend_share": ((0.22, 0.4), 0.6),
        "night_share": ((0.02, 0.16), 0.4),
        "mobile_share": ((0.25, 0.55), 0.75),
    }
    traits = {
        "discounted_share": "deal_seeker",
        "weekend_share": "weekend_shopper",
        "night_share": "night_owl",
        "mobile_share": "mobile_first",
    }
    for signal, ((low, high), above) in levels.items():
        carrier = carriers(small_market, traits[signal]) & active
        ordinary = signals.loc[active & ~carrier, signal].median()
        assert low < ordinary < high, (signal, ordinary)
        assert signals.loc[carrier, signal].median() > above, signal


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

"""The live market's generator: pure, seeded, and shopping as each customer's propensities say."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest

from engine.db import open_store, session_scope
from engine.profiles.validation import validate_event
from seed.live import INJECTABLE, Catalogue, Shoppers, Simulation
from seed.live_store import market_of_store

START = datetime(2026, 11, 2)  # a Monday


def _shoppers(n: int, **override: np.ndarray) -> Shoppers:
    base = dict(
        customer_ids=np.array([f"c{i}" for i in range(n)], dtype=object),
        names=np.array([f"n{i}" for i in range(n)], dtype=object),
        orders_per_day=np.full(n, 0.3),
        visits_per_day=np.full(n, 1.0),
        weekend=np.full(n, 2 / 7),
        night=np.full(n, 0.08),
        mobile=np.full(n, 0.4),
        impulse=np.full(n, 0.3),
        deal=np.full(n, 0.2),
        loyalty=np.full(n, 0.3),
        focus=np.full(n, 0.3),
        favourite_category=np.full(n, "shoes", dtype=object),
        favourite_brands=np.array([["acme", "zen"]] * n, dtype=object),
        review_rate=np.full(n, 0.2),
        leniency=np.zeros(n),
        locations=np.full(n, "Lyon", dtype=object),
        weather={"Lyon": (["sunny", "rainy"], [0.5, 0.5])},
        source="test",
    )
    return Shoppers(**{**base, **override})


def _catalogue() -> Catalogue:
    return Catalogue(
        product_ids=np.array(["p0", "p1", "p2", "p3"], dtype=object),
        category=np.array(["shoes", "shoes", "bags", None], dtype=object),
        brand=np.array(["acme", "zen", "acme", None], dtype=object),
        marked_down=np.array([False, True, False, False]),
        weight=np.array([1.0, 1.0, 2.0, 1.0]),
        quality=np.array([4.0, 4.5, 3.0, 4.0]),
    )


def _big_catalogue(n: int = 400) -> Catalogue:
    return Catalogue(
        product_ids=np.array([f"p{i}" for i in range(n)], dtype=object),
        category=np.array([("shoes", "bags", "hats")[i % 3] for i in range(n)], dtype=object),
        brand=np.array([("acme", "zen", None)[i % 3] for i in range(n)], dtype=object),
        marked_down=np.arange(n) % 5 == 0,
        weight=np.ones(n),
        quality=np.full(n, 4.0),
    )


def test_same_inputs_same_events_and_in_time_order():
    first = Simulation(_shoppers(50), _catalogue(), start=START, seed=3).until(
        START + timedelta(days=3)
    )
    again = Simulation(_shoppers(50), _catalogue(), start=START, seed=3).until(
        START + timedelta(days=3)
    )
    other = Simulation(_shoppers(50), _catalogue(), start=START, seed=4).until(
        START + timedelta(days=3)
    )
    assert first == again and first != other
    stamps = [e["occurred_at"] for e in first]
    assert stamps == sorted(stamps) and stamps[0] >= START.isoformat()
    assert len({e["event_id"] for e in first}) == len(first)


def test_events_are_valid_import_format_events():
    events = Simulation(_shoppers(30), _catalogue(), start=START, seed=1).until(
        START + timedelta(days=5)
    )
    kinds = Counter(e["event_type"] for e in events)
    assert {"product_view", "purchase", "search", "cart_add"} <= set(kinds)
    for event in events:
        validate_event(event)  # raises on anything track() would refuse


def test_consumed_in_pieces_equals_in_one_go():
    sim = Simulation(_shoppers(20), _catalogue(), start=START, seed=2)
    pieces = sim.until(START + timedelta(hours=7)) + sim.until(START + timedelta(days=2))
    whole = Simulation(_shoppers(20), _catalogue(), start=START, seed=2).until(
        START + timedelta(days=2)
    )
    assert [e["event_id"] for e in pieces] == [e["event_id"] for e in whole]


def _share(events, customers, test) -> float:
    mine = [e for e in events if e["customer_id"] in customers]
    return sum(test(e) for e in mine) / len(mine)


def test_night_owls_shop_at_night_and_mobile_shoppers_on_phones():
    n = 200
    owls = np.arange(n) < n // 2
    shoppers = _shoppers(n, night=np.where(owls, 0.8, 0.05), mobile=np.where(owls, 0.9, 0.1))
    events = Simulation(shoppers, _catalogue(), start=START, seed=5).until(
        START + timedelta(days=7)
    )
    owl_ids = {f"c{i}" for i in np.flatnonzero(owls)}
    rest = {f"c{i}" for i in np.flatnonzero(~owls)}

    def night(e):
        hour = datetime.fromisoformat(e["occurred_at"]).hour
        return hour >= 22 or hour < 6

    assert _share(events, owl_ids, night) > 0.6 > 0.2 > _share(events, rest, night)
    phone = lambda e: e["device"] == "mobile"  # noqa: E731
    assert _share(events, owl_ids, phone) > 0.75 > 0.25 > _share(events, rest, phone)


def test_impulse_buyers_buy_minutes_after_the_first_view():
    n = 100
    impulsive = np.arange(n) < n // 2
    shoppers = _shoppers(n, impulse=np.where(impulsive, 0.95, 0.02), orders_per_day=np.full(n, 2.0))
    events = Simulation(shoppers, _big_catalogue(), start=START, seed=6).until(
        START + timedelta(days=4)
    )
    first_view: dict[tuple[str, str], datetime] = {}
    quick = {True: [], False: []}
    for e in events:
        key = (e["customer_id"], e.get("product_id"))
        at = datetime.fromisoformat(e["occurred_at"])
        if e["event_type"] == "product_view":
            first_view.setdefault(key, at)
        elif e["event_type"] == "purchase" and key in first_view:
            who = impulsive[int(e["customer_id"][1:])]
            quick[bool(who)].append((at - first_view[key]) <= timedelta(minutes=30))
    assert np.mean(quick[True]) > 0.8 and np.mean(quick[False]) < 0.4


def test_a_followed_customer_shops_more_often_in_their_own_way():
    shoppers = _shoppers(50, night=np.where(np.arange(50) == 7, 0.9, 0.05))
    sim = Simulation(shoppers, _catalogue(), start=START, seed=8)
    sim.follow("c7", visits_per_day=40)
    events = sim.until(START + timedelta(days=2))
    mine = [e for e in events if e["customer_id"] == "c7"]
    assert len(mine) > len(events) / 3
    hours = [datetime.fromisoformat(e["occurred_at"]).hour for e in mine]
    assert np.mean([h >= 22 or h < 6 for h in hours]) > 0.6


@pytest.mark.parametrize("kind", INJECTABLE)
def test_injected_events_are_valid(kind):
    sim = Simulation(_shoppers(5), _catalogue(), start=START, seed=1)
    at = START + timedelta(hours=15)
    event = sim.inject(kind, "c2", at, product_id="p1" if kind == "review_1_star" else None)
    clean = validate_event(event)
    assert clean["customer_id"] == "c2" and clean["occurred_at"] <= at
    if kind == "review_1_star":
        assert clean["rating"] == 1 and clean["product_id"] == "p1"
    if kind == "late_night_mobile_purchase":
        assert clean["device"] == "mobile" and clean["occurred_at"].hour == 23
    with pytest.raises(ValueError, match="valid values"):
        sim.inject("dance", "c2", at)


def test_a_seeded_store_keeps_its_planted_propensities(seeded_db_url, small_market):
    engine = open_store(seeded_db_url)
    try:
        with session_scope(engine) as session:
            shoppers, catalogue = market_of_store(session)
    finally:
        engine.dispose()
    assert shoppers.source == "planted"
    truth = small_market.truth.set_index("customer_id")
    night = truth.loc[list(shoppers.customer_ids), "night_shopping"].to_numpy()
    assert np.allclose(shoppers.night, night, atol=1e-4)
    lapsed = truth.loc[list(shoppers.customer_ids), "traits"].str.contains("lapsed").to_numpy()
    assert shoppers.orders_per_day[lapsed].mean() < 0.1 * shoppers.orders_per_day[~lapsed].mean()
    assert set(catalogue.product_ids) <= set(small_market.products["product_id"])


def test_an_imported_store_gets_observed_shoppers(sqlite_store, small_market):
    from seed.writer import write_market

    # the same rows with renamed customers: no longer the seed's own market
    market = small_market
    renamed = market.customers.assign(name=market.customers["name"] + " Jr")
    write_market(sqlite_store, type(market)(**{**market.__dict__, "customers": renamed}))
    with session_scope(sqlite_store) as session:
        shoppers, _ = market_of_store(session)
    assert shoppers.source == "observed"
    truth = market.truth.set_index("customer_id").loc[list(shoppers.customer_ids)]
    # measured shares follow the planted ones (a shrunk estimate, not the truth itself)
    assert np.corrcoef(shoppers.night, truth["night_shopping"])[0, 1] > 0.6
    assert np.corrcoef(shoppers.mobile, truth["mobile_usage"])[0, 1] > 0.6

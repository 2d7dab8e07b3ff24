"""The generated market: shape, determinism and the realism of its rows."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from engine.errors import UserError
from engine.models import CHANNELS, DEVICES, EVENT_TYPES, WEATHERS, Base
from engine.profiles.scoring import SCORES
from seed import MarketConfig, generate_market
from seed.world import CITIES

TINY = {"customers": 200, "products": 120, "days": 60}


@pytest.fixture(scope="module")
def tiny():
    return generate_market(MarketConfig(**TINY, seed=11))


def test_frames_have_exactly_the_orm_columns(tiny):
    """Every column the database does not fill itself (the events' id, generated flags;
    a line's own time, NULL when it is the order's, as every seeded line's is)."""
    own = {("events", "id"), ("order_lines", "ordered_at")}
    for name, frame in tiny.tables().items():
        expected = [
            c.name
            for c in Base.metadata.tables[name].columns
            if c.computed is None and (name, c.name) not in own
        ]
        assert list(frame.columns) == expected, name
    assert list(tiny.truth.columns) == ["customer_id", "traits", *SCORES]


def test_same_seed_same_frames_other_seed_other_frames(tiny):
    again = generate_market(MarketConfig(**TINY, seed=11))
    for name, frame in tiny.tables().items():
        pd.testing.assert_frame_equal(frame, getattr(again, name), obj=name)
    pd.testing.assert_frame_equal(tiny.truth, again.truth)
    other = generate_market(MarketConfig(**TINY, seed=12))
    assert not other.orders[["customer_id", "ordered_at"]].equals(
        tiny.orders[["customer_id", "ordered_at"]]
    )
    assert not other.truth["traits"].equals(tiny.truth["traits"])


def test_ids_and_references(tiny):
    assert tiny.customers["customer_id"].iloc[0] == "C00001"
    assert tiny.products["product_id"].iloc[0] == "P0001"
    assert tiny.orders["order_id"].iloc[0] == "O000001"
    assert tiny.events["event_id"].iloc[0] == "e0000001"
    assert tiny.events["event_id"].is_unique and tiny.orders["order_id"].is_unique
    assert set(tiny.order_lines["order_id"]) <= set(tiny.orders["order_id"])
    products = set(tiny.products["product_id"])
    assert set(tiny.order_lines["product_id"]) <= products
    assert set(tiny.events["product_id"].dropna()) <= products
    customers = set(tiny.customers["customer_id"])
    assert set(tiny.orders["customer_id"]) <= customers
    assert set(tiny.events["customer_id"].dropna()) <= customers
    assert not tiny.order_lines.duplicated(["order_id", "line_no"]).any()
    assert not tiny.reviews.duplicated(["customer_id", "product_id"]).any()


def test_all_activity_lies_inside_the_market(tiny):
    start, end = datetime(2026, 9, 2), datetime(2026, 11, 1)
    for frame, column in (
        (tiny.orders, "ordered_at"),
        (tiny.events, "occurred_at"),
        (tiny.reviews, "reviewed_at"),
    ):
        assert frame[column].min() >= start
        assert frame[column].max() < end
    assert tiny.daily_weather["day"].min() == start
    signup = tiny.customers.set_index("customer_id")["signup_at"]
    events = tiny.events.dropna(subset=["customer_id"])
    assert (events["occurred_at"] >= signup[events["customer_id"]].to_numpy()).all()
    assert tiny.daily_weather["day"].nunique() == 60


def test_closed_vocabularies_and_consistent_devices(tiny):
    events = tiny.events
    assert set(events["event_type"]) == set(EVENT_TYPES)
    assert set(events["channel"]) <= set(CHANNELS)
    assert set(events["device"].dropna()) <= set(DEVICES)
    assert set(events["weather"]) <= set(WEATHERS)
    assert set(tiny.daily_weather["condition"]) <= set(WEATHERS)
    both = pd.concat([events[["channel", "device"]], tiny.orders[["channel", "device"]]])
    apps = both["channel"].isin(["mobile_web", "ios", "android"])
    assert (both.loc[apps, "device"] == "mobile").all()
    assert both.loc[both["channel"] == "store", "device"].isna().all()
    assert (both.loc[both["channel"] == "web", "device"].isin(["desktop", "tablet"])).all()
    assert (tiny.orders["channel"] == "store").any()
    cities = {c.name for c in CITIES}
    assert set(tiny.orders["location"]) <= cities and set(events["location"]) <= cities


def test_purchase_events_mirror_order_lines(tiny):
    purchases = tiny.events[tiny.events["event_type"] == "purchase"]
    lines = tiny.order_lines.merge(tiny.orders, on="order_id")
    assert len(purchases) == len(lines)
    left = purchases[["customer_id", "product_id", "occurred_at", "channel"]]
    right = lines.rename(columns={"ordered_at": "occurred_at"})[
        ["customer_id", "product_id", "occurred_at", "channel"]
    ]
    key = ["customer_id", "product_id", "occurred_at", "channel"]
    pd.testing.assert_frame_equal(
        left.sort_values(key).reset_index(drop=True),
        right.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )


def test_review_events_mirror_reviews(tiny):
    review_events = tiny.events[tiny.events["event_type"] == "review"]
    assert len(review_events) == len(tiny.reviews)
    assert review_events["rating"].between(1, 5).all()
    assert tiny.events.loc[tiny.events["event_type"] != "review", "rating"].isna().all()


def test_events_carry_the_weather_of_their_city_and_day(tiny):
    events = tiny.events.assign(day=tiny.events["occurred_at"].dt.normalize())
    joined = events.merge(tiny.daily_weather, left_on=["location", "day"], right_on=["city", "day"])
    assert len(joined) == len(events)
    assert (joined["weather"] == joined["condition"]).all()
    orders = tiny.orders.assign(day=tiny.orders["ordered_at"].dt.normalize())
    joined = orders.merge(tiny.daily_weather, left_on=["location", "day"], right_on=["city", "day"])
    assert (joined["weather"] == joined["condition"]).all()


def test_location_is_the_customers_city(tiny):
    orders = tiny.orders.merge(tiny.customers[["customer_id", "city"]], on="customer_id")
    assert (orders["location"] == orders["city"]).all()


def test_products_catalogue(small_market):
    products = small_market.products
    assert 10 <= products["category"].nunique() <= 12
    assert (products["list_price"] >= products["price"]).all()
    assert (products["price"] > 0).all()
    assert products["brand"].isna().any() and products["brand"].notna().mean() > 0.9
    assert products["region"].notna().any() and products["region"].notna().mean() < 0.1
    assert (~products["in_stock"]).any() and products["in_stock"].mean() > 0.9
    tagged = products.dropna(subset=["tags"])
    umbrellas = tagged[tagged["name"].str.endswith("Umbrella")]
    assert (umbrellas["tags"].str.contains("rain")).all()
    medians = products.groupby("category")["price"].median()
    assert medians["Electronics"] > 3 * medians["Grocery"]
    multi = products.dropna(subset=["brand"]).groupby("brand")["category"].nunique()
    assert (multi >= 3).sum() >= 5


def test_some_lines_are_discounted_by_promotions(small_market):
    lines = small_market.order_lines
    assert (lines["discount"] >= 0).all()
    assert 0.1 < (lines["discount"] > 0).mean() < 0.5
    # unit_price is what was paid: the undiscounted amount is paid plus the discount.
    undiscounted = lines["quantity"] * lines["unit_price"] + lines["discount"]
    assert (lines["discount"] < undiscounted).all()


def test_climate_differs_by_city_and_season(small_market):
    weather = small_market.daily_weather
    rainy = weather.assign(rain=weather["condition"] == "rainy").groupby("city")["rain"].mean()
    assert rainy["Seattle"] > 3 * rainy["Phoenix"]
    temp = weather.groupby("city")["temperature_c"].mean()
    assert temp["Phoenix"] > temp["Minneapolis"] + 8
    # The 180-day market runs May..October: heat in Phoenix, no snow in Miami.
    conditions = weather.groupby("city")["condition"].agg(set)
    assert "hot" in conditions["Phoenix"]
    assert "snowy" not in conditions["Miami"]
    winter = generate_market(MarketConfig(customers=20, products=20, days=365, seed=1))
    snow = winter.daily_weather.query("condition == 'snowy'")["city"].value_counts()
    assert snow.get("Minneapolis", 0) > 10 and snow.get("Miami", 0) == 0


def test_rainy_days_lift_rain_tagged_sales(small_market):
    lines = small_market.order_lines.merge(small_market.orders, on="order_id")
    lines = lines.merge(small_market.products[["product_id", "tags"]], on="product_id")
    lines["rain_item"] = lines["tags"].fillna("").str.split(";").map(lambda t: "rain" in t)
    share = lines.groupby(lines["weather"] == "rainy")["rain_item"].mean()
    assert share[True] > 2 * share[False]


def test_hot_days_and_mornings_lift_their_items(small_market):
    lines = small_market.order_lines.merge(small_market.orders, on="order_id")
    lines = lines.merge(small_market.products[["product_id", "tags"]], on="product_id")
    tags = lines["tags"].fillna("").str.split(";")
    hot = lines["weather"] == "hot"
    hot_item = tags.map(lambda t: "hot" in t)
    assert hot_item[hot].mean() > 1.5 * hot_item[~hot].mean()
    morning = lines["ordered_at"].dt.hour.between(6, 10)
    morning_item = tags.map(lambda t: "morning" in t)
    assert morning_item[morning].mean() > 1.3 * morning_item[~morning].mean()


def test_local_products_sell_in_their_region(small_market):
    lines = small_market.order_lines.merge(small_market.orders[["order_id", "customer_id"]])
    lines = lines.merge(small_market.products[["product_id", "region"]], on="product_id")
    lines = lines.merge(
        small_market.customers[["customer_id", "region"]],
        on="customer_id",
        suffixes=("", "_customer"),
    )
    local = lines.dropna(subset=["region"])
    assert len(local) > 30
    assert (local["region"] == local["region_customer"]).mean() > 0.5


def test_weekly_and_holiday_seasonality():
    market = generate_market(MarketConfig(customers=400, products=100, days=365, seed=3))
    orders = market.orders
    per_day = orders.groupby(orders["ordered_at"].dt.normalize()).size()
    weekend = per_day.index.day_of_week >= 5
    assert per_day[weekend].mean() > 1.1 * per_day[~weekend].mean()
    december = per_day.index.month == 12
    summer = np.isin(per_day.index.month, [6, 7, 8])
    assert per_day[december].mean() > 1.2 * per_day[summer].mean()


def test_ratings_follow_product_quality_and_harsh_customers(small_market):
    reviews = small_market.reviews.merge(small_market.product_quality, on="product_id")
    assert reviews["rating"].between(1, 5).all()
    assert set(reviews["rating"]) == {1, 2, 3, 4, 5}
    assert reviews["rating"].corr(reviews["quality"]) > 0.4
    # Hard-to-please customers are consistent: split each customer's reviews in two halves.
    reviews["residual"] = reviews["rating"] - reviews.groupby("product_id")["rating"].transform(
        "mean"
    )
    reviews["half"] = reviews.groupby("customer_id").cumcount() % 2
    # Two reviews or more per half, or the halves' means are mostly the products' noise.
    many = reviews.groupby("customer_id")["rating"].transform("size") >= 4
    halves = reviews[many].groupby(["customer_id", "half"])["residual"].mean().unstack().dropna()
    assert halves[0].corr(halves[1]) > 0.2


def test_searches_are_words_of_the_catalogue_and_deals(small_market):
    searches = small_market.events[small_market.events["event_type"] == "search"]
    assert searches["query"].notna().all() and searches["product_id"].isna().all()
    words = searches["query"].str.split().str[0]
    assert words.isin(["sale", "deal", "discount", "clearance"]).any()
    categories = set(small_market.products["category"].str.lower())
    assert searches["query"].isin(categories).any()


def test_anonymous_events_and_stitching(small_market):
    events = small_market.events
    anonymous = events["anonymous_id"].notna()
    assert (anonymous & events["customer_id"].isna()).sum() > 50
    both = anonymous & events["customer_id"].notna()
    assert both.sum() > 10
    # An anonymous id is linked to at most one customer.
    assert events.loc[both].groupby("anonymous_id")["customer_id"].nunique().max() == 1


def test_typical_customers_have_enough_activity(small_market):
    truth = small_market.truth.set_index("customer_id")["traits"]
    plain = truth.index[truth == ""]
    orders = small_market.orders.groupby("customer_id").size().reindex(plain, fill_value=0)
    events = small_market.events.groupby("customer_id").size().reindex(plain, fill_value=0)
    years = small_market.config.days / 365
    # A median rate of 8 a year (seed.propensities); Poisson counts and late sign-ups put
    # the median count a little below it.
    assert 5 <= orders.median() / years <= 15
    assert 40 <= events.median() / years <= 100
    lines = small_market.order_lines.groupby("order_id").size()
    assert lines.max() <= 6 and 1.5 <= lines.median() <= 3


@pytest.mark.parametrize(
    ("field", "value"), [("customers", 0), ("products", -1), ("days", 0), ("products", 5)]
)
def test_invalid_config_is_refused(field, value):
    config = MarketConfig(**{**TINY, field: value})
    with pytest.raises(UserError, match=field):
        generate_market(config)


def test_progress_reports_each_step():
    calls: list[tuple[str, int, int]] = []
    generate_market(
        MarketConfig(customers=30, products=30, days=20),
        progress=lambda label, done, total: calls.append((label, done, total)),
    )
    assert [done for _, done, _ in calls] == list(range(1, calls[0][2] + 1))
    assert {"customers", "products", "orders", "events"} <= {label for label, _, _ in calls}

"""Generate the synthetic market: customers, catalogue, weather, orders, events, reviews.

Everything is drawn from one ``numpy.random.default_rng(seed)`` (and a Faker
seeded with ``seed_instance(seed)`` for names), over a fixed calendar that ends
at ``MarketConfig.end``: the same config always gives the same rows, and the
wall clock is never read.

Generation is vectorised: each kind of activity is drawn for all customers at
once (per-customer counts, ``np.repeat`` to one row per item, then per-row
draws), so the default market of 5000 customers takes a few seconds.

How the traits of ``docs/personas.md`` are planted:

* timing (weekend shopper, night owl) is applied when an activity's day and
  hour are drawn; activity derived from another one (a view days before an
  order, a review days after) is shifted by whole days (whole weeks for weekend
  shoppers) so it keeps the same hour and weekday;
* channels (mobile-first) are drawn per activity from the customer's mix;
* products come from *pools* (a category, a brand, a context tag, a region,
  weighted by popularity and tilted toward cheap or premium prices); a line's
  pool encodes the customer's traits and the moment's context, which is also
  how rain, heat, mornings and local products shift demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from faker import Faker
from scipy.special import ndtri
from scipy.stats import poisson

from engine.errors import UserError
from engine.models import CHANNELS, DEVICES, EVENT_TYPES, WEATHERS
from seed.lifecycle import assign_products, draw_lifecycles, in_stock_at_end, lifecycle_frame
from seed.personas import TraitAssignment, assign_traits
from seed.propensities import draw_propensities
from seed.world import (
    ADJECTIVES,
    BRANDS,
    CATEGORIES,
    CITIES,
    CONTEXT_TAGS,
    DEAL_WORDS,
    GEAR_WEIGHT,
    REVIEW_TEXTS,
    WEATHER_GEAR,
)

ProgressFn = Callable[[str, int, int], None]

DAY = 86_400
_STEPS = 6  # progress steps of one generation run
HOUR = 3_600
MINUTE = 60

# Codes into the closed vocabularies of engine.models.
_CH = {name: i for i, name in enumerate(CHANNELS)}
_DEV = {name: i for i, name in enumerate(DEVICES)}
_EV = {name: i for i, name in enumerate(EVENT_TYPES)}
_WX = {name: i for i, name in enumerate(WEATHERS)}
_TAG = {name: i for i, name in enumerate(CONTEXT_TAGS)}

# Share of activity in each hour of the day for most customers (night 22-05 ~ 8%).
_HOURLY = np.array(
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
_NIGHT_HOURS = np.array([22, 23, 0, 1, 2, 3, 4, 5])
_NEUTRAL = 3  # price class of a draw by popularity alone (see _sample_products)
_CANDIDATES = 8  # products drawn per order line (see seed.lifecycle.assign_products)


@dataclass
class MarketConfig:
    """What to generate.

    Attributes:
        customers: number of customers.
        products: number of products.
        days: length of the market in days, ending at ``end``.
        seed: seeds every random draw; the same config gives the same rows.
        end: the market's (exclusive) end; all activity is before it.
    """

    customers: int = 5000
    products: int = 1000
    days: int = 365
    seed: int = 7
    end: datetime = field(default_factory=lambda: datetime(2026, 11, 1))

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def validate(self) -> None:
        """Raise :class:`UserError` naming the first invalid value."""
        for name in ("customers", "products", "days"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise UserError(f"invalid {name} {value!r}: expected a positive integer")
        if self.products < len(CATEGORIES):
            raise UserError(
                f"invalid products {self.products}: need at least {len(CATEGORIES)} "
                "(one per category)"
            )
        for name, most in MAXIMA.items():
            if getattr(self, name) > most:
                raise UserError(f"invalid {name} {getattr(self, name):,}: at most {most:,}")
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise UserError(f"invalid seed {self.seed!r}: expected a non-negative integer")

    def estimated_rows(self) -> int:
        """About how many rows the market holds (orders, lines, events, reviews)."""
        return int(ROWS_PER_CUSTOMER_DAY * self.customers * self.days)

    def estimated_memory_bytes(self) -> int:
        """About how much memory generating and writing it takes at its peak."""
        return int(BASE_MEMORY_BYTES + BYTES_PER_ROW * self.estimated_rows())


MAXIMA = {"customers": 2_000_000, "products": 200_000, "days": 3_650}
"""The largest market ``seed`` makes: ten years of a big shop."""

# Measured on the default market (5,000 customers x 365 days: about 576,000 rows,
# 495 MB peak resident set of `personalize seed`, 147 MB of it the interpreter and
# libraries), rounded up.
ROWS_PER_CUSTOMER_DAY = 0.32
BYTES_PER_ROW = 650
BASE_MEMORY_BYTES = 160 * 2**20


@dataclass
class Market:
    """A generated market: one frame per store table plus the planted truth.

    Every table frame's columns are exactly the ORM columns of that table
    (``events`` without its autoincrement ``id``). ``truth`` has
    ``customer_id, traits`` (sorted, ``;``-separated) and one latent propensity
    per score (:meth:`_Generator.latent_frame`). Hidden, not written to the store:
    ``product_quality`` (``product_id, quality``), behind the ratings, and
    ``product_lifecycle`` (:func:`seed.lifecycle.lifecycle_frame`), behind rebuys,
    launches and stock-outs.
    """

    config: MarketConfig
    customers: pd.DataFrame
    products: pd.DataFrame
    daily_weather: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    events: pd.DataFrame
    reviews: pd.DataFrame
    truth: pd.DataFrame
    product_quality: pd.DataFrame
    product_lifecycle: pd.DataFrame

    TABLES = (
        "customers",
        "products",
        "daily_weather",
        "orders",
        "order_lines",
        "events",
        "reviews",
    )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The store tables in write order (parents before children)."""
        return {name: getattr(self, name) for name in self.TABLES}

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables().items()}


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + 1..n zero-padded to ``width`` digits, built as bytes (no Python loop)."""
    numbers = np.arange(1, n + 1, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers[None, :]) % 10 + ord("0")
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    raw = np.concatenate([np.broadcast_to(head, (n, len(head))), digits.astype(np.uint8)], axis=1)
    text = np.ascontiguousarray(raw).view(f"S{len(head) + width}").ravel()
    return text.astype(f"U{len(head) + width}").astype(object)


# --------------------------------------------------------------------------- calendar


class _Calendar:
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
        day_hours = np.where(np.isin(np.arange(24), _NIGHT_HOURS), 0.0, _HOURLY)
        self.cdf_hour = np.cumsum(day_hours / day_hours.sum())
        # Night owls' hours: few at 22:00 so activity shifted a few minutes back stays at night.
        night = np.zeros(24)
        night[_NIGHT_HOURS] = [0.6, 1.6, 2.0, 1.8, 1.5, 1.1, 0.8, 0.6]
        self.cdf_night = np.cumsum(night / night.sum())


# --------------------------------------------------------------------------- baskets

_MAX_LINES = 6
_MAX_UNITS = 4


def _extra_lines(basket: np.ndarray) -> np.ndarray:
    """Mean lines beyond the first of an order, from the basket-value propensity."""
    return 0.8 * np.exp(0.55 * basket)


def _extra_units(basket: np.ndarray) -> np.ndarray:
    """Mean units beyond the first of a line."""
    return 0.2 * np.exp(0.6 * basket)


def _price_class(basket: np.ndarray) -> np.ndarray:
    """Price tilt of a customer's draws (see ``_sample_products``), 0..6."""
    return (np.clip(np.round(2.0 * basket), -3, 3) + _NEUTRAL).astype(np.int64)


def _capped_mean(mean: np.ndarray, cap: int) -> np.ndarray:
    """``E[min(1 + X, cap)]`` for ``X ~ Poisson(mean)``."""
    return 1.0 + sum(poisson.sf(j, mean) for j in range(cap - 1))


# --------------------------------------------------------------------------- generator


class _Generator:
    """One generation run; attributes hold the per-customer and per-product arrays."""

    def __init__(self, config: MarketConfig, progress: ProgressFn | None) -> None:
        self.config = config
        self.progress = progress
        self.rng = np.random.default_rng(config.seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(config.seed)
        self.cal = _Calendar(config)
        self.steps_done = 0

    def step(self, label: str) -> None:
        self.steps_done += 1
        if self.progress is not None:
            self.progress(label, self.steps_done, _STEPS)

    # ----------------------------------------------------------------- weather

    def weather(self) -> pd.DataFrame:
        rng, cal = self.rng, self.cal
        n_c, n_d = len(CITIES), cal.days
        mean = np.array([c.mean_temp for c in CITIES])[:, None]
        amp = np.array([c.amplitude for c in CITIES])[:, None]
        sign = np.array([-1.0 if c.southern else 1.0 for c in CITIES])[:, None]
        wet = np.array([c.wet for c in CITIES])[:, None]
        season = np.cos(2 * np.pi * (cal.doy[None, :] - 200) / 365.25)
        # Wetter in each hemisphere's winter.
        wet_season = wet * (
            1.0 + 0.35 * np.cos(2 * np.pi * (cal.doy[None, :] - 15) / 365.25) * sign
        )
        # Persistent anomalies: AR(1) over days for temperature and for precipitation.
        temp_noise = np.empty((n_c, n_d))
        rain_latent = np.empty((n_c, n_d))
        shocks_t = rng.normal(0.0, 2.4, (n_c, n_d))
        shocks_r = rng.normal(0.0, 1.0, (n_c, n_d))
        temp_noise[:, 0] = shocks_t[:, 0] * 1.4
        rain_latent[:, 0] = shocks_r[:, 0]
        for d in range(1, n_d):
            temp_noise[:, d] = 0.7 * temp_noise[:, d - 1] + shocks_t[:, d]
            rain_latent[:, d] = 0.5 * rain_latent[:, d - 1] + shocks_r[:, d] * np.sqrt(0.75)
        temp = mean + amp * season * sign + temp_noise
        wet_day = rain_latent > ndtri(1.0 - np.clip(wet_season, 0.01, 0.95))
        sunny_draw = rng.random((n_c, n_d)) < 0.55
        condition = np.where(
            wet_day,
            np.where(temp <= 1.0, _WX["snowy"], _WX["rainy"]),
            np.where(
                temp >= 29.0,
                _WX["hot"],
                np.where(
                    temp <= 2.0, _WX["cold"], np.where(sunny_draw, _WX["sunny"], _WX["cloudy"])
                ),
            ),
        )
        self.weather_code = condition  # [city, day]
        days = (cal.start + np.arange(n_d).astype("timedelta64[D]")).astype("datetime64[ns]")
        frame = pd.DataFrame(
            {
                "city": np.repeat(np.array([c.name for c in CITIES], dtype=object), n_d),
                "day": np.tile(days, n_c),
                "condition": np.array(WEATHERS, dtype=object)[condition.ravel()],
                "temperature_c": np.round(temp.ravel(), 1),
            }
        )
        self.step("daily_weather")
        return frame

    # ----------------------------------------------------------------- products

    def products(self) -> pd.DataFrame:
        rng, n = self.rng, self.config.products
        n_cat, n_brand = len(CATEGORIES), len(BRANDS)
        # Brands: the first 14 span 4-5 categories (the ones loyalists favour),
        # the next 14 span 2-3, the rest are specialists.
        brand_cats: list[np.ndarray] = []
        for b in range(n_brand):
            k = 4 + rng.integers(0, 2) if b < 14 else (2 + rng.integers(0, 2) if b < 28 else 1)
            brand_cats.append(rng.choice(n_cat, size=k, replace=False))
        carries = np.zeros((n_brand, n_cat), dtype=bool)
        for b, cats in enumerate(brand_cats):
            carries[b, cats] = True
        for c in range(n_cat):  # every category needs several brands
            while carries[:, c].sum() < 6:
                carries[rng.integers(14, n_brand), c] = True
        brand_pop = 1.0 / np.arange(1, n_brand + 1) ** 0.3
        brand_pop = brand_pop[rng.permutation(n_brand)]

        share = np.array([c.share for c in CATEGORIES])
        # One product per category first so every category exists, then by share.
        cat = np.concatenate(
            [np.arange(n_cat), rng.choice(n_cat, size=n - n_cat, p=share / share.sum())]
        )
        cat = cat[rng.permutation(n)]
        brand = np.full(n, -1)
        for c in range(n_cat):
            idx = np.flatnonzero(cat == c)
            options = np.flatnonzero(carries[:, c])
            w = brand_pop[options] * np.where(carries[options].sum(axis=1) >= 4, 1.6, 1.0)
            brand[idx] = rng.choice(options, size=len(idx), p=w / w.sum())
        # A few unbranded products (store brand / produce), not in Electronics.
        unbranded = (rng.random(n) < 0.04) & (cat != 0)
        brand[unbranded] = -1
        # A small catalogue may leave a wide brand without products in some of its
        # categories: give each wide brand one product in each category it carries.
        for wide_brand in range(14):
            for carried in np.flatnonzero(carries[wide_brand]).tolist():
                if not ((brand == wide_brand) & (cat == carried)).any():
                    candidates = np.flatnonzero((cat == carried) & (brand >= 14))
                    if len(candidates):
                        brand[candidates[rng.integers(0, len(candidates))]] = wide_brand
        # What brands actually sell (a small catalogue may not fill every brand's range):
        # loyalists favour brands whose products span the most categories.
        sells = np.zeros((n_brand, n_cat), dtype=bool)
        sells[brand[brand >= 0], cat[brand >= 0]] = True
        span = sells.sum(axis=1)
        wide = np.flatnonzero(span >= min(4, span.max()))
        self.multi_brands = wide if len(wide) >= 2 else np.argsort(-span, kind="stable")[:2]
        self.sells = sells

        noun_count = np.array([len(c.items) for c in CATEGORIES])
        noun = (rng.random(n) * noun_count[cat]).astype(int)
        nouns = np.array([item[0] for c in CATEGORIES for item in c.items], dtype=object)
        tags = np.array([item[1] for c in CATEGORIES for item in c.items], dtype=object)
        offsets = np.concatenate([[0], np.cumsum(noun_count)[:-1]])
        flat_noun = offsets[cat] + noun
        adjective = np.array(ADJECTIVES, dtype=object)[rng.integers(0, len(ADJECTIVES), n)]
        brand_names = np.array(list(BRANDS) + ["Store Brand"], dtype=object)
        name = (
            np.where(brand >= 0, brand_names[brand] + " ", "") + adjective + " " + nouns[flat_noun]
        )

        median = np.array([c.median_price for c in CATEGORIES])
        price = np.exp(np.log(median[cat]) + rng.normal(0, 0.55, n))
        price = np.round(np.maximum(np.floor(price) + 0.99, 1.99), 2)
        markdown = rng.random(n) < 0.07
        list_price = np.where(
            markdown, np.round(price * rng.uniform(1.15, 1.4, n), 0) + 0.99, price
        )
        list_price = np.maximum(list_price, price)

        # Local products: mostly groceries and home goods made in one region.
        regions = sorted({c.region for c in CITIES})
        # 12% of those categories' products, in regions weighted by their customers.
        local_cat = np.flatnonzero(np.isin(cat, [5, 2, 11]))
        local = np.zeros(n, dtype=bool)
        local[rng.choice(local_cat, size=round(0.12 * len(local_cat)), replace=False)] = True
        region_w = np.array([sum(c.weight for c in CITIES if c.region == r) for r in regions])
        region = np.full(n, -1)
        region[local] = rng.choice(len(regions), size=local.sum(), p=region_w / region_w.sum())
        self.lifecycle = draw_lifecycles(rng, nouns[flat_noun], self.config.days)
        in_stock = in_stock_at_end(self.lifecycle)

        self.p_cat, self.p_brand, self.p_price = cat, brand, price
        self.p_list = list_price
        self.p_noun = nouns[flat_noun]
        self.p_region = region
        self.regions = regions
        tag_bits = np.zeros((n, len(CONTEXT_TAGS)), dtype=bool)
        tag_text = tags[flat_noun]
        for t, tag in enumerate(CONTEXT_TAGS):
            tag_bits[:, t] = pd.Series(tag_text).str.split(";").apply(lambda s, tag=tag: tag in s)
        self.p_tags = tag_bits
        # Weather gear takes most of its weather's extra demand (see seed.world.WEATHER_GEAR).
        self.p_gear = np.ones((n, len(CONTEXT_TAGS)))
        for tag, gear in WEATHER_GEAR.items():
            self.p_gear[np.isin(self.p_noun, gear) & tag_bits[:, _TAG[tag]], _TAG[tag]] = (
                GEAR_WEIGHT)
        # Local products sell mostly at home (see the region pools), little elsewhere.
        self.p_pop = (
            rng.lognormal(0.0, 0.7, n) * np.where(local, 0.15, 1.0)
        )
        self.p_quality = rng.normal(0.0, 1.0, n)
        self.carries = carries
        width = max(4, len(str(n)))
        self.product_ids = _ids("P", n, width)

        # Promotions: each product is on promotion in some weeks (about 12% of product-weeks).
        n_weeks = self.config.days // 7 + 2
        self.promo = rng.random((n, n_weeks)) < 0.12
        self.promo_rate = np.round(rng.uniform(0.1, 0.35, (n, n_weeks)) * 20) / 20

        frame = pd.DataFrame(
            {
                "product_id": self.product_ids,
                "name": name,
                "category": np.array([c.name for c in CATEGORIES], dtype=object)[cat],
                "brand": np.where(brand >= 0, brand_names[brand], None),
                "price": price,
                "list_price": list_price,
                "tags": np.where(tag_text == "", None, tag_text),
                "region": np.where(region >= 0, np.array(regions, dtype=object)[region], None),
                "in_stock": in_stock,
            }
        )
        frame["brand"] = frame["brand"].astype(object)
        self.step("products")
        return frame

    # ----------------------------------------------------------------- customers

    def customers(self) -> tuple[pd.DataFrame, TraitAssignment]:
        rng, n, cal = self.rng, self.config.customers, self.cal
        share = np.array([c.share for c in CATEGORIES])
        traits = assign_traits(rng, n, share)
        f = traits.flags
        self.traits = traits

        city_w = np.array([c.weight for c in CITIES])
        city = rng.choice(len(CITIES), size=n, p=city_w / city_w.sum())
        # Most signed up before the market began; some join in its first weeks.
        early = rng.random(n) < 0.82
        signup_day = np.where(
            early, rng.uniform(-3 * 365, 0, n), rng.uniform(0, max(cal.days * 0.15, 1), n)
        )
        a = np.clip(np.ceil(signup_day), 0, cal.days).astype(int)
        b = np.full(n, cal.days)
        lapsed = f["lapsed"]
        hi = cal.days - 120
        lo = np.minimum(a + 30, hi)
        lapse_day = np.where(hi > lo, lo + (rng.random(n) * np.maximum(hi - lo, 1)).astype(int), hi)
        b = np.where(lapsed, np.maximum(np.minimum(lapse_day, cal.days), a), b)
        self.c_a, self.c_b = a, b
        self.c_span = (b - a) / 365.0
        self.c_city = city
        region_index = {r: i for i, r in enumerate(self.regions)}
        self.c_region = np.array([region_index[c.region] for c in CITIES])[city]

        props = draw_propensities(rng, traits)
        self.props = props
        shares = props.shares
        self.order_rate = props.orders_per_year
        self.research = props.research
        self.weekend_p = shares["weekend_shopping"]
        self.night_p = shares["night_shopping"]
        self.mobile_share = shares["mobile_usage"]
        # Shop visits are the rest of a customer's orders less their mobile ones.
        self.store_share = 0.12 * (1.0 - self.mobile_share)
        self.coupon_p = shares["price_sensitivity"]
        self.loyalty = shares["brand_loyalty"]
        self.impulse_p = shares["impulse_buying"]
        self.focus = props.category_focus
        # How fast a customer uses consumables up (multiplies every cycle).
        self.speed = rng.lognormal(0.0, 0.3, n)
        self.review_rate = np.clip(0.13 * rng.lognormal(0.0, 0.4, n), 0.0, 0.6)
        harsh = rng.random(n) < 0.1
        self.harshness = np.where(harsh, -1.5, rng.normal(0.0, 0.25, n))

        # Everyone has a favourite category (enthusiasts the one they are named after)
        # and two favourite brands; the propensities say how much they matter.
        ent_cat = traits.enthusiast_category
        drawn_cat = rng.choice(len(share), size=n, p=share / share.sum())
        self.fav_cat = np.where(ent_cat >= 0, ent_cat, drawn_cat)
        # A customer focused on one category favours brands of it; the others favour
        # brands spanning several categories.
        focused = self.focus > 0.5
        pool_of = np.where(focused, self.fav_cat, -1)
        fav = np.full((n, 2), -1)
        for c in range(-1, len(CATEGORIES)):
            who = np.flatnonzero(pool_of == c)
            if len(who) == 0:
                continue
            pool = self.multi_brands if c < 0 else np.flatnonzero(self.sells[:, c])
            pool = pool if len(pool) >= 2 else self.multi_brands
            first = rng.integers(0, len(pool), len(who))
            second = (first + 1 + rng.integers(0, len(pool) - 1, len(who))) % len(pool)
            fav[who, 0], fav[who, 1] = pool[first], pool[second]
        self.fav = fav

        width = max(5, len(str(n)))
        self.customer_ids = _ids("C", n, width)
        # Faker is slow per call: draw a pool of first and last names from the seeded
        # Faker once, then combine them with the generator.
        name_pool = min(n, 400)
        firsts = np.array([self.fake.first_name() for _ in range(name_pool)], dtype=object)
        lasts = np.array([self.fake.last_name() for _ in range(name_pool)], dtype=object)
        names = firsts[rng.integers(0, name_pool, n)] + " " + lasts[rng.integers(0, name_pool, n)]
        first_last = pd.Series(names).str.lower().str.replace(r"[^a-z ]", "", regex=True)
        local_part = first_last.str.strip().str.replace(" ", ".", regex=False)
        email = local_part + (np.arange(n) + 1).astype(str) + "@example.com"
        signup_secs = np.round(signup_day * DAY).astype(np.int64)
        frame = pd.DataFrame(
            {
                "customer_id": self.customer_ids,
                "name": np.array(names, dtype=object),
                "email": email.to_numpy(dtype=object),
                "city": np.array([c.name for c in CITIES], dtype=object)[city],
                "region": np.array([c.region for c in CITIES], dtype=object)[city],
                "country": np.array([c.country for c in CITIES], dtype=object)[city],
                "signup_at": self._stamps(signup_secs),
            }
        )
        self.step("customers")
        return frame, traits

    # ----------------------------------------------------------------- helpers

    def _stamps(self, secs: np.ndarray) -> np.ndarray:
        return (self.cal.start + secs.astype("timedelta64[s]")).astype("datetime64[ns]")

    def _counts(self, rate_per_year: np.ndarray) -> np.ndarray:
        """Items per customer: Poisson around the rate times the customer's active span."""
        return self.rng.poisson(rate_per_year * self.c_span).astype(np.int64)

    def _times(self, cust: np.ndarray) -> np.ndarray:
        """Seconds since the market start for one activity of each customer in ``cust``.

        The day follows the calendar's seasonality within the customer's active days;
        whether it is a weekend day, and whether the hour is at night, are drawn from
        the customer's weekend and night propensities.
        """
        rng, cal = self.rng, self.cal
        m = len(cust)
        a, b = self.c_a[cust], self.c_b[cust]
        weekend = rng.random(m) < self.weekend_p[cust]
        cdfs = (cal.cdf_weekday, cal.cdf_weekend, cal.cdf_all)
        kind = weekend.astype(int)
        # A span with no day of the wanted kind (a few days long) uses any day.
        lo = np.where(weekend, cal.cdf_weekend[a], cal.cdf_weekday[a])
        hi = np.where(weekend, cal.cdf_weekend[b], cal.cdf_weekday[b])
        kind = np.where(hi > lo, kind, 2)
        day = np.empty(m, dtype=np.int64)
        for k, cdf in enumerate(cdfs):
            rows = kind == k
            u = cdf[a[rows]] + rng.random(rows.sum()) * (cdf[b[rows]] - cdf[a[rows]])
            day[rows] = np.searchsorted(cdf, u, side="right") - 1
        day = np.clip(day, a, np.maximum(b - 1, a))
        return day * DAY + self._hours(cust)

    def _hours(self, cust: np.ndarray) -> np.ndarray:
        """Seconds into the day: at night with the customer's night propensity."""
        rng, cal = self.rng, self.cal
        m = len(cust)
        night = rng.random(m) < self.night_p[cust]
        hour = np.where(
            night,
            np.searchsorted(cal.cdf_night, rng.random(m) * cal.cdf_night[-1]),
            np.searchsorted(cal.cdf_hour, rng.random(m) * cal.cdf_hour[-1]),
        )
        return np.minimum(hour, 23) * HOUR + rng.integers(0, HOUR, m)

    def _shifted(
        self, cust: np.ndarray, secs: np.ndarray, min_days: int, max_days: int, sign: int
    ) -> np.ndarray:
        """A moment ``min_days..max_days`` days before (``sign`` -1) or after (+1) ``secs``.

        A separate visit: its weekday kind and hour are the customer's own draws,
        moved to the nearest day of the wanted kind further away from ``secs``.
        """
        rng, cal = self.rng, self.cal
        m = len(cust)
        day = secs // DAY + sign * rng.integers(min_days, max_days + 1, m)
        dow = (cal.start_dow + day) % 7
        want_weekend = rng.random(m) < self.weekend_p[cust]
        is_weekend = dow >= 5
        saturday = rng.random(m) < 0.5
        if sign < 0:
            to_weekend = np.where(saturday, (dow - 5) % 7, (dow - 6) % 7)
            to_weekday = dow - 4  # back to Friday
        else:
            to_weekend = np.where(saturday, (5 - dow) % 7, (6 - dow) % 7)
            to_weekday = 7 - dow  # on to Monday
        shift = np.where(want_weekend & ~is_weekend, to_weekend,
                         np.where(~want_weekend & is_weekend, to_weekday, 0))
        return (day + sign * shift) * DAY + self._hours(cust)

    def _channels(self, cust: np.ndarray, allow_store: bool) -> tuple[np.ndarray, np.ndarray]:
        """Channel and device codes (device -1 = none) per activity."""
        rng = self.rng
        m = len(cust)
        u = rng.random(m)
        ms = self.mobile_share[cust]
        mobile = u < ms
        store = ~mobile & (u < ms + self.store_share[cust]) if allow_store else np.zeros(m, bool)
        sub = rng.random(m)
        channel = np.where(
            mobile,
            np.where(
                sub < 0.4, _CH["mobile_web"], np.where(sub < 0.75, _CH["ios"], _CH["android"])
            ),
            np.where(store, _CH["store"], np.where(sub < 0.88, _CH["web"], _CH["email"])),
        )
        device = np.where(
            mobile,
            _DEV["mobile"],
            np.where(
                store,
                -1,
                np.where(
                    (channel == _CH["web"]) & (rng.random(m) < 0.2), _DEV["tablet"], _DEV["desktop"]
                ),
            ),
        )
        return channel, device

    def _sample_products(
        self,
        cat: np.ndarray,
        brand: np.ndarray,
        tag: np.ndarray,
        region: np.ndarray,
        price_class: np.ndarray,
    ) -> np.ndarray:
        """One product per row from the pool its codes name (-1 = any).

        ``price_class`` ``c`` weights popularity by ``price ** (c - 3)``: 3 (``NEUTRAL``)
        by popularity alone, lower toward cheap items, higher toward premium ones.
        Empty pools fall back to wider ones.
        """
        rng = self.rng
        # One int64 key per row (each code + 1 fits in its field) makes np.unique fast.
        keys = ((((cat + 1) * 64 + brand + 1) * 16 + tag + 1) * 64 + region + 1) * 8 + price_class
        unique_keys, inverse = np.unique(keys.astype(np.int64), return_inverse=True)
        inverse = inverse.ravel()
        unique = np.stack(
            [
                unique_keys // (8 * 64 * 16 * 64) - 1,
                unique_keys // (8 * 64 * 16) % 64 - 1,
                unique_keys // (8 * 64) % 16 - 1,
                unique_keys // 8 % 64 - 1,
                unique_keys % 8,
            ],
            axis=1,
        )
        pieces_idx: list[np.ndarray] = []
        pieces_cum: list[np.ndarray] = []
        ends = np.empty(len(unique), dtype=np.int64)
        total = 0
        for k, (c, b, t, r, pc) in enumerate(unique.tolist()):
            members = self._pool(c, b, t, r)
            w = self.p_pop[members] * self.p_price[members] ** float(pc - _NEUTRAL)
            if t >= 0:
                w = w * self.p_gear[members, t]
            cum = np.cumsum(w)
            cum = k + cum / cum[-1]
            cum[-1] = k + 1.0
            pieces_idx.append(members)
            pieces_cum.append(cum)
            total += len(members)
            ends[k] = total
        flat_idx = np.concatenate(pieces_idx)
        flat_cum = np.concatenate(pieces_cum)
        pos = np.searchsorted(flat_cum, inverse + rng.random(len(inverse)), side="right")
        pos = np.minimum(pos, ends[inverse] - 1)
        return flat_idx[pos]

    def _pool(self, c: int, b: int, t: int, r: int) -> np.ndarray:
        mask = np.ones(len(self.p_cat), dtype=bool)
        for condition in (
            (self.p_cat == c) if c >= 0 else None,
            (self.p_brand == b) if b >= 0 else None,
            self.p_tags[:, t] if t >= 0 else None,
            (self.p_region == r) if r >= 0 else None,
        ):
            if condition is not None and (mask & condition).any():
                mask &= condition
        return np.flatnonzero(mask)

    def _preference(
        self, cust: np.ndarray, brand_p: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Category and brand codes (-1 = any) that a customer's propensities put on a row.

        A row is from a favourite brand with the customer's loyalty (times ``brand_p``:
        views are less loyal than purchases) and in the favourite category with their
        category focus.
        """
        rng = self.rng
        m = len(cust)
        fav_cat = self.fav_cat[cust]
        loyal = rng.random(m) < self.loyalty[cust] * brand_p
        which = (rng.random(m) < 0.35).astype(int)
        brand = np.where(loyal, self.fav[cust, which], -1)
        focus = rng.random(m) < self.focus[cust]
        sells_fav = self.sells[np.maximum(brand, 0), fav_cat]
        cat = np.where(focus & (~loyal | sells_fav), fav_cat, -1)
        # Other loyal rows spread evenly over the brand's categories, so a brand's one
        # popular product never turns loyalty into a category interest.
        spread = loyal & (cat < 0)
        if spread.any():
            sells = self.sells[brand[spread]].astype(float)
            cum = np.cumsum(sells / sells.sum(axis=1, keepdims=True), axis=1)
            u = rng.random(spread.sum())[:, None]
            cat[spread] = np.minimum((cum < u).sum(axis=1), sells.shape[1] - 1)
        return cat, brand

    # ----------------------------------------------------------------- orders

    def orders(self) -> None:
        rng = self.rng
        n = self.config.customers
        counts = self._counts(self.order_rate)
        cust = np.repeat(np.arange(n), counts)
        secs = self._times(cust)
        order_key = np.lexsort((cust, secs))
        cust, secs = cust[order_key], secs[order_key]
        n_orders = len(cust)
        channel, device = self._channels(cust, allow_store=True)
        day = secs // DAY
        city = self.c_city[cust]
        weather = self.weather_code[city, day]

        # Basket size grows with the basket-value propensity (lines, quantities, prices).
        basket = self.props.basket
        n_lines = np.minimum(1 + rng.poisson(_extra_lines(basket[cust])), _MAX_LINES)
        line_order = np.repeat(np.arange(n_orders), n_lines)
        starts = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
        line_no = np.arange(len(line_order)) - starts[line_order] + 1
        lc = cust[line_order]
        m = len(lc)

        cat, brand = self._preference(lc)
        price_class = _price_class(basket)[lc]
        # Context: rain, snow, heat, cold and sun shift general lines toward tagged items;
        # so do the hour of day and the customer's own region.
        general = (cat < 0) & (brand < 0)
        line_wx = weather[line_order]
        hour = (secs[line_order] % DAY) // HOUR
        wx_tag = np.select(
            [
                line_wx == _WX["rainy"],
                line_wx == _WX["snowy"],
                line_wx == _WX["hot"],
                line_wx == _WX["cold"],
                line_wx == _WX["sunny"],
            ],
            [_TAG["rain"], _TAG["snow"], _TAG["hot"], _TAG["cold"], _TAG["sunny"]],
            -1,
        )
        wx_p = np.select(
            [line_wx == _WX["rainy"], line_wx == _WX["snowy"], line_wx == _WX["hot"]],
            [0.35, 0.35, 0.3],
            0.12,
        )
        time_tag = np.select(
            [(hour >= 6) & (hour < 11), (hour >= 18) & (hour < 22), (hour >= 22) | (hour < 6)],
            [_TAG["morning"], _TAG["evening"], _TAG["night"]],
            -1,
        )
        u = rng.random(m)
        tag = np.where(general & (wx_tag >= 0) & (u < wx_p), wx_tag, -1)
        tag = np.where(general & (tag < 0) & (time_tag >= 0) & (rng.random(m) < 0.2), time_tag, tag)
        cust_region = self.c_region[lc]
        has_local = np.isin(cust_region, self.p_region[self.p_region >= 0])
        region = np.where(general & (tag < 0) & has_local & (rng.random(m) < 0.2), cust_region, -1)
        # Cheap or premium tilts act within a category drawn by its share; across the
        # whole catalogue they would pile every line into Grocery or Electronics.
        tilted = general & (tag < 0) & (region < 0) & (price_class != _NEUTRAL)
        share = np.array([c.share for c in CATEGORIES])
        cat = np.where(tilted, rng.choice(len(share), size=m, p=share / share.sum()), cat)
        # Several candidates per line; the lifecycles decide which one is bought (an owned
        # durable is not bought again, a due staple takes a line of its own).
        # Later candidates come from wider pools (no brand, then the category alone, then
        # anything): a narrow pool may hold nothing the customer does not own yet.
        # A loyal line whose brand has nothing left for the customer in this category
        # first tries the brand's other categories: loyalty outlasts one category.
        none = np.full(m, -1)
        loyal = brand >= 0
        brand_wide = (np.where(loyal, -1, cat), brand, np.where(loyal, -1, tag),
                      np.where(loyal, -1, region))
        pools = [(cat, brand, tag, region)] * (_CANDIDATES - 5) + [brand_wide] * 2 + [
            (cat, none, tag, region), (cat, none, none, none), (none, none, none, none)]
        candidates = np.stack(
            [self._sample_products(c, b, t, r, price_class) for c, b, t, r in pools], axis=1)
        candidates = self._stocked_locally(candidates, cust_region)
        product, rebuy = assign_products(
            rng, self.lifecycle, cust, secs, line_order, candidates, self.speed,
            np.argsort(-self.p_pop, kind="stable"),
        )

        quantity = np.minimum(1 + rng.poisson(_extra_units(basket[lc])), _MAX_UNITS).astype(float)
        unit_price = self.p_price[product]
        week = secs[line_order] // (7 * DAY)
        on_promo = self.promo[product, week]
        rate = np.where(on_promo, self.promo_rate[product, week], 0.0)
        marked_down = self.p_list[product] > unit_price
        # Price-sensitive customers use coupons on lines that carry no promotion.
        coupon = (rate == 0) & ~marked_down & (rng.random(m) < self.coupon_p[lc])
        rate = np.where(coupon, np.round(rng.uniform(0.1, 0.3, m) * 20) / 20, rate)
        # As in real exports, unit_price is what was paid per unit and discount what was
        # saved on the whole line.
        paid = np.round(unit_price * (1.0 - rate), 2)
        discount = np.round(quantity * (unit_price - paid), 2)
        unit_price = paid
        self.l_rebuy = rebuy

        self.o_cust, self.o_secs, self.o_channel, self.o_device = cust, secs, channel, device
        self.o_weather = weather
        self.l_order, self.l_cust, self.l_product = line_order, lc, product
        self.l_line_no, self.l_qty, self.l_price, self.l_discount = (
            line_no,
            quantity,
            unit_price,
            discount,
        )
        self.step("orders")

    def _stocked_locally(self, candidates: np.ndarray, cust_region: np.ndarray) -> np.ndarray:
        """Candidates with most local products of other regions replaced by the next
        candidate: a regional product is seldom on the shelf outside its region."""
        out = candidates.copy()
        region = self.p_region[out]
        away = (region >= 0) & (region != cust_region[:, None])
        away &= self.rng.random(away.shape) < 0.9
        for j in range(out.shape[1] - 2, -1, -1):
            out[:, j] = np.where(away[:, j], out[:, j + 1], out[:, j])
        return out

    def expected_orders(self, window_days: int | None = None) -> np.ndarray:
        """Each customer's expected orders over the market (or its last ``window_days``)."""
        cal = self.cal
        lo = self.c_a if window_days is None else np.maximum(self.c_a, cal.days - window_days)
        hi = np.maximum(self.c_b, lo)
        # _times spreads a customer's orders by the calendar's day weights; the count
        # is Poisson around rate * span.
        share = np.where(
            self.c_b > self.c_a,
            (cal.cdf_all[hi] - cal.cdf_all[lo])
            / np.maximum(cal.cdf_all[self.c_b] - cal.cdf_all[self.c_a], 1e-12),
            0.0,
        )
        return self.order_rate * self.c_span * share

    def expected_spend(self) -> np.ndarray:
        """Each customer's expected net spend over the market: orders x lines x units x
        price (the catalogue's mean under their price tilt) x what is left after discounts."""
        basket = self.props.basket
        lines = _capped_mean(_extra_lines(basket), _MAX_LINES)
        units = _capped_mean(_extra_units(basket), _MAX_UNITS)
        share = np.array([c.share for c in CATEGORIES])
        share = share / share.sum()
        # Mean price per (category, price class); a customer's lines are in their
        # favourite category with their focus, elsewhere by the categories' shares.
        by_class = np.zeros((len(share), 7))
        for klass in range(7):
            w = self.p_pop * self.p_price ** float(klass - _NEUTRAL)
            total = np.bincount(self.p_cat, weights=w * self.p_price, minlength=len(share))
            norm = np.bincount(self.p_cat, weights=w, minlength=len(share))
            by_class[:, klass] = total / np.maximum(norm, 1e-12)
        pc = _price_class(basket)
        price = (self.focus * by_class[self.fav_cat, pc]
                 + (1.0 - self.focus) * (share @ by_class)[pc])
        # About a fifth off on the discounted lines: store promotions plus coupons.
        kept = 1.0 - 0.2 * (0.15 + 0.85 * self.coupon_p)
        return self.expected_orders() * lines * units * price * kept

    def latent_frame(self) -> pd.DataFrame:
        """``customer_id`` and one latent column per score (see :mod:`seed.propensities`)."""
        shares = self.props.shares
        frame = pd.DataFrame({"customer_id": self.customer_ids})
        frame["lifetime_value"] = self.expected_spend()
        frame["purchase_frequency"] = self.expected_orders(365)
        for name in ("price_sensitivity", "brand_loyalty", "impulse_buying"):
            frame[name] = shares[name]
        frame["research_intensity"] = self.research
        for name in ("weekend_shopping", "night_shopping", "mobile_usage"):
            frame[name] = shares[name]
        for name in frame.columns[1:]:
            frame[name] = frame[name].astype(float).round(4)
        return frame

    # ----------------------------------------------------------------- events

    def events(self) -> None:
        rng = self.rng
        n = self.config.customers
        parts: list[dict[str, np.ndarray]] = []

        def part(cust, etype, product, secs, channel, device, query=None, rating=None, anon=None):
            m = len(cust)
            parts.append(
                {
                    "cust": np.asarray(cust, dtype=np.int64),
                    "etype": np.full(m, etype) if np.isscalar(etype) else etype,
                    "product": np.asarray(product, dtype=np.int64),
                    "secs": np.asarray(secs, dtype=np.int64),
                    "channel": channel,
                    "device": device,
                    "query": query if query is not None else np.full(m, None, dtype=object),
                    "rating": rating if rating is not None else np.full(m, -1),
                    "anon": anon if anon is not None else np.full(m, None, dtype=object),
                }
            )

        lo, lc, lp = self.l_order, self.l_cust, self.l_product
        t_line = self.o_secs[lo]
        ch_line, dev_line = self.o_channel[lo], self.o_device[lo]
        m = len(lc)
        # 1. One purchase event per order line, stamped with its order.
        part(lc, _EV["purchase"], lp, t_line, ch_line, dev_line)

        online = ch_line != _CH["store"]
        q = self.impulse_p[lc]
        first_buy = ~self.l_rebuy
        # 2. Cart adds a few minutes before an online purchase.
        cart = online & (rng.random(m) < 0.15 + 0.5 * q)
        part(
            lc[cart],
            _EV["cart_add"],
            lp[cart],
            t_line[cart] - rng.integers(60, 600, cart.sum()),
            ch_line[cart],
            dev_line[cart],
        )

        # 3. The first view of a product bought for the first time: minutes before the
        #    order with the customer's impulse propensity, else hours to days before
        #    (a replenished staple was viewed before its first purchase).
        viewed = online & first_buy & (rng.random(m) < 0.75 + 0.2 * q)
        quick = viewed & (rng.random(m) < q)
        slow = viewed & ~quick
        quick_secs = t_line[quick] - rng.integers(12 * MINUTE, 28 * MINUTE, quick.sum())
        part(lc[quick], _EV["product_view"], lp[quick], quick_secs, ch_line[quick], dev_line[quick])
        slow_cust = lc[slow]
        slow_secs = np.minimum(self._shifted(slow_cust, t_line[slow], 1, 4, -1),
                               t_line[slow] - 2 * HOUR)
        ch, dev = self._channels(slow_cust, allow_store=False)
        part(slow_cust, _EV["product_view"], lp[slow], slow_secs, ch, dev)

        # 4. Research before an order: repeated views, alternatives and searches spread
        #    over the days before it, as many as the customer's research propensity says.
        first_line = np.searchsorted(lo, np.arange(len(self.o_cust)))
        r_product = lp[first_line]
        r_cust = self.o_cust
        r_time = self.o_secs
        for kind, share in (("again", 0.1), ("alternative", 0.15), ("search", 0.15)):
            k = rng.poisson(share * self.research[r_cust])
            idx = np.repeat(np.arange(len(r_cust)), k)
            cust_k = r_cust[idx]
            secs_k = self._shifted(cust_k, r_time[idx], 1, 12, -1)
            ch, dev = self._channels(cust_k, allow_store=False)
            if kind == "again":
                part(cust_k, _EV["product_view"], r_product[idx], secs_k, ch, dev)
            elif kind == "alternative":
                # Some alternatives share the bought product's category; most are
                # wider comparisons, so research alone never makes an enthusiast.
                same = rng.random(len(idx)) < 0.3
                pref_cat, _ = self._preference(cust_k, brand_p=0.0)
                alt = self._sample_products(
                    np.where(same, self.p_cat[r_product[idx]], pref_cat),
                    np.full(len(idx), -1),
                    np.full(len(idx), -1),
                    np.full(len(idx), -1),
                    np.full(len(idx), _NEUTRAL),
                )
                part(cust_k, _EV["product_view"], alt, secs_k, ch, dev)
            else:
                query = self._product_queries(r_product[idx])
                part(cust_k, _EV["search"], np.full(len(idx), -1), secs_k, ch, dev, query=query)

        # 5. Browsing: views of products never bought, some carted or wishlisted; the
        #    rest of the research propensity (per order, plus one visit's worth).
        orders_of = np.bincount(self.o_cust, minlength=n)
        counts = rng.poisson(0.35 * self.research * (orders_of + 1))
        b_cust = np.repeat(np.arange(n), counts)
        b_secs = self._times(b_cust)
        cat, brand = self._preference(b_cust, brand_p=0.6)
        nb = len(b_cust)
        b_product = self._sample_products(
            cat, brand, np.full(nb, -1), np.full(nb, -1), np.full(nb, _NEUTRAL)
        )
        # An impulsive customer discovers what they buy when they buy it: they seldom
        # browsed it before. Nobody views a product before its launch.
        bought = np.unique(lc * self.config.products + lp)
        seen_before = np.isin(b_cust * self.config.products + b_product, bought)
        drop = seen_before & (rng.random(nb) < self.impulse_p[b_cust])
        drop |= self.lifecycle.launch[b_product] > b_secs // DAY
        b_cust, b_secs, b_product = b_cust[~drop], b_secs[~drop], b_product[~drop]
        nb = len(b_cust)
        ch, dev = self._channels(b_cust, allow_store=False)
        anon = self._anonymise(b_cust, rng.random(nb) < 0.05)
        part(b_cust, _EV["product_view"], b_product, b_secs, ch, dev, anon=anon)
        for etype, p, lag in ((_EV["cart_add"], 0.06, 900), (_EV["wishlist_add"], 0.04, 600)):
            pick = (rng.random(nb) < p) & np.array([a is None for a in anon])
            part(
                b_cust[pick],
                etype,
                b_product[pick],
                b_secs[pick] + rng.integers(30, lag, pick.sum()),
                ch[pick],
                dev[pick],
            )

        # 6. Searches: what people look for; price-sensitive customers look for deals.
        counts = rng.poisson(0.15 * self.research * (orders_of + 1))
        s_cust = np.repeat(np.arange(n), counts)
        s_secs = self._times(s_cust)
        ns = len(s_cust)
        cat, brand = self._preference(s_cust, brand_p=0.6)
        s_product = self._sample_products(
            cat, brand, np.full(ns, -1), np.full(ns, -1), np.full(ns, _NEUTRAL)
        )
        query = self._product_queries(s_product)
        deal = rng.random(ns) < 0.02 + 0.6 * self.coupon_p[s_cust]
        words = np.array(DEAL_WORDS, dtype=object)[rng.integers(0, len(DEAL_WORDS), ns)]
        with_noun = rng.random(ns) < 0.5
        deal_query = np.where(
            with_noun,
            words + " " + pd.Series(self.p_noun[s_product]).str.lower().to_numpy(dtype=object),
            words,
        )
        query = np.where(deal, deal_query, query)
        ch, dev = self._channels(s_cust, allow_store=False)
        anon = self._anonymise(s_cust, rng.random(ns) < 0.05)
        part(s_cust, _EV["search"], np.full(ns, -1), s_secs, ch, dev, query=query, anon=anon)

        # 7. Reviews (rows and events).
        self._reviews(part)

        # 8. Visitors who never signed in.
        visitors = max(n // 25, 1)
        k = rng.poisson(4.0, visitors)
        v = np.repeat(np.arange(visitors), k)
        nv = len(v)
        v_secs = rng.integers(0, self.cal.days * DAY, nv)
        v_product = self._sample_products(*(np.full(nv, -1),) * 4, np.full(nv, _NEUTRAL))
        ch = np.array([_CH["web"], _CH["mobile_web"]])[rng.integers(0, 2, nv)]
        dev = np.where(ch == _CH["web"], _DEV["desktop"], _DEV["mobile"])
        v_anon = (
            pd.Series(v).map(lambda i: f"anon-v{i:06d}").to_numpy(dtype=object)
            if nv
            else np.empty(0, object)
        )
        self.visitor_city = rng.integers(0, len(CITIES), visitors)
        launched = self.lifecycle.launch[v_product] <= v_secs // DAY
        v_product, v_secs, ch, dev, v_anon = (
            x[launched] for x in (v_product, v_secs, ch, dev, v_anon)
        )
        nv = len(v_product)
        part(np.full(nv, -1), _EV["product_view"], v_product, v_secs, ch, dev, anon=v_anon)

        ev = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        # Nothing before the market began or after it ended, nor before a customer signed up.
        signed_up = np.where(ev["cust"] >= 0, self.c_a[np.maximum(ev["cust"], 0)] * DAY, 0)
        keep = (ev["secs"] >= signed_up) & (ev["secs"] < self.cal.days * DAY)
        # Nor a view (days before an order) of a product not launched yet.
        launch = self.lifecycle.launch[np.maximum(ev["product"], 0)]
        keep &= (ev["product"] < 0) | (launch <= ev["secs"] // DAY)
        ev = {key: value[keep] for key, value in ev.items()}
        self.ev = ev
        self.step("events")

    def _product_queries(self, product: np.ndarray) -> np.ndarray:
        rng = self.rng
        m = len(product)
        noun = pd.Series(self.p_noun[product]).str.lower().to_numpy(dtype=object)
        cat_name = np.array([c.name.lower() for c in CATEGORIES], dtype=object)[self.p_cat[product]]
        brand_names = np.array([b.lower() for b in BRANDS] + [""], dtype=object)
        brand = brand_names[self.p_brand[product]]
        kind = rng.random(m)
        return np.where(
            kind < 0.55,
            noun,
            np.where((kind < 0.8) & (self.p_brand[product] >= 0), brand + " " + noun, cat_name),
        )

    def _anonymise(self, cust: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Anonymous ids for the masked activities (browsing before signing in)."""
        anon = np.full(len(cust), None, dtype=object)
        if mask.any():
            slot = self.rng.integers(0, 2, mask.sum())
            ids = pd.Series(cust[mask]).map(lambda c: f"anon-{c:06d}-") + pd.Series(slot).astype(
                str
            )
            anon[mask] = ids.to_numpy(dtype=object)
        return anon

    def _reviews(self, part: Callable[..., None]) -> None:
        rng = self.rng
        lc, lp, lo = self.l_cust, self.l_product, self.l_order
        pick = rng.random(len(lc)) < self.review_rate[lc]
        r_cust, r_product = lc[pick], lp[pick]
        r_secs = self._shifted(r_cust, self.o_secs[lo[pick]], 2, 20, +1)
        # Reviews land only while the customer is still around.
        alive = r_secs < self.c_b[r_cust] * DAY
        r_cust, r_product, r_secs = r_cust[alive], r_product[alive], r_secs[alive]
        # One review per customer and product.
        frame = pd.DataFrame({"c": r_cust, "p": r_product, "t": r_secs})
        frame = frame.sort_values(["t", "c", "p"], kind="mergesort").drop_duplicates(["c", "p"])
        r_cust, r_product, r_secs = (frame[k].to_numpy() for k in ("c", "p", "t"))
        mr = len(r_cust)
        mu = 3.7 + 0.85 * self.p_quality[r_product] + self.harshness[r_cust]
        rating = np.clip(np.round(mu + rng.normal(0, 0.6, mr)), 1, 5).astype(int)
        ch, dev = self._channels(r_cust, allow_store=False)
        part(r_cust, _EV["review"], r_product, r_secs, ch, dev, rating=rating)
        text_choice = rng.integers(0, 3, mr)
        texts = np.array([REVIEW_TEXTS[r][i] for r in range(1, 6) for i in range(3)], dtype=object)
        self.rv = {
            "cust": r_cust,
            "product": r_product,
            "secs": r_secs,
            "rating": rating,
            "text": texts[(rating - 1) * 3 + text_choice],
        }

    # ----------------------------------------------------------------- frames

    def frames(
        self, customers: pd.DataFrame, products: pd.DataFrame, weather: pd.DataFrame
    ) -> Market:
        city_names = np.array([c.name for c in CITIES], dtype=object)
        channel_names = np.array(CHANNELS, dtype=object)
        device_names = np.array(list(DEVICES) + [None], dtype=object)  # index -1 -> None
        weather_names = np.array(WEATHERS, dtype=object)

        n_orders = len(self.o_cust)
        order_ids = _ids("O", n_orders, max(6, len(str(n_orders))))
        orders = pd.DataFrame(
            {
                "order_id": order_ids,
                "customer_id": self.customer_ids[self.o_cust],
                "ordered_at": self._stamps(self.o_secs),
                "channel": channel_names[self.o_channel],
                "device": device_names[self.o_device],
                "location": city_names[self.c_city[self.o_cust]],
                "weather": weather_names[self.o_weather],
            }
        )
        order_lines = pd.DataFrame(
            {
                "order_id": order_ids[self.l_order],
                "line_no": self.l_line_no.astype(np.int64),
                "product_id": self.product_ids[self.l_product],
                "quantity": self.l_qty,
                "unit_price": self.l_price,
                "discount": self.l_discount,
            }
        )

        ev = self.ev
        known = ev["cust"] >= 0
        # Stitching: the last anonymous event of most anonymous ids also carries the
        # customer id (the moment they signed in).
        anon_known = (ev["anon"] != None) & known  # noqa: E711 - elementwise on object array
        stitch = np.zeros(len(known), dtype=bool)
        if anon_known.any():
            idx = np.flatnonzero(anon_known)
            frame = pd.DataFrame({"anon": ev["anon"][idx], "secs": ev["secs"][idx], "i": idx})
            last = (
                frame.sort_values(["anon", "secs", "i"], kind="mergesort").groupby("anon").tail(1)
            )
            chosen = last["i"].to_numpy()
            signed_in = self.rng.random(len(chosen)) < 0.6
            stitch[chosen[signed_in]] = True
        keep_customer = known & ((ev["anon"] == None) | stitch)  # noqa: E711
        order = np.lexsort((ev["product"], ev["etype"], ev["cust"], ev["secs"]))
        ev = {key: value[order] for key, value in ev.items()}
        keep_customer = keep_customer[order]
        known = known[order]
        m = len(order)
        cust_city = np.where(known, self.c_city[np.maximum(ev["cust"], 0)], 0)
        visitor = ~known
        if visitor.any():
            cust_city[visitor] = self.v_city_for(ev, visitor)
        day = np.clip(ev["secs"] // DAY, 0, self.cal.days - 1)
        product_ids = np.concatenate([self.product_ids, np.array([None], dtype=object)])
        rating = pd.array(np.where(ev["rating"] >= 0, ev["rating"], 0), dtype="Int64")
        rating[ev["rating"] < 0] = pd.NA
        events = pd.DataFrame(
            {
                "event_id": _ids("e", m, max(7, len(str(m)))),
                "customer_id": np.where(
                    keep_customer, self.customer_ids[np.maximum(ev["cust"], 0)], None
                ),
                "anonymous_id": ev["anon"],
                "event_type": np.array(EVENT_TYPES, dtype=object)[ev["etype"]],
                "product_id": product_ids[ev["product"]],
                "query": ev["query"],
                "occurred_at": self._stamps(ev["secs"]),
                "channel": channel_names[ev["channel"]],
                "device": device_names[ev["device"]],
                "location": city_names[cust_city],
                "weather": weather_names[self.weather_code[cust_city, day]],
                "rating": rating,
            }
        )
        for column in ("customer_id", "product_id"):
            events[column] = events[column].astype(object)

        rv = self.rv
        rv_order = np.lexsort((rv["product"], rv["cust"], rv["secs"]))
        reviews = pd.DataFrame(
            {
                "review_id": _ids("R", len(rv_order), max(6, len(str(len(rv_order))))),
                "customer_id": self.customer_ids[rv["cust"][rv_order]],
                "product_id": self.product_ids[rv["product"][rv_order]],
                "rating": rv["rating"][rv_order].astype(np.int64),
                "reviewed_at": self._stamps(rv["secs"][rv_order]),
                "text": rv["text"][rv_order],
            }
        )
        truth = pd.DataFrame(
            {
                "customer_id": self.customer_ids,
                "traits": np.array(self.traits.names(), dtype=object),
            }
        ).merge(self.latent_frame(), on="customer_id", how="left")
        quality = pd.DataFrame({"product_id": self.product_ids, "quality": self.p_quality})
        lifecycle = lifecycle_frame(self.lifecycle, self.product_ids, self.cal.start)
        self.step("frames")
        return Market(
            config=self.config,
            customers=customers,
            products=products,
            daily_weather=weather,
            orders=orders,
            order_lines=order_lines,
            events=events,
            reviews=reviews,
            truth=truth,
            product_quality=quality,
            product_lifecycle=lifecycle,
        )

    def v_city_for(self, ev: dict[str, np.ndarray], visitor: np.ndarray) -> np.ndarray:
        # Visitors' ids end in their number; their city was drawn per visitor.
        numbers = pd.Series(ev["anon"][visitor]).str.slice(6).astype(int).to_numpy()
        return self.visitor_city[numbers]


def generate_market(
    config: MarketConfig | None = None, progress: ProgressFn | None = None
) -> Market:
    """Generate a whole market, deterministically for ``config.seed``.

    Args:
        config: sizes, seed and end of the market (defaults: :class:`MarketConfig`).
        progress: optional ``progress(label, done, total)`` called after each step.

    Returns:
        The :class:`Market` frames (see its docstring for the columns).

    Raises:
        UserError: a size or the seed is not valid.
    """
    config = config or MarketConfig()
    config.validate()
    gen = _Generator(config, progress)
    weather = gen.weather()
    products = gen.products()
    customers, _ = gen.customers()
    gen.orders()
    gen.events()
    return gen.frames(customers, products, weather)

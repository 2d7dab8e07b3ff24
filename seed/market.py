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

from engine.errors import UserError
from engine.models import CHANNELS, DEVICES, EVENT_TYPES, WEATHERS
from seed.personas import TraitAssignment, assign_traits
from seed.world import (
    ADJECTIVES,
    BRANDS,
    CATEGORIES,
    CITIES,
    CONTEXT_TAGS,
    DEAL_WORDS,
    REVIEW_TEXTS,
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
    ``customer_id, traits`` (sorted, ``;``-separated). ``product_quality``
    (``product_id, quality``) is the hidden per-product quality behind the
    ratings; it is not written to the store.
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
        hourly = _HOURLY / _HOURLY.sum()
        self.cdf_hour = np.cumsum(hourly)
        # Night owls' hours: few at 22:00 so activity shifted a few minutes back stays at night.
        night = np.zeros(24)
        night[_NIGHT_HOURS] = [0.6, 1.6, 2.0, 1.8, 1.5, 1.1, 0.8, 0.6]
        self.cdf_night = np.cumsum(night / night.sum())


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
        brand_pop = 1.0 / np.arange(1, n_brand + 1) ** 0.6
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
        local_cat = np.isin(cat, [5, 2, 11])
        local = local_cat & (rng.random(n) < 0.12)
        region = np.full(n, -1)
        region[local] = rng.integers(0, len(regions), local.sum())
        in_stock = rng.random(n) >= 0.02

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
        # Local products sell mostly at home (see the region pools), little elsewhere.
        self.p_pop = (
            rng.lognormal(0.0, 0.7, n) * np.where(in_stock, 1.0, 0.3) * np.where(local, 0.4, 1.0)
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

        activity = rng.lognormal(0.0, 0.22, n)
        self.order_rate = (
            10.0
            * activity
            * np.where(f["frequent_buyer"], 6.0, 1.0)
            * np.where(f["researcher"], 0.7, 1.0)
        )
        self.browse_rate = (
            np.select(
                [f["impulse_buyer"], f["researcher"], f["frequent_buyer"]], [5.0, 26.0, 6.0], 12.0
            )
            * activity
            # Enthusiasts browse their category a lot: enough events for the share to tell.
            * np.where(f["enthusiast"], 1.8, 1.0)
        )
        self.search_rate = np.where(f["deal_seeker"], 10.0, 6.0) * activity
        self.mobile_share = np.where(
            f["mobile_first"], rng.uniform(0.93, 0.98, n), rng.uniform(0.2, 0.38, n)
        )
        self.store_share = np.where(f["mobile_first"], 0.01, 0.1)
        self.review_rate = np.clip(0.13 * rng.lognormal(0.0, 0.4, n), 0.0, 0.6)
        harsh = rng.random(n) < 0.1
        self.harshness = np.where(harsh, -1.5, rng.normal(0.0, 0.25, n))

        # Favourite brands: two brands spanning several categories; an enthusiast
        # loyalist's favourites carry their category.
        ent_cat = traits.enthusiast_category
        fav = np.full((n, 2), -1)
        loyal = np.flatnonzero(f["brand_loyal"])
        for c in range(-1, len(CATEGORIES)):
            who = loyal[ent_cat[loyal] == c]
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
        """Items per customer: the expected count, stochastically rounded.

        Less dispersed than Poisson on purpose: customers already differ by their
        activity level, and Poisson noise on top would let ordinary customers drift
        into the frequency and research bands that only planted traits should reach.
        """
        expected = rate_per_year * self.c_span
        return np.floor(expected + self.rng.random(len(expected))).astype(np.int64)

    def _times(self, cust: np.ndarray) -> np.ndarray:
        """Seconds since the market start for one activity of each customer in ``cust``."""
        rng, cal, f = self.rng, self.cal, self.traits.flags
        m = len(cust)
        a, b = self.c_a[cust], self.c_b[cust]
        weekend = f["weekend_shopper"][cust] & (rng.random(m) < 0.94)
        lo = np.where(weekend, cal.cdf_weekend[a], cal.cdf_all[a])
        hi = np.where(weekend, cal.cdf_weekend[b], cal.cdf_all[b])
        u = lo + rng.random(m) * (hi - lo)
        day = np.empty(m, dtype=np.int64)
        day[weekend] = np.searchsorted(cal.cdf_weekend, u[weekend], side="right") - 1
        day[~weekend] = np.searchsorted(cal.cdf_all, u[~weekend], side="right") - 1
        day = np.clip(day, a, np.maximum(b - 1, a))
        night = f["night_owl"][cust] & (rng.random(m) < 0.93)
        hour = np.where(
            night,
            np.searchsorted(self.cal.cdf_night, rng.random(m) * self.cal.cdf_night[-1]),
            np.searchsorted(self.cal.cdf_hour, rng.random(m) * self.cal.cdf_hour[-1]),
        )
        hour = np.minimum(hour, 23)
        return day * DAY + hour * HOUR + rng.integers(0, HOUR, m)

    def _lag_back(self, cust: np.ndarray, min_days: int, max_days: int) -> np.ndarray:
        """Seconds to step back (or forward) from an activity, keeping its rhythm.

        Customers whose timing is planted move by whole days (whole weeks for
        weekend shoppers) less a few minutes, so hour and weekday survive;
        everyone else moves by a continuous amount in the same range.
        """
        rng, f = self.rng, self.traits.flags
        m = len(cust)
        weekend = f["weekend_shopper"][cust]
        night = f["night_owl"][cust]
        whole_days = rng.integers(min_days, max_days + 1, m)
        whole_weeks = 7 * rng.integers(1, max(2, (max_days + 6) // 7) + 1, m)
        jitter = rng.integers(MINUTE, 20 * MINUTE, m)
        rhythm = np.where(weekend, whole_weeks, whole_days) * DAY + jitter
        free = (rng.uniform(min_days, max_days + 1, m) * DAY).astype(np.int64)
        return np.where(weekend | night, rhythm, free)

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

        ``price_class`` 0 weights by popularity, 1 tilts toward cheap items,
        2 toward premium ones. Empty pools fall back to wider ones.
        """
        rng = self.rng
        # One int64 key per row (each code + 1 fits in its field) makes np.unique fast.
        keys = ((((cat + 1) * 64 + brand + 1) * 16 + tag + 1) * 64 + region + 1) * 4 + price_class
        unique_keys, inverse = np.unique(keys.astype(np.int64), return_inverse=True)
        inverse = inverse.ravel()
        unique = np.stack(
            [
                unique_keys // (4 * 64 * 16 * 64) - 1,
                unique_keys // (4 * 64 * 16) % 64 - 1,
                unique_keys // (4 * 64) % 16 - 1,
                unique_keys // 4 % 64 - 1,
                unique_keys % 4,
            ],
            axis=1,
        )
        pieces_idx: list[np.ndarray] = []
        pieces_cum: list[np.ndarray] = []
        ends = np.empty(len(unique), dtype=np.int64)
        total = 0
        for k, (c, b, t, r, pc) in enumerate(unique.tolist()):
            members = self._pool(c, b, t, r)
            w = self.p_pop[members] * self.p_price[members] ** {0: 0.0, 1: -3.0, 2: 3.0}[pc]
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
        self, cust: np.ndarray, enthusiast_p: float, brand_p: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Category and brand codes that a customer's traits put on a line or a view."""
        rng, f = self.rng, self.traits.flags
        m = len(cust)
        ent = self.traits.enthusiast_category[cust]
        loyal = f["brand_loyal"][cust] & (rng.random(m) < brand_p)
        which = (rng.random(m) < 0.35).astype(int)
        brand = np.where(loyal, self.fav[cust, which], -1)
        # An enthusiast loyalist buys their category within their brands most of the time.
        cat_p = np.where(loyal, 0.85, enthusiast_p)
        cat = np.where((ent >= 0) & (rng.random(m) < cat_p), ent, -1)
        # Other loyal lines spread evenly over the brand's categories, so a brand's one
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
        rng, f = self.rng, self.traits.flags
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

        hv = f["high_value"][cust]
        freq = f["frequent_buyer"][cust]
        typical_lines = 1 + (rng.random(n_orders) > 0.42).astype(int) + (rng.random(n_orders) > 0.7)
        n_lines = np.select(
            [hv & freq, hv, freq],
            [
                rng.integers(2, 4, n_orders),
                rng.integers(4, 7, n_orders),
                1 + (rng.random(n_orders) < 0.15),
            ],
            typical_lines,
        )
        line_order = np.repeat(np.arange(n_orders), n_lines)
        starts = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
        line_no = np.arange(len(line_order)) - starts[line_order] + 1
        lc = cust[line_order]
        m = len(lc)

        cat, brand = self._preference(lc, enthusiast_p=0.88, brand_p=0.97)
        price_class = np.where(f["high_value"][lc], 2, np.where(f["frequent_buyer"][lc], 1, 0))
        # Cheap or premium tilts act within a category drawn by popularity; across the
        # whole catalogue they would pile every line into Grocery or Electronics.
        tilted = (price_class > 0) & (cat < 0) & (brand < 0)
        share = np.array([c.share for c in CATEGORIES])
        cat = np.where(tilted, rng.choice(len(share), size=m, p=share / share.sum()), cat)
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
        region = np.where(general & (tag < 0) & has_local & (rng.random(m) < 0.15), cust_region, -1)
        product = self._sample_products(cat, brand, tag, region, price_class)
        # Impulse buyers chase novelty: they rarely buy the same product twice, which also
        # keeps "first view of that product" meaning the view just before this purchase.
        n_products = self.config.products
        impulse_line = f["impulse_buyer"][lc]
        none = np.full(m, -1)
        for attempt in range(12):
            redo = impulse_line & pd.Series(lc * n_products + product).duplicated().to_numpy()
            if not redo.any():
                break
            # A small brand or category may hold nothing new: widen the pool after a few tries.
            wide_brand = brand if attempt < 4 else none
            wide_cat = cat if attempt < 8 else none
            product[redo] = self._sample_products(
                wide_cat[redo], wide_brand[redo], tag[redo], region[redo], price_class[redo]
            )

        quantity = np.select(
            [f["high_value"][lc], f["frequent_buyer"][lc]],
            [rng.integers(1, 4, m), 1 + (rng.random(m) < 0.08)],
            1 + (rng.random(m) < 0.17) + (rng.random(m) < 0.05),
        ).astype(float)
        unit_price = self.p_price[product]
        week = secs[line_order] // (7 * DAY)
        on_promo = self.promo[product, week]
        rate = np.where(on_promo, self.promo_rate[product, week], 0.0)
        marked_down = self.p_list[product] > unit_price
        # Deal seekers wait for promotions and use coupons: most of their lines carry one.
        coupon = f["deal_seeker"][lc] & (rate == 0) & ~marked_down & (rng.random(m) < 0.93)
        rate = np.where(coupon, np.round(rng.uniform(0.1, 0.3, m) * 20) / 20, rate)
        # As in real exports, unit_price is what was paid per unit and discount what was
        # saved on the whole line.
        paid = np.round(unit_price * (1.0 - rate), 2)
        discount = np.round(quantity * (unit_price - paid), 2)
        unit_price = paid

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

    # ----------------------------------------------------------------- events

    def events(self) -> None:
        rng, f = self.rng, self.traits.flags
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
        impulse = f["impulse_buyer"][lc]
        researcher = f["researcher"][lc]
        # 2. Cart adds a few minutes before an online purchase.
        cart = online & (rng.random(m) < np.where(impulse, 0.8, 0.3))
        part(
            lc[cart],
            _EV["cart_add"],
            lp[cart],
            t_line[cart] - rng.integers(60, 600, cart.sum()),
            ch_line[cart],
            dev_line[cart],
        )

        # 3. The first view of each bought product: minutes before for impulse buys,
        #    hours to days before for everyone else.
        viewed = online & (
            rng.random(m) < np.select([impulse, f["frequent_buyer"][lc]], [0.97, 0.35], 0.7)
        )
        quick = viewed & (rng.random(m) < np.where(impulse, 0.95, np.where(researcher, 0.0, 0.06)))
        slow = viewed & ~quick
        quick_secs = t_line[quick] - rng.integers(12 * MINUTE, 28 * MINUTE, quick.sum())
        part(lc[quick], _EV["product_view"], lp[quick], quick_secs, ch_line[quick], dev_line[quick])
        slow_cust = lc[slow]
        slow_secs = t_line[slow] - np.maximum(self._lag_back(slow_cust, 1, 4), 2 * HOUR)
        ch, dev = self._channels(slow_cust, allow_store=False)
        part(slow_cust, _EV["product_view"], lp[slow], slow_secs, ch, dev)

        # 4. Researchers: repeated views, alternatives in the category and searches,
        #    spread over the days before each order.
        r_orders = np.flatnonzero(f["researcher"][self.o_cust])
        if len(r_orders):
            first_line = np.searchsorted(lo, r_orders)
            r_product = lp[first_line]
            r_cust = self.o_cust[r_orders]
            r_time = self.o_secs[r_orders]
            for kind, mean in (("again", 3.5), ("alternative", 5.0), ("search", 3.5)):
                k = rng.poisson(mean, len(r_orders))
                idx = np.repeat(np.arange(len(r_orders)), k)
                cust_k = r_cust[idx]
                secs_k = r_time[idx] - self._lag_back(cust_k, 1, 12)
                ch, dev = self._channels(cust_k, allow_store=False)
                if kind == "again":
                    part(cust_k, _EV["product_view"], r_product[idx], secs_k, ch, dev)
                elif kind == "alternative":
                    # Some alternatives share the bought product's category; most are
                    # wider comparisons, so research alone never makes an enthusiast.
                    same = rng.random(len(idx)) < 0.3
                    pref_cat, _ = self._preference(cust_k, enthusiast_p=0.88, brand_p=0.0)
                    alt = self._sample_products(
                        np.where(same, self.p_cat[r_product[idx]], pref_cat),
                        np.full(len(idx), -1),
                        np.full(len(idx), -1),
                        np.full(len(idx), -1),
                        np.zeros(len(idx), dtype=int),
                    )
                    part(cust_k, _EV["product_view"], alt, secs_k, ch, dev)
                else:
                    query = self._product_queries(r_product[idx])
                    part(cust_k, _EV["search"], np.full(len(idx), -1), secs_k, ch, dev, query=query)

        # 5. Browsing: views of products never bought, some carted or wishlisted.
        counts = self._counts(self.browse_rate)
        b_cust = np.repeat(np.arange(n), counts)
        b_secs = self._times(b_cust)
        cat, brand = self._preference(b_cust, enthusiast_p=0.88, brand_p=0.6)
        nb = len(b_cust)
        b_product = self._sample_products(
            cat, brand, np.full(nb, -1), np.full(nb, -1), np.zeros(nb, dtype=int)
        )
        # Impulse buyers do not browse what they later buy (their first view is the quick one).
        bought = np.unique(lc * self.config.products + lp)
        drop = f["impulse_buyer"][b_cust] & np.isin(
            b_cust * self.config.products + b_product, bought
        )
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

        # 6. Searches: what people look for; deal seekers look for deals.
        counts = self._counts(self.search_rate)
        s_cust = np.repeat(np.arange(n), counts)
        s_secs = self._times(s_cust)
        ns = len(s_cust)
        cat, brand = self._preference(s_cust, enthusiast_p=0.88, brand_p=0.6)
        s_product = self._sample_products(
            cat, brand, np.full(ns, -1), np.full(ns, -1), np.zeros(ns, dtype=int)
        )
        query = self._product_queries(s_product)
        deal = rng.random(ns) < np.where(f["deal_seeker"][s_cust], 0.65, 0.02)
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
        v_product = self._sample_products(*(np.full(nv, -1),) * 4, np.zeros(nv, dtype=int))
        ch = np.array([_CH["web"], _CH["mobile_web"]])[rng.integers(0, 2, nv)]
        dev = np.where(ch == _CH["web"], _DEV["desktop"], _DEV["mobile"])
        v_anon = (
            pd.Series(v).map(lambda i: f"anon-v{i:06d}").to_numpy(dtype=object)
            if nv
            else np.empty(0, object)
        )
        self.visitor_city = rng.integers(0, len(CITIES), visitors)
        part(np.full(nv, -1), _EV["product_view"], v_product, v_secs, ch, dev, anon=v_anon)

        ev = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        # Nothing before the market began or after it ended, nor before a customer signed up.
        signed_up = np.where(ev["cust"] >= 0, self.c_a[np.maximum(ev["cust"], 0)] * DAY, 0)
        keep = (ev["secs"] >= signed_up) & (ev["secs"] < self.cal.days * DAY)
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
        r_secs = self.o_secs[lo[pick]] + self._lag_back(r_cust, 2, 20)
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
        )
        quality = pd.DataFrame({"product_id": self.product_ids, "quality": self.p_quality})
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

"""The first stages of a market run: the weather of every city and day, and the catalogue
(brands, prices, tags, local products, promotions, lifecycles) with its product pools."""

from __future__ import annotations

import numpy as np
import pandas as pd
from faker import Faker
from scipy.special import ndtri

from engine.vocabulary import WEATHERS
from seed.calendar import Calendar
from seed.lifecycle import draw_lifecycles, in_stock_at_end
from seed.spec import (
    NEUTRAL,
    STEPS,
    TAG,
    WX,
    MarketConfig,
    ProgressFn,
    ids,
)
from seed.world import (
    ADJECTIVES,
    BRANDS,
    CATEGORIES,
    CITIES,
    CONTEXT_TAGS,
    GEAR_WEIGHT,
    WEATHER_GEAR,
)


class CatalogueStage:
    """The first stage of one generation run (:class:`seed.market._Generator` is the last):
    its generator, calendar and progress, then the weather and the catalogue. Every stage
    keeps its draws as attributes (per-city-day, per-product, later per-customer arrays)."""

    def __init__(self, config: MarketConfig, progress: ProgressFn | None) -> None:
        self.config = config
        self.progress = progress
        self.rng = np.random.default_rng(config.seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(config.seed)
        self.cal = Calendar(config)
        self.steps_done = 0

    def step(self, label: str) -> None:
        self.steps_done += 1
        if self.progress is not None:
            self.progress(label, self.steps_done, STEPS)

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
            np.where(temp <= 1.0, WX["snowy"], WX["rainy"]),
            np.where(
                temp >= 29.0,
                WX["hot"],
                np.where(temp <= 2.0, WX["cold"], np.where(sunny_draw, WX["sunny"], WX["cloudy"])),
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
            self.p_gear[np.isin(self.p_noun, gear) & tag_bits[:, TAG[tag]], TAG[tag]] = GEAR_WEIGHT
        # Local products sell mostly at home (see the region pools), little elsewhere.
        self.p_pop = rng.lognormal(0.0, 0.7, n) * np.where(local, 0.15, 1.0)
        self.p_quality = rng.normal(0.0, 1.0, n)
        self.carries = carries
        width = max(4, len(str(n)))
        self.product_ids = ids("P", n, width)

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
            w = self.p_pop[members] * self.p_price[members] ** float(pc - NEUTRAL)
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

"""The customers of a market run and the draws every one of their activities uses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seed.catalogue import CatalogueStage
from seed.personas import TraitAssignment, assign_traits
from seed.propensities import draw_propensities
from seed.spec import CH, DAY, DEV, HOUR, ids
from seed.world import (
    CATEGORIES,
    CITIES,
)


class ShopperStage(CatalogueStage):
    """Customers, their propensities, and how any of their activities is timed, placed on
    a channel and pointed at a category or brand."""

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
        self.customer_ids = ids("C", n, width)
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
        shift = np.where(
            want_weekend & ~is_weekend,
            to_weekend,
            np.where(~want_weekend & is_weekend, to_weekday, 0),
        )
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
            np.where(sub < 0.4, CH["mobile_web"], np.where(sub < 0.75, CH["ios"], CH["android"])),
            np.where(store, CH["store"], np.where(sub < 0.88, CH["web"], CH["email"])),
        )
        device = np.where(
            mobile,
            DEV["mobile"],
            np.where(
                store,
                -1,
                np.where(
                    (channel == CH["web"]) & (rng.random(m) < 0.2), DEV["tablet"], DEV["desktop"]
                ),
            ),
        )
        return channel, device

    def _preference(self, cust: np.ndarray, brand_p: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
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

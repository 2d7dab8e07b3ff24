"""The orders of a market run: baskets, products chosen through their lifecycles, prices
and discounts; and each customer's expected orders and spend."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from engine.vocabulary import NIGHT_HOUR_LIST
from seed.lifecycle import assign_products
from seed.shoppers import ShopperStage
from seed.spec import CANDIDATES, DAY, HOUR, NEUTRAL, TAG, WX
from seed.world import CATEGORIES

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
    return (np.clip(np.round(2.0 * basket), -3, 3) + NEUTRAL).astype(np.int64)


def _capped_mean(mean: np.ndarray, cap: int) -> np.ndarray:
    """``E[min(1 + X, cap)]`` for ``X ~ Poisson(mean)``."""
    return 1.0 + sum(poisson.sf(j, mean) for j in range(cap - 1))


class OrderStage(ShopperStage):
    """Orders and their lines, and what each customer was expected to do (the latent
    values of the truth file)."""

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
                line_wx == WX["rainy"],
                line_wx == WX["snowy"],
                line_wx == WX["hot"],
                line_wx == WX["cold"],
                line_wx == WX["sunny"],
            ],
            [TAG["rain"], TAG["snow"], TAG["hot"], TAG["cold"], TAG["sunny"]],
            -1,
        )
        wx_p = np.select(
            [line_wx == WX["rainy"], line_wx == WX["snowy"], line_wx == WX["hot"]],
            [0.35, 0.35, 0.3],
            0.12,
        )
        time_tag = np.select(
            [(hour >= 6) & (hour < 11), (hour >= 18) & (hour < 22), np.isin(hour, NIGHT_HOUR_LIST)],
            [TAG["morning"], TAG["evening"], TAG["night"]],
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
        tilted = general & (tag < 0) & (region < 0) & (price_class != NEUTRAL)
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
        brand_wide = (
            np.where(loyal, -1, cat),
            brand,
            np.where(loyal, -1, tag),
            np.where(loyal, -1, region),
        )
        pools = (
            [(cat, brand, tag, region)] * (CANDIDATES - 5)
            + [brand_wide] * 2
            + [(cat, none, tag, region), (cat, none, none, none), (none, none, none, none)]
        )
        candidates = np.stack(
            [self._sample_products(c, b, t, r, price_class) for c, b, t, r in pools], axis=1
        )
        candidates = self._stocked_locally(candidates, cust_region)
        product, rebuy = assign_products(
            rng,
            self.lifecycle,
            cust,
            secs,
            line_order,
            candidates,
            self.speed,
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
            w = self.p_pop * self.p_price ** float(klass - NEUTRAL)
            total = np.bincount(self.p_cat, weights=w * self.p_price, minlength=len(share))
            norm = np.bincount(self.p_cat, weights=w, minlength=len(share))
            by_class[:, klass] = total / np.maximum(norm, 1e-12)
        pc = _price_class(basket)
        price = (
            self.focus * by_class[self.fav_cat, pc] + (1.0 - self.focus) * (share @ by_class)[pc]
        )
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

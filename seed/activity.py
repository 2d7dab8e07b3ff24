"""The events of a market run: purchases, carts, first views, research, browsing,
searches, reviews and anonymous visitors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from seed.orders import OrderStage
from seed.spec import CH, DAY, DEV, EV, HOUR, MINUTE, NEUTRAL
from seed.world import (
    BRANDS,
    CATEGORIES,
    CITIES,
    DEAL_WORDS,
    REVIEW_TEXTS,
)


class ActivityStage(OrderStage):
    """Everything customers and visitors do besides ordering."""

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
        part(lc, EV["purchase"], lp, t_line, ch_line, dev_line)

        online = ch_line != CH["store"]
        q = self.impulse_p[lc]
        first_buy = ~self.l_rebuy
        # 2. Cart adds a few minutes before an online purchase.
        cart = online & (rng.random(m) < 0.15 + 0.5 * q)
        part(
            lc[cart],
            EV["cart_add"],
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
        part(lc[quick], EV["product_view"], lp[quick], quick_secs, ch_line[quick], dev_line[quick])
        slow_cust = lc[slow]
        slow_secs = np.minimum(
            self._shifted(slow_cust, t_line[slow], 1, 4, -1), t_line[slow] - 2 * HOUR
        )
        ch, dev = self._channels(slow_cust, allow_store=False)
        part(slow_cust, EV["product_view"], lp[slow], slow_secs, ch, dev)

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
                part(cust_k, EV["product_view"], r_product[idx], secs_k, ch, dev)
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
                    np.full(len(idx), NEUTRAL),
                )
                part(cust_k, EV["product_view"], alt, secs_k, ch, dev)
            else:
                query = self._product_queries(r_product[idx])
                part(cust_k, EV["search"], np.full(len(idx), -1), secs_k, ch, dev, query=query)

        # 5. Browsing: views of products never bought, some carted or wishlisted; the
        #    rest of the research propensity (per order, plus one visit's worth).
        orders_of = np.bincount(self.o_cust, minlength=n)
        counts = rng.poisson(0.35 * self.research * (orders_of + 1))
        b_cust = np.repeat(np.arange(n), counts)
        b_secs = self._times(b_cust)
        cat, brand = self._preference(b_cust, brand_p=0.6)
        nb = len(b_cust)
        b_product = self._sample_products(
            cat, brand, np.full(nb, -1), np.full(nb, -1), np.full(nb, NEUTRAL)
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
        part(b_cust, EV["product_view"], b_product, b_secs, ch, dev, anon=anon)
        for etype, p, lag in ((EV["cart_add"], 0.06, 900), (EV["wishlist_add"], 0.04, 600)):
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
            cat, brand, np.full(ns, -1), np.full(ns, -1), np.full(ns, NEUTRAL)
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
        part(s_cust, EV["search"], np.full(ns, -1), s_secs, ch, dev, query=query, anon=anon)

        # 7. Reviews (rows and events).
        self._reviews(part)

        # 8. Visitors who never signed in.
        visitors = max(n // 25, 1)
        k = rng.poisson(4.0, visitors)
        v = np.repeat(np.arange(visitors), k)
        nv = len(v)
        v_secs = rng.integers(0, self.cal.days * DAY, nv)
        v_product = self._sample_products(*(np.full(nv, -1),) * 4, np.full(nv, NEUTRAL))
        ch = np.array([CH["web"], CH["mobile_web"]])[rng.integers(0, 2, nv)]
        dev = np.where(ch == CH["web"], DEV["desktop"], DEV["mobile"])
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
        part(np.full(nv, -1), EV["product_view"], v_product, v_secs, ch, dev, anon=v_anon)

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
        part(r_cust, EV["review"], r_product, r_secs, ch, dev, rating=rating)
        text_choice = rng.integers(0, 3, mr)
        texts = np.array([REVIEW_TEXTS[r][i] for r in range(1, 6) for i in range(3)], dtype=object)
        self.rv = {
            "cust": r_cust,
            "product": r_product,
            "secs": r_secs,
            "rating": rating,
            "text": texts[(rating - 1) * 3 + text_choice],
        }

"""Generate the synthetic market: customers, catalogue, weather, orders, events, reviews.

Everything is drawn from one ``numpy.random.default_rng(seed)`` (and a Faker
seeded with ``seed_instance(seed)`` for names), over a fixed calendar that ends
at ``MarketConfig.end``: the same config always gives the same rows, and the
wall clock is never read.

Generation is vectorised: each kind of activity is drawn for all customers at
once (per-customer counts, ``np.repeat`` to one row per item, then per-row
draws), so the default market of 5000 customers takes a few seconds.

A run goes through stages, each a module and a class built on the one before:
:mod:`seed.catalogue` (weather, products and their pools), :mod:`seed.shoppers`
(customers and the draws of any activity), :mod:`seed.orders`, :mod:`seed.activity`
(events and reviews) and this module's frames; :mod:`seed.spec` holds what a run
takes and gives (:class:`MarketConfig`, :class:`Market`).

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

import numpy as np
import pandas as pd

from engine.vocabulary import CHANNELS, DEVICES, EVENT_TYPES, WEATHERS
from seed.activity import ActivityStage
from seed.lifecycle import lifecycle_frame
from seed.spec import DAY, Market, MarketConfig, ProgressFn, ids
from seed.world import CITIES

__all__ = ["Market", "MarketConfig", "generate_market"]


class _Generator(ActivityStage):
    """One generation run: the stages of :mod:`seed.catalogue` to :mod:`seed.activity`,
    then the frames."""

    # ----------------------------------------------------------------- frames

    def frames(
        self, customers: pd.DataFrame, products: pd.DataFrame, weather: pd.DataFrame
    ) -> Market:
        city_names = np.array([c.name for c in CITIES], dtype=object)
        channel_names = np.array(CHANNELS, dtype=object)
        device_names = np.array(list(DEVICES) + [None], dtype=object)  # index -1 -> None
        weather_names = np.array(WEATHERS, dtype=object)

        n_orders = len(self.o_cust)
        order_ids = ids("O", n_orders, max(6, len(str(n_orders))))
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
                "event_id": ids("e", m, max(7, len(str(m)))),
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
                "review_id": ids("R", len(rv_order), max(6, len(str(len(rv_order))))),
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

"""The live market: shoppers who keep shopping after the store's last day.

:class:`Simulation` is a pure, seeded generator of timestamped events in the import
format of ``CONTRACT.md`` (``event_type, occurred_at, customer_id, product_id, ...``):
the same shoppers, catalogue, start and seed always give the same events, and nothing
here reads the wall clock or the store. Who shops, when and how comes from
:class:`Shoppers` (per-customer propensities: the seed's planted ones on a seeded
store, or ones measured from an imported store's history, see :mod:`seed.live_store`).

How the market is drawn (the rules of :mod:`seed.market`, continued):

* time runs in slots of :data:`SLOT_MINUTES`; in each slot every customer starts a
  visit with a Poisson rate (their visits and orders per day) shaped by the hour and
  the weekday: a night owl's visits fall between 22:00 and 05:59 with their night
  propensity, a weekend shopper's on Saturday and Sunday with theirs;
* a visit is on mobile with the customer's mobile propensity;
* a browsing visit views a few products (their favourite category with their focus,
  a favourite brand with their loyalty, else by popularity), sometimes after a
  search, sometimes carting or wishlisting one;
* an ordering visit buys one product: an impulse buyer (with their impulse
  propensity) views it and buys it minutes later; anyone else views it now and buys
  it hours to days later (a considered purchase). A deal seeker (price sensitivity)
  picks a marked-down product. A purchase may be reviewed days later, rated by the
  product's quality and the customer's own leniency.

A *followed* customer (:meth:`Simulation.follow`) shops the same way, only more
often, so an audience sees their profile move within seconds.
"""

from __future__ import annotations

import heapq
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from seed.calendar import HOURLY, NIGHT_HOURS

SLOT_MINUTES = 10
"""Length of one drawing slot of simulated time."""
VIEWS_PER_VISIT = 2.5
"""Mean product views of a browsing visit (the research propensity sets the visits)."""
INJECTABLE = ("review_1_star", "late_night_mobile_purchase", "product_view", "cart_add")
"""What :meth:`Simulation.inject` can make a customer do."""
_DAY = 86_400.0


def _hour_profiles() -> tuple[np.ndarray, np.ndarray]:
    night_mask = np.isin(np.arange(24), NIGHT_HOURS)
    day = np.where(night_mask, 0.0, HOURLY)
    night = np.zeros(24)
    night[NIGHT_HOURS] = [0.6, 1.6, 2.0, 1.8, 1.5, 1.1, 0.8, 0.6]
    return day / day.sum(), night / night.sum()


_DAY_HOURS, _NIGHT_HOURS = _hour_profiles()


@dataclass
class Shoppers:
    """Who shops, one entry per customer (arrays of equal length).

    Shares are probabilities per action (as in :mod:`seed.propensities`): ``weekend``,
    ``night``, ``mobile``, ``impulse`` (a first purchase bought minutes after its
    first view), ``deal`` (a purchase of a marked-down product), ``loyalty`` (from a
    favourite brand), ``focus`` (in the favourite category). ``orders_per_day`` and
    ``visits_per_day`` (browsing visits) are rates; ``review_rate`` the chance a
    purchase is reviewed; ``leniency`` added to a product's quality in a rating.
    ``favourite_brands`` holds two names per customer (None where unknown);
    ``locations`` a city per customer (None where unknown); ``weather`` each
    location's weather mix (names, probabilities). ``source``: ``"planted"`` (the
    seed's own propensities) or ``"observed"`` (measured from the store's history).
    """

    customer_ids: np.ndarray
    names: np.ndarray
    orders_per_day: np.ndarray
    visits_per_day: np.ndarray
    weekend: np.ndarray
    night: np.ndarray
    mobile: np.ndarray
    impulse: np.ndarray
    deal: np.ndarray
    loyalty: np.ndarray
    focus: np.ndarray
    favourite_category: np.ndarray
    favourite_brands: np.ndarray
    review_rate: np.ndarray
    leniency: np.ndarray
    locations: np.ndarray
    weather: dict[str, tuple[list[str], list[float]]]
    source: str

    def __len__(self) -> int:
        return len(self.customer_ids)

    def index(self, customer_id: str) -> int:
        """Position of a customer, -1 when they are not among the shoppers."""
        found = np.flatnonzero(self.customer_ids == customer_id)
        return int(found[0]) if len(found) else -1


@dataclass
class Catalogue:
    """What can be bought: ids with ``category, brand`` (None where unknown),
    ``marked_down`` (price below list price), ``weight`` (popularity, > 0) and
    ``quality`` (the mean rating the product earns, 1..5). Only in-stock products."""

    product_ids: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    marked_down: np.ndarray
    weight: np.ndarray
    quality: np.ndarray

    def __post_init__(self) -> None:
        self.p = self.weight / self.weight.sum()
        self._pools: dict[tuple[str, Any], np.ndarray] = {}

    def pool(self, column: str, value: Any) -> np.ndarray:
        key = (column, value)
        if key not in self._pools:
            self._pools[key] = np.flatnonzero(getattr(self, column) == value)
        return self._pools[key]


class Simulation:
    """Events from ``start`` on, in time order (see the module docstring).

    Args:
        shoppers: who shops (:class:`Shoppers`).
        catalogue: what they buy (:class:`Catalogue`, not empty).
        start: the first moment (just after the store's newest data).
        seed: seeds every draw; event ids are ``sim<seed>-<start>-<n>``.
    """

    def __init__(
        self, shoppers: Shoppers, catalogue: Catalogue, *, start: datetime, seed: int = 0
    ) -> None:
        if len(catalogue.product_ids) == 0:
            raise ValueError("the catalogue has no product in stock")
        self.shoppers, self.catalogue, self.start, self.seed = shoppers, catalogue, start, seed
        self.rng = np.random.default_rng([seed, int(start.timestamp())])
        self.clock = start  # every slot before it has been drawn
        self._queue: list[tuple[datetime, int, dict[str, Any]]] = []
        self._n = 0
        self._prefix = f"sim{seed}-{start:%Y%m%dT%H%M%S}"
        self._considered: dict[int, list[int]] = {}
        self._extra = np.zeros(len(shoppers))
        self._weather_cache: dict[tuple[str, int], str] = {}

    # ----------------------------------------------------------------- public

    def follow(self, customer_id: str | None, visits_per_day: float = 0.0) -> None:
        """Give one customer ``visits_per_day`` extra visits (their own kind; None: nobody)."""
        self._extra[:] = 0.0
        if customer_id is not None:
            i = self.shoppers.index(customer_id)
            if i >= 0:
                self._extra[i] = visits_per_day

    def until(self, moment: datetime) -> list[dict[str, Any]]:
        """Every event stamped before ``moment`` not returned yet, in time order."""
        while self.clock < moment:
            self._slot(self.clock)
            self.clock += timedelta(minutes=SLOT_MINUTES)
        out = []
        while self._queue and self._queue[0][0] < moment:
            out.append(heapq.heappop(self._queue)[2])
        return out

    def inject(
        self, kind: str, customer_id: str, at: datetime, *, product_id: str | None = None
    ) -> dict[str, Any]:
        """One chosen event of a customer at ``at`` (kinds: :data:`INJECTABLE`).

        ``review_1_star`` rates ``product_id`` (their last purchase, say) 1 star;
        ``late_night_mobile_purchase`` buys on a phone at the latest 23:30 at or before
        ``at``; the others view or cart a product they would pick (or ``product_id``).
        """
        if kind not in INJECTABLE:
            raise ValueError(f"invalid event {kind!r}; valid values: {', '.join(INJECTABLE)}")
        i = self.shoppers.index(customer_id)
        product = product_id or self._id(self._pick(max(i, 0), deal=False))
        base = {
            "customer_id": customer_id,
            "product_id": product,
            "location": self.shoppers.locations[i] if i >= 0 else None,
        }
        if kind == "review_1_star":
            event = {
                **base,
                "event_type": "review",
                "rating": 1,
                "occurred_at": at,
                **self._online(i, mobile=None),
            }
        elif kind == "late_night_mobile_purchase":
            night = at.replace(hour=23, minute=30, second=0, microsecond=0)
            if night > at:
                night -= timedelta(days=1)
            if at.hour < 6 or at.hour >= 23:
                night = at  # it is late at night already
            event = {
                **base,
                "event_type": "purchase",
                "occurred_at": night,
                **self._online(i, mobile=True),
            }
        else:
            event = {**base, "event_type": kind, "occurred_at": at, **self._online(i, mobile=None)}
        return self._finish(event, suffix="inj")

    # ----------------------------------------------------------------- drawing

    def _slot(self, begin: datetime) -> None:
        s, rng = self.shoppers, self.rng
        hour, weekend_day = begin.hour, begin.weekday() >= 5
        hour_factor = 24.0 * ((1.0 - s.night) * _DAY_HOURS[hour] + s.night * _NIGHT_HOURS[hour])
        day_factor = np.where(weekend_day, 3.5 * s.weekend, 1.4 * (1.0 - s.weekend))
        shape = hour_factor * day_factor * (SLOT_MINUTES * 60.0 / _DAY)
        orders = rng.poisson(s.orders_per_day * shape)
        visits = rng.poisson((s.visits_per_day + self._extra) * shape)
        for kind, counts in (("order", orders), ("visit", visits)):
            for i in np.repeat(np.flatnonzero(counts), counts[counts > 0]):
                at = begin + timedelta(seconds=float(rng.uniform(0, SLOT_MINUTES * 60)))
                if kind == "order" or (self._extra[i] > 0 and rng.random() < 0.2):
                    self._order(int(i), at)
                else:
                    self._visit(int(i), at)

    def _visit(self, i: int, at: datetime) -> None:
        rng, online = self.rng, self._online(i)
        if rng.random() < 0.3:
            product = self._pick(i, deal=False)
            self._push(at, i, "search", None, online, query=self._query(product))
            at += timedelta(seconds=float(rng.uniform(15, 90)))
        for _ in range(1 + rng.poisson(VIEWS_PER_VISIT - 1)):
            product = self._pick(i, deal=rng.random() < self.shoppers.deal[i] * 0.5)
            self._push(at, i, "product_view", product, online)
            self._considered.setdefault(i, []).append(product)
            u = rng.random()
            if u < 0.06:
                self._push(
                    at + timedelta(seconds=float(rng.uniform(30, 600))),
                    i,
                    "cart_add",
                    product,
                    online,
                )
            elif u < 0.10:
                self._push(
                    at + timedelta(seconds=float(rng.uniform(30, 600))),
                    i,
                    "wishlist_add",
                    product,
                    online,
                )
            at += timedelta(seconds=float(rng.uniform(20, 150)))

    def _order(self, i: int, at: datetime) -> None:
        s, rng, online = self.shoppers, self.rng, self._online(i)
        considered = self._considered.get(i)
        if rng.random() < s.impulse[i] or not considered:
            product = self._pick(i, deal=rng.random() < s.deal[i])
            self._push(at, i, "product_view", product, online)
            if rng.random() < s.impulse[i]:
                # discovered and bought in one go: minutes after the first view
                bought = at + timedelta(seconds=float(rng.uniform(60, 25 * 60)))
            else:
                # a considered purchase: bought hours to days after the first look
                bought = at + timedelta(hours=float(rng.uniform(2, 48)))
                online = self._online(i)
        else:
            product = considered.pop(int(rng.integers(0, len(considered))))
            bought = at + timedelta(seconds=float(rng.uniform(60, 600)))
            self._push(at, i, "product_view", product, online)
        if rng.random() < 0.15 + 0.5 * s.impulse[i]:
            cart = bought - timedelta(seconds=float(rng.uniform(20, 50)))
            self._push(max(cart, at), i, "cart_add", product, online)
        self._push(bought, i, "purchase", product, online)
        if rng.random() < s.review_rate[i]:
            mean = self.catalogue.quality[product] + s.leniency[i]
            rating = int(np.clip(np.round(mean + rng.normal(0.0, 0.6)), 1, 5))
            later = bought + timedelta(days=float(rng.uniform(1, 10)))
            self._push(later, i, "review", product, self._online(i), rating=rating)

    def _pick(self, i: int, *, deal: bool) -> int:
        """A product this customer would look at (codes into the catalogue)."""
        s, c, rng = self.shoppers, self.catalogue, self.rng
        pool = None
        if rng.random() < s.loyalty[i]:
            brand = s.favourite_brands[i][int(rng.random() < 0.35)]
            pool = c.pool("brand", brand) if brand is not None else None
        if (pool is None or not len(pool)) and rng.random() < s.focus[i]:
            category = s.favourite_category[i]
            pool = c.pool("category", category) if category is not None else None
        if deal:
            marked = c.pool("marked_down", True)
            pool = np.intersect1d(pool, marked) if pool is not None and len(pool) else marked
        if pool is None or not len(pool):
            return int(rng.choice(len(c.p), p=c.p))
        w = c.weight[pool]
        return int(pool[rng.choice(len(pool), p=w / w.sum())])

    def _query(self, product: int) -> str:
        c = self.catalogue
        words = [w for w in (c.brand[product], c.category[product]) if w]
        return " ".join(str(w).lower() for w in words) or "gift ideas"

    def _online(self, i: int, mobile: bool | None = None) -> dict[str, Any]:
        rng = self.rng
        on_phone = bool(rng.random() < self.shoppers.mobile[i]) if mobile is None else mobile
        if on_phone:
            channel = ("mobile_web", "ios", "android")[int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
            return {"channel": channel, "device": "mobile"}
        return {"channel": "web", "device": "tablet" if rng.random() < 0.2 else "desktop"}

    def _weather(self, location: str | None, at: datetime) -> str | None:
        mix = self.shoppers.weather.get(location or "")
        if mix is None:
            return None
        key = (str(location), at.toordinal())
        if key not in self._weather_cache:
            # one draw per city and day, the same whichever customer asks first
            day_rng = np.random.default_rng(
                [self.seed, zlib.crc32(str(location).encode()), at.toordinal()]
            )
            names, probs = mix
            self._weather_cache[key] = names[int(day_rng.choice(len(names), p=probs))]
        return self._weather_cache[key]

    def _id(self, product: int) -> str:
        return str(self.catalogue.product_ids[product])

    def _push(
        self,
        at: datetime,
        i: int,
        kind: str,
        product: int | None,
        online: dict[str, Any],
        **extra: Any,
    ) -> None:
        event = {
            "event_type": kind,
            "customer_id": str(self.shoppers.customer_ids[i]),
            "product_id": self._id(product) if product is not None else None,
            "occurred_at": at,
            "location": self.shoppers.locations[i],
            **online,
            **extra,
        }
        heapq.heappush(self._queue, (at, self._n, self._finish(event)))

    def _finish(self, event: dict[str, Any], suffix: str = "") -> dict[str, Any]:
        self._n += 1
        at: datetime = event["occurred_at"]
        event["weather"] = self._weather(event.get("location"), at)
        event["event_id"] = f"{self._prefix}-{suffix}{self._n:07d}"
        event["occurred_at"] = at.isoformat(timespec="microseconds")
        return {k: v for k, v in event.items() if v is not None}


__all__ = ["INJECTABLE", "SLOT_MINUTES", "Catalogue", "Shoppers", "Simulation"]

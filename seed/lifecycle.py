"""Product lifecycles: how often a product is bought again, when it is on sale at all.

Every item noun of :data:`seed.world.CATEGORIES` has a repurchase class:

* ``consumable``: used up and replenished on a cycle of days to weeks (coffee
  beans every two weeks, dog food monthly). A customer who buys one may adopt
  it as a *staple* and rebuy it about every cycle, on their next order after it
  falls due, until they drop it;
* ``semi_durable``: worn out or replaced after months (t-shirts, running
  shoes): never rebought within its cycle;
* ``durable``: bought once (a kite, a coffee maker, a novel); a customer who
  owns one does not buy it again.

Each product also has a launch day (most are on sale from the start, some are
launched partway through) and may be out of stock for a stretch (some still are
at the end of the market: ``products.in_stock`` is false for them). Nobody buys
a product before its launch or while it is out of stock.

:func:`assign_products` turns the pool draws of :mod:`seed.orders` (several
candidate products per order line) into the bought products, one customer's
orders at a time in time order: due staples take lines first, then each line
takes its first candidate the customer can and would buy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CONSUMABLE, SEMI_DURABLE, DURABLE = 0, 1, 2
CLASSES = ("consumable", "semi_durable", "durable")

# noun -> (class, typical cycle in days); a noun not listed is durable.
REPURCHASE: dict[str, tuple[int, float]] = {
    # Grocery: replenished every one to five weeks.
    "Coffee Beans": (CONSUMABLE, 14),
    "Green Tea": (CONSUMABLE, 21),
    "Granola": (CONSUMABLE, 12),
    "Ice Cream": (CONSUMABLE, 10),
    "Hot Chocolate": (CONSUMABLE, 21),
    "Snack Mix": (CONSUMABLE, 10),
    "Sparkling Water": (CONSUMABLE, 7),
    "Tomato Soup": (CONSUMABLE, 14),
    "Olive Oil": (CONSUMABLE, 35),
    "Dark Chocolate": (CONSUMABLE, 12),
    # Beauty and health: bottles and packs that run out in a month or two.
    "Sunscreen": (CONSUMABLE, 40),
    "Moisturizer": (CONSUMABLE, 45),
    "Lip Balm": (CONSUMABLE, 40),
    "Shampoo": (CONSUMABLE, 35),
    "Night Cream": (CONSUMABLE, 50),
    "Face Wash": (CONSUMABLE, 35),
    "After-Sun Gel": (CONSUMABLE, 60),
    "Perfume": (SEMI_DURABLE, 150),
    "Multivitamin": (CONSUMABLE, 30),
    "Cold Remedy": (CONSUMABLE, 60),
    "Sleep Aid": (CONSUMABLE, 30),
    "Allergy Relief": (CONSUMABLE, 30),
    "Electrolyte Mix": (CONSUMABLE, 21),
    "Hand Warmers": (CONSUMABLE, 30),
    # Pets eat every day.
    "Dog Food": (CONSUMABLE, 28),
    "Cat Litter": (CONSUMABLE, 21),
    "Chew Toy": (SEMI_DURABLE, 90),
    # Home and hobby consumables.
    "Scented Candle": (CONSUMABLE, 45),
    "Snowboard Wax": (CONSUMABLE, 60),
    "Seed Kit": (SEMI_DURABLE, 120),
    "Coffee Mug": (SEMI_DURABLE, 365),
    # Clothes and kit that wear out.
    "T-Shirt": (SEMI_DURABLE, 120),
    "Jeans": (SEMI_DURABLE, 240),
    "Shorts": (SEMI_DURABLE, 240),
    "Hoodie": (SEMI_DURABLE, 240),
    "Linen Shirt": (SEMI_DURABLE, 240),
    "Pajamas": (SEMI_DURABLE, 200),
    "Running Shoes": (SEMI_DURABLE, 240),
    "Swim Goggles": (SEMI_DURABLE, 240),
    "Phone Charger": (SEMI_DURABLE, 300),
}

ADOPT = 0.45
"""Chance that a first purchase of a consumable becomes one of the customer's staples."""
KEEP = 0.85
"""Chance that a staple is kept after each rebuy (so staples last a few cycles to a year)."""
MAX_STAPLES = 4
"""Staples one customer keeps at once (a general store is not their only shop)."""
LAUNCHED_LATE = 0.12
"""Share of products first sold partway through the market."""
STOCKOUT = 0.08
"""Share of products out of stock for a stretch (about a third of them to the end)."""


@dataclass
class Lifecycles:
    """Per-product lifecycle arrays (length = number of products).

    ``cls`` the repurchase class, ``cycle`` days (inf for durables), ``launch``
    the first day on sale (market day index, 0 = from the start),
    ``out_from``/``out_to`` a day range out of stock (empty when equal).
    """

    cls: np.ndarray
    cycle: np.ndarray
    launch: np.ndarray
    out_from: np.ndarray
    out_to: np.ndarray

    def available(self, product: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether each product is on sale on each (market) day."""
        return (self.launch[product] <= day) & ~(
            (self.out_from[product] <= day) & (day < self.out_to[product])
        )


def draw_lifecycles(rng: np.random.Generator, nouns: np.ndarray, days: int) -> Lifecycles:
    """Repurchase class and cycle per product (from its noun), launch and stock-out days."""
    n = len(nouns)
    spec = [REPURCHASE.get(str(noun), (DURABLE, np.inf)) for noun in nouns]
    cls = np.array([c for c, _ in spec], dtype=np.int64)
    # One product's cycle differs a little from its noun's (pack sizes).
    cycle = np.array([d for _, d in spec], dtype=float) * rng.lognormal(0.0, 0.15, n)
    late = rng.random(n) < LAUNCHED_LATE
    launch = np.where(late, rng.integers(1, max(days - 30, 2), n), 0).astype(np.int64)
    out = rng.random(n) < STOCKOUT
    start = launch + (rng.random(n) * np.maximum(days - launch, 1)).astype(np.int64)
    length = rng.integers(7, 60, n)
    to_end = rng.random(n) < 0.35
    never = np.iinfo(np.int64).max
    out_from = np.where(out, start, never)
    out_to = np.where(out, np.where(to_end, never, start + length), never)
    return Lifecycles(cls=cls, cycle=cycle, launch=launch, out_from=out_from, out_to=out_to)


def in_stock_at_end(lc: Lifecycles) -> np.ndarray:
    """True unless the product's stock-out runs to the end of the market."""
    never = np.iinfo(np.int64).max
    return ~((lc.out_from < never) & (lc.out_to == never))


def lifecycle_frame(lc: Lifecycles, product_ids: np.ndarray, start: np.datetime64) -> pd.DataFrame:
    """The hidden lifecycle of every product, for tests and docs (not written to the store).

    Columns: ``product_id, repurchase_class`` (:data:`CLASSES`), ``cycle_days`` (NaN for
    durables), ``on_sale_from`` (its launch), ``out_of_stock_from``, ``out_of_stock_to``
    (NaT without a stock-out; ``out_of_stock_to`` NaT with a ``from``: out to the end).
    """
    never = np.iinfo(np.int64).max

    def day(values: np.ndarray) -> np.ndarray:
        stamps = start + np.where(values == never, 0, values).astype("timedelta64[D]")
        return np.where(values == never, np.datetime64("NaT"), stamps).astype("datetime64[ns]")

    return pd.DataFrame(
        {
            "product_id": product_ids,
            "repurchase_class": np.array(CLASSES, dtype=object)[lc.cls],
            "cycle_days": np.where(lc.cls == DURABLE, np.nan, lc.cycle).round(1),
            "on_sale_from": day(lc.launch),
            "out_of_stock_from": day(lc.out_from),
            "out_of_stock_to": day(lc.out_to),
        }
    )


def assign_products(
    rng: np.random.Generator,
    lc: Lifecycles,
    order_cust: np.ndarray,
    order_secs: np.ndarray,
    line_order: np.ndarray,
    candidates: np.ndarray,
    speed: np.ndarray,
    popular: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The product of every order line, following the products' lifecycles.

    Args:
        rng: the market's generator.
        lc: the products' lifecycles.
        order_cust, order_secs: each order's customer and time (seconds since the start).
        line_order: each line's order (lines of one order are contiguous).
        candidates: ``(lines, K)`` products drawn from each line's pool, in preference order.
        speed: per customer, how fast they use consumables up (multiplies cycles).
        popular: every product, most popular first: a line whose candidates are all
            owned durables or off sale takes the first of these the customer can buy.

    Returns:
        ``(product, rebuy)``: the bought product per line, and whether the line is a
        staple's replenishment (not a choice from the pool). Every product is on sale
        when bought, and nobody buys a durable they already own.
    """
    day_secs = 86_400
    m = len(candidates)
    product = candidates[:, 0].copy()
    by_customer = np.lexsort((order_secs, order_cust))
    first_line = np.searchsorted(line_order, np.arange(len(order_cust)))
    last_line = np.searchsorted(line_order, np.arange(len(order_cust)), side="right")
    # Per-line random numbers drawn up front (the loop only reads them).
    adopt_u = rng.random(m).tolist()
    keep_u = rng.random(m).tolist()
    jitter = rng.gamma(8.0, 1.0 / 8.0, m).tolist()
    cls, cycle = lc.cls.tolist(), lc.cycle.tolist()
    launch, out_from, out_to = lc.launch.tolist(), lc.out_from.tolist(), lc.out_to.tolist()
    cand = candidates.tolist()
    popular_list = popular.tolist()
    cust_of, secs_of = order_cust.tolist(), order_secs.tolist()
    first_of, last_of = first_line.tolist(), last_line.tolist()
    speed_of = speed.tolist()
    out_product = product.tolist()
    out_rebuy = [False] * m

    current = -1
    last_bought: dict[int, float] = {}
    staples: dict[int, float] = {}  # product -> due (seconds)
    for o in by_customer.tolist():
        c = cust_of[o]
        if c != current:
            current, last_bought, staples = c, {}, {}
        t = secs_of[o]
        day = t // day_secs
        lo, hi = first_of[o], last_of[o]
        in_order: set[int] = set()
        free = list(range(lo, hi))
        # Due staples first (the most overdue first), one line each.
        if staples:
            due = sorted((d, p) for p, d in staples.items() if d <= t)
            for _, p in due:
                if not free:
                    break
                if not (launch[p] <= day and not (out_from[p] <= day < out_to[p])):
                    continue  # out of stock: bought when it is back
                line = free.pop()
                out_product[line], out_rebuy[line] = p, True
                in_order.add(p)
                last_bought[p] = t
                if keep_u[line] < KEEP:
                    staples[p] = t + cycle[p] * speed_of[c] * jitter[line] * day_secs
                else:
                    del staples[p]
        for line in free:
            chosen = -1
            fallback = -1  # a consumable or semi-durable bought again early
            for p in cand[line]:
                if p in in_order or not (launch[p] <= day and not (out_from[p] <= day < out_to[p])):
                    continue
                seen = last_bought.get(p)
                if seen is not None and cls[p] == DURABLE:
                    continue  # owned: never bought again
                if fallback < 0:
                    fallback = p
                if seen is not None and t - seen < cycle[p] * speed_of[c] * day_secs:
                    continue  # not worn out / used up yet
                chosen = p
                break
            if chosen < 0:
                chosen = fallback
            if chosen < 0:
                for p in popular_list:
                    if (
                        p not in in_order
                        and launch[p] <= day
                        and not (out_from[p] <= day < out_to[p])
                        and not (cls[p] == DURABLE and p in last_bought)
                    ):
                        chosen = p
                        break
            out_product[line] = chosen
            in_order.add(chosen)
            if chosen in staples:
                # Bought early: the next one is due a cycle from now.
                staples[chosen] = t + cycle[chosen] * speed_of[c] * jitter[line] * day_secs
            elif (
                cls[chosen] == CONSUMABLE
                and chosen not in last_bought
                and len(staples) < MAX_STAPLES
                and adopt_u[line] < ADOPT
            ):
                staples[chosen] = t + cycle[chosen] * speed_of[c] * jitter[line] * day_secs
            last_bought[chosen] = t
    return np.asarray(out_product, dtype=np.int64), np.asarray(out_rebuy, dtype=bool)

"""Each customer's latent propensities: one continuous number per behaviour.

Personas (:mod:`seed.personas`) shift where a customer's propensities are drawn
from; they never fence them off. An ordinary customer can be as mobile as the
least mobile "mobile-first" one, and a weekend shopper can shop on weekdays:
the distributions overlap as they do in every real store.

The generator (:mod:`seed.market` and its stages) draws every activity from these numbers with
sampling noise on top, and ``seed --truth`` writes them (one column per score,
named as the score), so recovery is measured against what was planted, not
against a band the generator kept clear.

Scales (what each number means to the generator):

* ``weekend_shopping``, ``night_shopping``, ``mobile_usage``: the probability
  that one action (an event or an order) falls on Saturday/Sunday, between
  22:00 and 05:59, or on a mobile device;
* ``price_sensitivity``: the probability that an order line is bought with a
  discount (store promotions and markdowns included);
* ``brand_loyalty``: the probability that a line comes from one of the
  customer's two favourite brands;
* ``impulse_buying``: the probability that a product bought for the first time
  was discovered minutes before (its first view) rather than hours or days;
* ``research_intensity``: views and searches per order (the expected figure);
* ``purchase_frequency``: expected orders over the market's last 365 days;
* ``lifetime_value``: expected net spend over the market (see
  :meth:`seed.orders.OrderStage.expected_spend`).

The last two include the customer's exposure (when they signed up, when a
lapsed customer stopped), because the scores measure amounts, not rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed.personas import TraitAssignment


@dataclass(frozen=True)
class Spread:
    """Beta parameters (shares) or lognormal log-mean/log-sd (rates) of a propensity."""

    a: float
    b: float


# Shares: Beta(a, b) for ordinary customers and for the persona that shifts them.
# Means and spreads are picked from what stores report (docs/market.md): weekend
# share of orders ~30% with wide spread; night ~8%; mobile ~40% of sessions with a
# very wide spread. Coupon use, brand loyalty and impulse vary from never to always
# between shoppers (docs/market.md).
SHARES: dict[str, tuple[str, Spread, Spread]] = {
    "weekend_shopping": ("weekend_shopper", Spread(3.5, 7.5), Spread(6.0, 2.6)),
    "night_shopping": ("night_owl", Spread(1.2, 8.5), Spread(3.5, 2.5)),
    "mobile_usage": ("mobile_first", Spread(2.0, 2.8), Spread(9.0, 1.6)),
    "price_sensitivity": ("deal_seeker", Spread(1.0, 2.8), Spread(6.0, 2.0)),
    "brand_loyalty": ("brand_loyal", Spread(0.9, 1.5), Spread(7.0, 1.5)),
    "impulse_buying": ("impulse_buyer", Spread(1.0, 2.6), Spread(6.0, 2.0)),
}

CATEGORY_FOCUS = ("enthusiast", Spread(1.3, 5.5), Spread(7.0, 2.2))
"""Probability that a line or view is in the customer's favourite category."""

ORDERS_PER_YEAR = Spread(np.log(8.0), 0.55)
"""Ordinary customers' order rate (lognormal); frequent buyers' is shifted up."""
FREQUENT_SHIFT = np.log(3.2)
BASKET_SD = 0.45
"""Log-sd of the basket-value propensity; high-value customers are shifted up."""
HIGH_VALUE_SHIFT = 1.1
RESEARCH_PER_ORDER = Spread(np.log(3.0), 0.5)
RESEARCHER_SHIFT = np.log(3.5)


@dataclass
class Propensities:
    """Per-customer latent numbers (arrays of length ``n``).

    ``shares`` holds the six share propensities (names of :data:`SHARES`);
    ``orders_per_year`` the order rate while active; ``basket`` a log-scale
    basket-value propensity (0 typical); ``research`` views+searches per order;
    ``category_focus`` the share of lines/views in the favourite category.
    """

    shares: dict[str, np.ndarray]
    orders_per_year: np.ndarray
    basket: np.ndarray
    research: np.ndarray
    category_focus: np.ndarray


def _beta(rng: np.random.Generator, flag: np.ndarray, plain: Spread, shifted: Spread) -> np.ndarray:
    a = np.where(flag, shifted.a, plain.a)
    b = np.where(flag, shifted.b, plain.b)
    return rng.beta(a, b)


def draw_propensities(rng: np.random.Generator, traits: TraitAssignment) -> Propensities:
    """Draw every customer's propensities, the personas shifting their distributions.

    Args:
        rng: the market's generator.
        traits: the planted personas (:func:`seed.personas.assign_traits`).

    Returns:
        The :class:`Propensities` of each customer.
    """
    f = traits.flags
    n = len(traits.enthusiast_category)
    shares = {
        name: _beta(rng, f[flag], plain, shifted) for name, (flag, plain, shifted) in SHARES.items()
    }
    # A researcher takes time over a purchase: the impulse propensity of one is low.
    shares["impulse_buying"] = np.where(
        f["researcher"], shares["impulse_buying"] * 0.3, shares["impulse_buying"]
    )
    rate = np.exp(
        ORDERS_PER_YEAR.a
        + ORDERS_PER_YEAR.b * rng.standard_normal(n)
        + np.where(f["frequent_buyer"], FREQUENT_SHIFT, 0.0)
    )
    # Frequent shoppers buy small baskets; big spenders large ones.
    basket = (
        BASKET_SD * rng.standard_normal(n)
        + np.where(f["high_value"], HIGH_VALUE_SHIFT, 0.0)
        - np.where(f["frequent_buyer"] & ~f["high_value"], 0.35, 0.0)
    )
    research = np.exp(
        RESEARCH_PER_ORDER.a
        + RESEARCH_PER_ORDER.b * rng.standard_normal(n)
        + np.where(f["researcher"], RESEARCHER_SHIFT, 0.0)
        - np.where(f["impulse_buyer"], np.log(2.0), 0.0)
    )
    flag, plain, shifted = CATEGORY_FOCUS
    focus = _beta(rng, f[flag], plain, shifted)
    return Propensities(
        shares=shares, orders_per_year=rate, basket=basket, research=research, category_focus=focus
    )

"""The personas the synthetic market plants, and the traits they carry.

This is the seed's side of ``docs/personas.md``: each trait there is planted
here and nowhere else, with the same name the segment has. A persona shifts the
distributions of its customers' propensities (:mod:`seed.propensities`); it does
not fence them off from everyone else. A customer may
carry several traits; contradictory ones are never combined:

* ``impulse_buyer`` with ``researcher`` (quick buys vs long research),
* ``deal_seeker`` with ``brand_loyal`` (chasing discounts vs sticking to a brand),
* ``frequent_buyer`` with ``researcher`` (dozens of research events per order
  times five-fold orders would swamp the market),
* ``lapsed`` with anything else (a lapsed customer's other shares would be
  read from a short history, and "value"/"frequency" would be ambiguous).

``high_value`` and ``frequent_buyer`` come together only in the "high-value
regular" persona.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.vocabulary import slug
from seed.world import CATEGORIES


@dataclass(frozen=True)
class Persona:
    """A documented kind of customer: the traits it plants and how common it is.

    ``prevalence`` is the share of all customers drawn into this persona
    (independently of the others, before contradictions are resolved).
    """

    key: str
    label: str
    traits: tuple[str, ...]
    prevalence: float
    description: str


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "bargain_hunter",
        "Bargain hunter",
        ("deal_seeker",),
        0.12,
        "coupon propensity shifted up (mean 0.75 vs 0.26); searches for deals more",
    ),
    Persona(
        "brand_loyalist",
        "Brand loyalist",
        ("brand_loyal",),
        0.10,
        "favourite-brand propensity shifted up (mean 0.82 vs 0.38)",
    ),
    Persona(
        "impulse_buyer",
        "Impulse buyer",
        ("impulse_buyer",),
        0.10,
        "quick-buy propensity shifted up (mean 0.75 vs 0.28), half the research",
    ),
    Persona(
        "researcher",
        "Researcher",
        ("researcher",),
        0.10,
        "views and searches per order x 3.5, spread over the days before buying",
    ),
    Persona(
        "weekend_shopper",
        "Weekend shopper",
        ("weekend_shopper",),
        0.12,
        "weekend propensity shifted up (mean 0.70 vs 0.32)",
    ),
    Persona(
        "night_owl",
        "Night owl",
        ("night_owl",),
        0.10,
        "night (22:00-05:59) propensity shifted up (mean 0.58 vs 0.12)",
    ),
    Persona(
        "mobile_first",
        "Mobile-first",
        ("mobile_first",),
        0.14,
        "mobile propensity shifted up (mean 0.85 vs 0.42)",
    ),
    Persona(
        "high_value_regular",
        "High-value regular",
        ("frequent_buyer", "high_value"),
        0.03,
        "larger, pricier baskets at 3.2 times the typical order rate",
    ),
    Persona(
        "big_spender",
        "Big spender",
        ("high_value",),
        0.06,
        "larger, pricier baskets at the typical order rate",
    ),
    Persona(
        "frequent_shopper",
        "Frequent shopper",
        ("frequent_buyer",),
        0.07,
        "3.2 times the typical order rate, smaller baskets",
    ),
    Persona(
        "category_enthusiast",
        "Category enthusiast",
        ("enthusiast",),
        0.10,
        "favourite-category propensity shifted up (trait <category>_enthusiast)",
    ),
    Persona(
        "lapsed",
        "Lapsed",
        ("lapsed",),
        0.15,
        "stops all activity at a random day >= 120 days before the end of the market",
    ),
)

TRAITS: tuple[str, ...] = (
    "high_value",
    "frequent_buyer",
    "deal_seeker",
    "brand_loyal",
    "impulse_buyer",
    "researcher",
    "weekend_shopper",
    "night_owl",
    "mobile_first",
    "enthusiast",
    "lapsed",
)
"""Trait flags; ``enthusiast`` is written as ``<category slug>_enthusiast``."""

CONTRADICTIONS: tuple[tuple[str, str], ...] = (
    ("impulse_buyer", "researcher"),
    ("deal_seeker", "brand_loyal"),
    ("frequent_buyer", "researcher"),
)


@dataclass
class TraitAssignment:
    """Planted traits of ``n`` customers.

    ``flags[trait]`` is a boolean array per trait of :data:`TRAITS`;
    ``enthusiast_category`` holds the category index of each enthusiast, -1 otherwise.
    """

    flags: dict[str, np.ndarray]
    enthusiast_category: np.ndarray

    def names(self) -> list[str]:
        """Each customer's traits, sorted, ``;``-separated (``""`` for none)."""
        n = len(self.enthusiast_category)
        columns: list[np.ndarray] = []
        slugs = np.array([f"{slug(c.name)}_enthusiast" for c in CATEGORIES], dtype=object)
        for trait in TRAITS:
            if trait == "enthusiast":
                column = np.where(
                    self.flags[trait], slugs[np.maximum(self.enthusiast_category, 0)], ""
                )
            else:
                column = np.where(self.flags[trait], trait, "")
            columns.append(column.astype(object))
        # Few distinct combinations: join row-wise once per customer is cheap (n ~ 5000).
        matrix = np.stack(columns, axis=1)
        return [";".join(sorted(t for t in row if t)) for row in matrix.tolist()] if n else []


def assign_traits(
    rng: np.random.Generator, n: int, category_weights: np.ndarray
) -> TraitAssignment:
    """Draw personas for ``n`` customers and resolve contradictions.

    Args:
        rng: the market's generator.
        n: number of customers.
        category_weights: relative popularity of each category of
            :data:`seed.world.CATEGORIES`, used to pick enthusiasts' categories.

    Returns:
        The planted traits (see :class:`TraitAssignment`).
    """
    flags = {trait: np.zeros(n, dtype=bool) for trait in TRAITS}
    for persona in PERSONAS:
        drawn = rng.random(n) < persona.prevalence
        for trait in persona.traits:
            flags[trait] |= drawn
    # Holding both value traits (from either draw) is what a high-value regular is.
    lapsed = flags["lapsed"]
    for trait in TRAITS:
        if trait != "lapsed":
            flags[trait] &= ~lapsed
    for first, second in CONTRADICTIONS:
        both = flags[first] & flags[second]
        keep_first = rng.random(n) < 0.5
        flags[first] &= ~(both & ~keep_first)
        flags[second] &= ~(both & keep_first)
    weights = np.asarray(category_weights, dtype=float)
    category = rng.choice(len(weights), size=n, p=weights / weights.sum())
    enthusiast_category = np.where(flags["enthusiast"], category, -1)
    return TraitAssignment(flags=flags, enthusiast_category=enthusiast_category)

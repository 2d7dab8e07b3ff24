"""The seeded synthetic market (``personalize seed``).

Generating and writing are separate steps::

    market = generate_market(MarketConfig(customers=5000, seed=7))
    write_market(engine, market, reset=True)
    write_truth(market, "truth.csv")

``seed`` depends on ``engine`` (schema, bulk writer, errors), never the reverse.
"""

from __future__ import annotations

from seed.market import Market, MarketConfig, generate_market
from seed.personas import PERSONAS, TRAITS, Persona
from seed.writer import identity_links, write_market, write_truth

__all__ = [
    "PERSONAS",
    "TRAITS",
    "Market",
    "MarketConfig",
    "Persona",
    "generate_market",
    "identity_links",
    "write_market",
    "write_truth",
]

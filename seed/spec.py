"""What a market run takes and gives: its configuration, its frames, shared codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from engine.errors import UserError
from engine.vocabulary import CHANNELS, DEVICES, EVENT_TYPES, WEATHERS
from seed.world import (
    CATEGORIES,
    CONTEXT_TAGS,
)

ProgressFn = Callable[[str, int, int], None]

DAY = 86_400
STEPS = 6  # progress steps of one generation run
HOUR = 3_600
MINUTE = 60

# Codes into the closed vocabularies of engine.models.
CH = {name: i for i, name in enumerate(CHANNELS)}
DEV = {name: i for i, name in enumerate(DEVICES)}
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
WX = {name: i for i, name in enumerate(WEATHERS)}
TAG = {name: i for i, name in enumerate(CONTEXT_TAGS)}

NEUTRAL = 3  # price class of a draw by popularity alone (see _sample_products)
CANDIDATES = 8  # products drawn per order line (see seed.lifecycle.assign_products)


@dataclass
class MarketConfig:
    """What to generate.

    Attributes:
        customers: number of customers.
        products: number of products.
        days: length of the market in days, ending at ``end``.
        seed: seeds every random draw; the same config gives the same rows.
        end: the market's (exclusive) end; all activity is before it.
    """

    customers: int = 5000
    products: int = 1000
    days: int = 365
    seed: int = 7
    end: datetime = field(default_factory=lambda: datetime(2026, 11, 1))

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def validate(self) -> None:
        """Raise :class:`UserError` naming the first invalid value."""
        for name in ("customers", "products", "days"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise UserError(f"invalid {name} {value!r}: expected a positive integer")
        if self.products < len(CATEGORIES):
            raise UserError(
                f"invalid products {self.products}: need at least {len(CATEGORIES)} "
                "(one per category)"
            )
        for name, most in MAXIMA.items():
            if getattr(self, name) > most:
                raise UserError(f"invalid {name} {getattr(self, name):,}: at most {most:,}")
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise UserError(f"invalid seed {self.seed!r}: expected a non-negative integer")

    def estimated_rows(self) -> int:
        """About how many rows the market holds (orders, lines, events, reviews)."""
        return int(ROWS_PER_CUSTOMER_DAY * self.customers * self.days)

    def estimated_memory_bytes(self) -> int:
        """About how much memory generating and writing it takes at its peak."""
        return int(BASE_MEMORY_BYTES + BYTES_PER_ROW * self.estimated_rows())


MAXIMA = {"customers": 2_000_000, "products": 200_000, "days": 3_650}
"""The largest market ``seed`` makes: ten years of a big shop."""

# Measured on the default market (5,000 customers x 365 days: about 576,000 rows,
# 495 MB peak resident set of `personalize seed`, 147 MB of it the interpreter and
# libraries), rounded up.
ROWS_PER_CUSTOMER_DAY = 0.32
BYTES_PER_ROW = 650
BASE_MEMORY_BYTES = 160 * 2**20


@dataclass
class Market:
    """A generated market: one frame per store table plus the planted truth.

    Every table frame's columns are exactly the ORM columns of that table
    (``events`` without its autoincrement ``id``). ``truth`` has
    ``customer_id, traits`` (sorted, ``;``-separated) and one latent propensity
    per score (:meth:`seed.orders.OrderStage.latent_frame`). Hidden, not written to the store:
    ``product_quality`` (``product_id, quality``), behind the ratings, and
    ``product_lifecycle`` (:func:`seed.lifecycle.lifecycle_frame`), behind rebuys,
    launches and stock-outs.
    """

    config: MarketConfig
    customers: pd.DataFrame
    products: pd.DataFrame
    daily_weather: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    events: pd.DataFrame
    reviews: pd.DataFrame
    truth: pd.DataFrame
    product_quality: pd.DataFrame
    product_lifecycle: pd.DataFrame

    TABLES = (
        "customers",
        "products",
        "daily_weather",
        "orders",
        "order_lines",
        "events",
        "reviews",
    )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The store tables in write order (parents before children)."""
        return {name: getattr(self, name) for name in self.TABLES}

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables().items()}


def ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + 1..n zero-padded to ``width`` digits, built as bytes (no Python loop)."""
    numbers = np.arange(1, n + 1, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers[None, :]) % 10 + ord("0")
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    raw = np.concatenate([np.broadcast_to(head, (n, len(head))), digits.astype(np.uint8)], axis=1)
    text = np.ascontiguousarray(raw).view(f"S{len(head) + width}").ravel()
    return text.astype(f"U{len(head) + width}").astype(object)

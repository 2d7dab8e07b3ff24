"""The import formats of CONTRACT.md ("Import files"): columns, kinds, and accepted spellings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.events import CHOICES as EVENT_CHOICES
from engine.events import FIELD_LENGTHS as EVENT_LENGTHS
from engine.models import Customer, Order, Product, Review
from engine.vocabulary import (
    ALIASES,
    CHANNEL_ALIASES,
    CHANNELS,
    DEVICE_ALIASES,
    DEVICES,
    EVENT_TYPE_ALIASES,
)

__all__ = [
    "ALIASES",
    "CHANNEL_ALIASES",
    "DEVICE_ALIASES",
    "EVENT_TYPE_ALIASES",
    "FILE_KINDS",
    "KNOWN_CHANNELS",
    "Col",
]

FILE_KINDS = ("customers", "products", "orders", "events", "reviews")
"""The kinds of file :func:`engine.importing.import_files` reads, in the order they are written."""

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")

KNOWN_CHANNELS = CHANNELS

# Plausible magnitudes: beyond them a number is a typo or an overflow (1e308 would make
# revenue infinite), never a sale.
MAX_QUANTITY = 1_000_000.0
MAX_AMOUNT = 1_000_000_000.0


@dataclass(frozen=True)
class Col:
    """One column of an import format and how its values are checked.

    ``kind``: id | text | number | nonnegative | rating | timestamp | bool | tags |
    choice | label (free text spelled the canonical way: lower case, underscores).
    ``required``: the column must be in the header; ``nonempty``: every cell too.
    """

    name: str
    kind: str
    required: bool = False
    nonempty: bool | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    max_value: float | None = None  # largest plausible magnitude of a number

    @property
    def must_have_value(self) -> bool:
        return self.required if self.nonempty is None else self.nonempty


def _length(column: Any) -> int | None:
    return getattr(column.property.columns[0].type, "length", None)


SPECS: dict[str, tuple[Col, ...]] = {
    "orders": (
        # Empty customer ids (guest checkouts) and non-positive quantities or negative
        # prices (returns, adjustments) are readable: decisions skip them, see validate.
        Col("customer_id", "id", True, nonempty=False, max_length=_length(Customer.customer_id)),
        Col("order_id", "id", True, max_length=_length(Order.order_id)),
        Col("product_id", "id", True, max_length=_length(Product.product_id)),
        Col("quantity", "number", True, max_value=MAX_QUANTITY),
        Col("unit_price", "number", True, max_value=MAX_AMOUNT),
        Col("ordered_at", "timestamp", True),
        Col("discount", "nonnegative", max_value=MAX_AMOUNT),
        Col("channel", "label", max_length=_length(Order.channel)),
        Col("device", "choice", choices=DEVICES),
        Col("location", "text", max_length=_length(Order.location)),
    ),
    "products": (
        Col("product_id", "id", True, max_length=_length(Product.product_id)),
        Col("name", "text", max_length=_length(Product.name)),
        Col("category", "text", max_length=_length(Product.category)),
        Col("brand", "text", max_length=_length(Product.brand)),
        Col("price", "nonnegative", max_value=MAX_AMOUNT),
        Col("list_price", "nonnegative", max_value=MAX_AMOUNT),
        Col("tags", "tags", max_length=_length(Product.tags)),
        Col("region", "text", max_length=_length(Product.region)),
        Col("in_stock", "bool"),
    ),
    # An event's columns are engine.events' fields: the same lengths and valid values
    # as track() and the API (tests/engine/test_event_rules.py holds them equal).
    "events": (
        Col("event_type", "choice", True, choices=EVENT_CHOICES["event_type"]),
        Col("occurred_at", "timestamp", True),
        *(
            Col(name, "id", max_length=EVENT_LENGTHS[name])
            for name in ("customer_id", "anonymous_id", "event_id", "product_id")
        ),
        Col("query", "text", max_length=EVENT_LENGTHS["query"]),
        Col("channel", "label", max_length=EVENT_LENGTHS["channel"]),
        Col("device", "choice", choices=EVENT_CHOICES["device"]),
        Col("location", "text", max_length=EVENT_LENGTHS["location"]),
        Col("weather", "choice", choices=EVENT_CHOICES["weather"]),
        Col("rating", "rating"),
    ),
    "reviews": (
        Col("customer_id", "id", True, max_length=_length(Customer.customer_id)),
        Col("product_id", "id", True, max_length=_length(Product.product_id)),
        Col("rating", "rating", True),
        Col("reviewed_at", "timestamp", True),
        Col("review_id", "id", max_length=_length(Review.review_id)),
        Col("text", "text"),
    ),
    "customers": (
        Col("customer_id", "id", True, max_length=_length(Customer.customer_id)),
        Col("name", "text", max_length=_length(Customer.name)),
        Col("email", "text", max_length=_length(Customer.email)),
        Col("city", "text", max_length=_length(Customer.city)),
        Col("region", "text", max_length=_length(Customer.region)),
        Col("country", "text", max_length=_length(Customer.country)),
        Col("signup_at", "timestamp"),
    ),
}

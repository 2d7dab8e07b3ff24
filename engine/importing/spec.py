"""The import formats of CONTRACT.md ("Import files"): columns, kinds, and accepted spellings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.models import (
    CHANNELS,
    DEVICES,
    EVENT_TYPES,
    WEATHERS,
    Customer,
    Event,
    Order,
    Product,
    Review,
)

FILE_KINDS = ("customers", "products", "orders", "events", "reviews")
"""The kinds of file :func:`engine.importing.import_files` reads, in the order they are written."""

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")

# Spellings real exports use for the contract's values (keys already lower-cased, with
# spaces and hyphens turned into underscores). RetailRocket-style "view / addtocart /
# transaction" and GA-style "page_view / add_to_cart" are the common ones.
EVENT_TYPE_ALIASES: dict[str, str] = {
    "view": "product_view", "page_view": "product_view", "pageview": "product_view",
    "product_detail": "product_view", "detail": "product_view", "productview": "product_view",
    "addtocart": "cart_add", "add_to_cart": "cart_add", "cart": "cart_add",
    "add_to_basket": "cart_add", "basket_add": "cart_add",
    "addtowishlist": "wishlist_add", "add_to_wishlist": "wishlist_add",
    "wishlist": "wishlist_add",
    "transaction": "purchase", "order": "purchase", "buy": "purchase",
    "checkout_complete": "purchase",
    "query": "search", "rating": "review",
}
CHANNEL_ALIASES: dict[str, str] = {
    "mobileweb": "mobile_web", "m_web": "mobile_web", "mweb": "mobile_web",
    "in_store": "store", "instore": "store", "shop": "store", "pos": "store",
    "e_mail": "email", "newsletter": "email",
    "iphone": "ios", "ipad": "ios", "ios_app": "ios", "android_app": "android",
    "online": "web", "website": "web", "www": "web", "desktop_web": "web",
}
DEVICE_ALIASES: dict[str, str] = {
    "phone": "mobile", "smartphone": "mobile", "mobile_phone": "mobile",
    "pc": "desktop", "computer": "desktop", "laptop": "desktop", "ipad": "tablet",
}
ALIASES: dict[str, dict[str, str]] = {
    "event_type": EVENT_TYPE_ALIASES,
    "channel": CHANNEL_ALIASES,
    "device": DEVICE_ALIASES,
}
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
    "events": (
        Col("event_type", "choice", True, choices=EVENT_TYPES),
        Col("occurred_at", "timestamp", True),
        Col("customer_id", "id", max_length=_length(Customer.customer_id)),
        Col("anonymous_id", "id", max_length=_length(Event.anonymous_id)),
        Col("event_id", "id", max_length=_length(Event.event_id)),
        Col("product_id", "id", max_length=_length(Product.product_id)),
        Col("query", "text", max_length=_length(Event.query)),
        Col("channel", "label", max_length=_length(Event.channel)),
        Col("device", "choice", choices=DEVICES),
        Col("location", "text", max_length=_length(Event.location)),
        Col("weather", "choice", choices=WEATHERS),
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

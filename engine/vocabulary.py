"""The store's vocabulary: every enumeration and time bucket, defined once.

Event types, channels (and which count as mobile), devices, weathers, times of day,
the night and weekend rules, the accepted spellings of real exports, and the slug
of a category. The schema (:mod:`engine.models`, its generated activity flags), the
scores, the recommenders' context, the importer, ``track()``, the seed and the
dashboard all read them from here; nobody redefines them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only for the frame helpers: the CLI must start fast
    import pandas as pd

EVENT_TYPES = ("product_view", "search", "cart_add", "wishlist_add", "purchase", "review")
CHANNELS = ("web", "mobile_web", "ios", "android", "store", "email")
MOBILE_CHANNELS = ("mobile_web", "ios", "android")
"""Channels that count as mobile activity whatever the device."""
DEVICES = ("desktop", "mobile", "tablet")
MOBILE_DEVICE = "mobile"
WEATHERS = ("sunny", "cloudy", "rainy", "snowy", "hot", "cold")
TIMES_OF_DAY = ("morning", "afternoon", "evening", "night")

NIGHT_HOURS = (22, 6)
"""Night is from 22:00 up to (not including) 06:00, store clock (UTC as stored): the
scores' night-shopping share and the recommenders' ``night`` time of day alike."""
NIGHT_HOUR_LIST = (*range(NIGHT_HOURS[0], 24), *range(0, NIGHT_HOURS[1]))
"""The hours of the night in clock order from its start: 22, 23, 0, ..., 5."""
TIME_OF_DAY_HOURS: Mapping[str, tuple[int, int]] = {
    "morning": (NIGHT_HOURS[1], 12),
    "afternoon": (12, 17),
    "evening": (17, NIGHT_HOURS[0]),
}
"""``[first, end)`` hours of each daytime bucket; every other hour is ``night``."""
WEEKEND_DAYS = (5, 6)
"""Saturday and Sunday (``datetime.weekday()`` numbering)."""

# Spellings real exports use for the contract's values (keys already lower-cased, with
# spaces and hyphens turned into underscores). RetailRocket-style "view / addtocart /
# transaction" and GA-style "page_view / add_to_cart" are the common ones.
EVENT_TYPE_ALIASES: dict[str, str] = {
    "view": "product_view",
    "page_view": "product_view",
    "pageview": "product_view",
    "product_detail": "product_view",
    "detail": "product_view",
    "productview": "product_view",
    "addtocart": "cart_add",
    "add_to_cart": "cart_add",
    "cart": "cart_add",
    "add_to_basket": "cart_add",
    "basket_add": "cart_add",
    "addtowishlist": "wishlist_add",
    "add_to_wishlist": "wishlist_add",
    "wishlist": "wishlist_add",
    "transaction": "purchase",
    "order": "purchase",
    "buy": "purchase",
    "checkout_complete": "purchase",
    "query": "search",
    "rating": "review",
}
CHANNEL_ALIASES: dict[str, str] = {
    "mobileweb": "mobile_web",
    "m_web": "mobile_web",
    "mweb": "mobile_web",
    "in_store": "store",
    "instore": "store",
    "shop": "store",
    "pos": "store",
    "e_mail": "email",
    "newsletter": "email",
    "iphone": "ios",
    "ipad": "ios",
    "ios_app": "ios",
    "android_app": "android",
    "online": "web",
    "website": "web",
    "www": "web",
    "desktop_web": "web",
}
DEVICE_ALIASES: dict[str, str] = {
    "phone": "mobile",
    "smartphone": "mobile",
    "mobile_phone": "mobile",
    "pc": "desktop",
    "computer": "desktop",
    "laptop": "desktop",
    "ipad": "tablet",
}
ALIASES: dict[str, dict[str, str]] = {
    "event_type": EVENT_TYPE_ALIASES,
    "channel": CHANNEL_ALIASES,
    "device": DEVICE_ALIASES,
}
_SEPARATORS = re.compile(r"[\s\-]+")


def canonical(field: str, value: str) -> str:
    """``value`` of ``field`` spelled the contract's way: lower case, spaces and hyphens
    as underscores, known aliases mapped (``"iPhone"`` -> ``"ios"``, ``"iOS"`` -> ``"ios"``)."""
    spelled = _SEPARATORS.sub("_", value.lower())
    return ALIASES.get(field, {}).get(spelled, spelled)


def canonical_series(raw: pd.Series, field: str) -> pd.Series:
    """:func:`canonical` over a Series of strings (the importer's columns)."""
    values = raw.str.lower().str.replace(_SEPARATORS.pattern, "_", regex=True)
    aliases = ALIASES.get(field)
    if aliases:
        values = values.map(lambda v: aliases.get(v, v))
    return values


def is_night(hour: int) -> bool:
    """Whether an hour 0..23 is at night (:data:`NIGHT_HOURS`)."""
    return hour >= NIGHT_HOURS[0] or hour < NIGHT_HOURS[1]


def is_weekend(at: datetime) -> bool:
    return at.weekday() in WEEKEND_DAYS


def is_mobile(channel: str | None, device: str | None) -> bool:
    """Mobile activity: a mobile device, or a mobile channel whatever the device."""
    return device == MOBILE_DEVICE or channel in MOBILE_CHANNELS


def hour_bucket(hour: int) -> str:
    """The time of day of an hour 0..23 (morning 6-11, afternoon 12-16, evening 17-21,
    night 22-5: the night of :data:`NIGHT_HOURS`)."""
    for bucket, (first, end) in TIME_OF_DAY_HOURS.items():
        if first <= hour < end:
            return bucket
    return "night"


def hour_buckets(hours: pd.Series) -> pd.Series:
    """Vectorised :func:`hour_bucket` over a Series of integer hours."""
    import pandas as pd

    out = pd.Series("night", index=hours.index, dtype=object)
    for bucket, (first, end) in TIME_OF_DAY_HOURS.items():
        out[(hours >= first) & (hours < end)] = bucket
    return out


def slug(name: str) -> str:
    """A category's slug as used in segment names: lower case, ``_`` between words
    (the seed's planted enthusiasts and the engine's segments must agree on it)."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")

"""A toy store whose right answers are worked out by hand.

As of 2024-06-01:

* ``tv`` + ``cable`` (Electronics, Voltix): c1, c2, c3 bought both 100+ days ago;
  c4 bought only the ``tv`` -> collaborative filtering must offer c4 the ``cable``.
  Popularity: ``tv`` has the most buyers (4; milk, tea and stale 3).
* ``wine`` (Drinks): bought by c5 and c6 in the last 3 days, viewed by anonymous
  visitors -> trending's first pick.
* ``milk`` (Dairy, Moo): c6 buys it every 7 days for 20 weeks -> buy-it-again's first
  pick for c6, "about every week". c1 and c2 bought it once, 130 days ago.
* c5 buys Dairy (``cheese``, ``yogurt``, brand Moo) -> content's first picks are Dairy.
* tags (``umbrella`` and ``sunglasses`` bought once each): ``umbrella`` rain,
  ``sunglasses`` sunny;hot, ``coffee`` morning, ``tea`` evening,
  ``wine`` evening;night -> contextual's first pick when rainy is the umbrella.
* ``stale`` (Dairy) is out of stock but bought a lot: never shown.
* c5 rated Moo products 1 star lately (dissatisfied); ``tea`` is rated 5 by others.
* c7 only viewed ``cheese`` once (a new customer); c8 exists with no history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from engine.recommend.base import StoreData

AS_OF = datetime(2024, 6, 1)

PRODUCTS = pd.DataFrame(
    [
        # product_id, name, category, brand, price, tags, region, in_stock
        ("tv", "Voltix Smart TV", "Electronics", "Voltix", 500.0, None, None, True),
        ("cable", "Voltix HDMI Cable", "Electronics", "Voltix", 10.0, None, None, True),
        ("wine", "Red Wine Bottle", "Drinks", "Vino", 12.0, "evening;night", None, True),
        ("milk", "Moo Whole Milk", "Dairy", "Moo", 1.5, "morning", None, True),
        ("cheese", "Moo Cheddar Cheese", "Dairy", "Moo", 4.0, None, None, True),
        ("yogurt", "Moo Greek Yogurt", "Dairy", "Moo", 2.0, "morning", None, True),
        ("butter", "Creamy Butter", "Dairy", "Dairyland", 3.0, None, None, True),
        ("umbrella", "Compact Umbrella", "Outdoor", "Shelter", 15.0, "rain", None, True),
        ("sunglasses", "Sunglasses", "Outdoor", "Shelter", 25.0, "sunny;hot", None, True),
        ("coffee", "Morning Coffee Beans", "Drinks", "Bean", 8.0, "morning", None, True),
        ("tea", "Evening Herbal Tea", "Drinks", "Leaf", 5.0, "evening", None, True),
        ("stale", "Moo Old Cream", "Dairy", "Moo", 2.5, None, None, False),
    ],
    columns=["product_id", "name", "category", "brand", "price", "tags", "region", "in_stock"],
)

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [f"c{i}" for i in range(1, 9)],
        "city": [
            "Seattle",
            "Seattle",
            "Portland",
            "Portland",
            "Seattle",
            "Seattle",
            "Portland",
            "Seattle",
        ],
        "region": [
            "Washington",
            "Washington",
            "Oregon",
            "Oregon",
            "Washington",
            "Washington",
            "Oregon",
            "Washington",
        ],
        "country": ["USA"] * 8,
    }
)


def _lines() -> pd.DataFrame:
    rows: list[tuple[str, str, datetime]] = []
    long_ago = AS_OF - timedelta(days=120)
    for c in ("c1", "c2", "c3"):
        rows += [(c, "tv", long_ago), (c, "cable", long_ago + timedelta(hours=1))]
    rows.append(("c4", "tv", long_ago + timedelta(days=2)))
    for week in range(20):
        rows.append(("c6", "milk", AS_OF - timedelta(days=3 + 7 * week)))
    for c in ("c1", "c2"):
        rows.append((c, "milk", long_ago - timedelta(days=10)))
    for c in ("c5", "c6"):
        rows.append((c, "wine", AS_OF - timedelta(days=2)))
    for day in (10, 40, 70):
        rows += [
            ("c5", "cheese", AS_OF - timedelta(days=day)),
            ("c5", "yogurt", AS_OF - timedelta(days=day + 1)),
        ]
    for c in ("c1", "c2", "c3"):
        rows.append((c, "stale", AS_OF - timedelta(days=5)))
    for c in ("c1", "c2", "c3"):
        rows.append((c, "tea", long_ago + timedelta(days=5)))
    rows.append(("c3", "umbrella", AS_OF - timedelta(days=50)))
    rows.append(("c4", "sunglasses", AS_OF - timedelta(days=50)))
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "ordered_at"])
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["line_no"] = 0
    frame["quantity"] = 1.0
    frame["unit_price"] = frame["product_id"].map(PRODUCTS.set_index("product_id")["price"])
    frame["discount"] = 0.0
    return frame


def _events() -> pd.DataFrame:
    rows = [
        (None, f"anon{i}", "product_view", "wine", AS_OF - timedelta(hours=5 + i)) for i in range(6)
    ]
    rows.append(("c7", None, "product_view", "cheese", AS_OF - timedelta(days=1)))
    frame = pd.DataFrame(
        rows, columns=["customer_id", "anonymous_id", "event_type", "product_id", "occurred_at"]
    )
    frame["id"] = range(len(frame))
    return frame


def _reviews() -> pd.DataFrame:
    rows = [
        ("c5", "cheese", 1, AS_OF - timedelta(days=9)),
        ("c5", "yogurt", 1, AS_OF - timedelta(days=8)),
    ]
    rows += [(c, "tea", 5, AS_OF - timedelta(days=60)) for c in ("c1", "c2", "c3")]
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "rating", "reviewed_at"])
    frame["review_id"] = [f"r{i}" for i in range(len(frame))]
    return frame


def toy_store(*, tags: bool = True) -> StoreData:
    """The toy store as of :data:`AS_OF` (``tags=False`` strips every context tag)."""
    products = PRODUCTS.copy()
    if not tags:
        products["tags"] = None
    return StoreData.from_frames(
        as_of=AS_OF,
        products=products,
        order_lines=_lines(),
        events=_events(),
        reviews=_reviews(),
        customers=CUSTOMERS,
    )

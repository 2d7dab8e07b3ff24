"""The fixed world the synthetic market lives in: cities and their climate, the
catalogue's categories (with item nouns and context tags), brand names and
search words.

These are constants, not random draws, so two markets of different seeds still
share one geography and one vocabulary; the seed decides everything else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A city customers live in, with the parameters of its (made-up) climate.

    ``mean_temp``/``amplitude`` give the seasonal temperature curve in °C,
    ``wet`` the base daily chance of precipitation, ``southern`` flips seasons.
    """

    name: str
    region: str
    country: str
    weight: float
    mean_temp: float
    amplitude: float
    wet: float
    southern: bool = False


CITIES: tuple[City, ...] = (
    City("Seattle", "Washington", "USA", 5, 11.5, 7.5, 0.50),
    City("Portland", "Oregon", "USA", 3, 12.5, 8.5, 0.42),
    City("San Francisco", "California", "USA", 5, 14.5, 3.5, 0.20),
    City("Los Angeles", "California", "USA", 8, 18.5, 5.0, 0.08),
    City("Phoenix", "Arizona", "USA", 4, 24.5, 10.5, 0.05),
    City("Denver", "Colorado", "USA", 3, 10.5, 11.5, 0.16),
    City("Chicago", "Illinois", "USA", 7, 10.0, 14.0, 0.30),
    City("Minneapolis", "Minnesota", "USA", 3, 7.5, 16.0, 0.27),
    City("New York", "New York", "USA", 10, 13.0, 12.0, 0.30),
    City("Boston", "Massachusetts", "USA", 4, 11.0, 12.5, 0.30),
    City("Miami", "Florida", "USA", 4, 25.5, 4.0, 0.35),
    City("Austin", "Texas", "USA", 3, 21.0, 9.0, 0.20),
    City("Atlanta", "Georgia", "USA", 4, 17.5, 9.5, 0.30),
    City("Toronto", "Ontario", "Canada", 5, 9.0, 13.5, 0.30),
    City("Montreal", "Quebec", "Canada", 3, 7.0, 15.0, 0.32),
    City("Vancouver", "British Columbia", "Canada", 3, 11.0, 7.5, 0.48),
    City("London", "England", "United Kingdom", 8, 11.5, 7.0, 0.40),
    City("Manchester", "England", "United Kingdom", 3, 10.5, 6.5, 0.48),
    City("Sydney", "New South Wales", "Australia", 4, 18.5, 5.0, 0.28, southern=True),
)

CONTEXT_TAGS: tuple[str, ...] = (
    "rain",
    "cold",
    "hot",
    "sunny",
    "snow",
    "morning",
    "evening",
    "night",
)


@dataclass(frozen=True)
class Category:
    """A catalogue category: typical price, relative size and its item nouns.

    ``items`` pairs a noun with its context tags (``;``-separated, may be empty).
    """

    name: str
    median_price: float
    share: float
    items: tuple[tuple[str, str], ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Electronics",
        55.0,
        1.0,
        (
            ("Headphones", ""),
            ("Phone Charger", ""),
            ("Bluetooth Speaker", "sunny"),
            ("Smartwatch", "morning"),
            ("Power Bank", ""),
            ("Keyboard", ""),
            ("Gaming Headset", "night"),
            ("Webcam", ""),
            ("Reading Light", "night;evening"),
        ),
    ),
    Category(
        "Apparel",
        38.0,
        1.2,
        (
            ("T-Shirt", "hot;sunny"),
            ("Jeans", ""),
            ("Raincoat", "rain"),
            ("Puffer Jacket", "cold;snow"),
            ("Shorts", "hot;sunny"),
            ("Wool Sweater", "cold"),
            ("Rain Boots", "rain"),
            ("Hoodie", "cold"),
            ("Linen Shirt", "hot"),
            ("Pajamas", "night;evening"),
        ),
    ),
    Category(
        "Home",
        30.0,
        1.1,
        (
            ("Coffee Maker", "morning"),
            ("Blender", ""),
            ("Coffee Mug", "morning"),
            ("Cookware Set", ""),
            ("Scented Candle", "evening"),
            ("Throw Blanket", "cold;evening"),
            ("Desk Lamp", "night"),
            ("Electric Fan", "hot"),
            ("Space Heater", "cold;snow"),
            ("Dehumidifier", "rain"),
        ),
    ),
    Category(
        "Beauty",
        18.0,
        0.9,
        (
            ("Sunscreen", "hot;sunny"),
            ("Moisturizer", "cold"),
            ("Lip Balm", "cold"),
            ("Shampoo", ""),
            ("Night Cream", "night;evening"),
            ("Perfume", "evening"),
            ("Face Wash", "morning"),
            ("After-Sun Gel", "hot;sunny"),
        ),
    ),
    Category(
        "Sports",
        42.0,
        0.9,
        (
            ("Yoga Mat", "morning"),
            ("Running Shoes", "morning"),
            ("Water Bottle", "hot;sunny"),
            ("Camping Tent", "sunny"),
            ("Ski Gloves", "snow;cold"),
            ("Cycling Jacket", "rain"),
            ("Dumbbells", ""),
            ("Swim Goggles", "hot;sunny"),
            ("Snowboard Wax", "snow"),
        ),
    ),
    Category(
        "Grocery",
        9.0,
        1.2,
        (
            ("Coffee Beans", "morning"),
            ("Green Tea", "morning;cold"),
            ("Granola", "morning"),
            ("Ice Cream", "hot"),
            ("Hot Chocolate", "cold;snow;evening"),
            ("Snack Mix", "night;evening"),
            ("Sparkling Water", "hot;sunny"),
            ("Tomato Soup", "cold;rain"),
            ("Olive Oil", ""),
            ("Dark Chocolate", "evening"),
        ),
    ),
    Category(
        "Books",
        16.0,
        0.8,
        (
            ("Novel", "evening;night"),
            ("Cookbook", ""),
            ("Travel Guide", "sunny"),
            ("Mystery Novel", "night;rain"),
            ("Picture Book", "evening"),
            ("Puzzle Book", "rain"),
        ),
    ),
    Category(
        "Toys",
        26.0,
        0.8,
        (
            ("Board Game", "evening;rain"),
            ("Jigsaw Puzzle", "rain;evening"),
            ("Water Blaster", "hot;sunny"),
            ("Sled", "snow"),
            ("Kite", "sunny"),
            ("Building Blocks", ""),
            ("Plush Bear", "night"),
        ),
    ),
    Category(
        "Garden",
        28.0,
        0.7,
        (
            ("Garden Hose", "hot;sunny"),
            ("Planter", "sunny"),
            ("Patio Chair", "sunny"),
            ("Snow Shovel", "snow;cold"),
            ("Seed Kit", "sunny"),
            ("Rain Barrel", "rain"),
            ("Pruning Shears", ""),
        ),
    ),
    Category(
        "Pet Supplies",
        20.0,
        0.7,
        (
            ("Dog Food", ""),
            ("Cat Litter", ""),
            ("Dog Raincoat", "rain"),
            ("Chew Toy", ""),
            ("Pet Bed", "cold;night"),
            ("Cooling Mat", "hot"),
            ("Cat Tree", ""),
        ),
    ),
    Category(
        "Accessories",
        24.0,
        0.9,
        (
            ("Umbrella", "rain"),
            ("Sunglasses", "sunny;hot"),
            ("Scarf", "cold"),
            ("Beanie", "cold;snow"),
            ("Backpack", ""),
            ("Wallet", ""),
            ("Sun Hat", "hot;sunny"),
            ("Winter Gloves", "cold;snow"),
        ),
    ),
    Category(
        "Health",
        15.0,
        0.8,
        (
            ("Multivitamin", "morning"),
            ("Cold Remedy", "cold"),
            ("Sleep Aid", "night"),
            ("Allergy Relief", "sunny"),
            ("Electrolyte Mix", "hot"),
            ("Hand Warmers", "cold;snow"),
            ("First Aid Kit", ""),
        ),
    ),
)

BRANDS: tuple[str, ...] = (
    "Northwind",
    "Bluepeak",
    "Cedar & Co",
    "Lumen",
    "Harbor",
    "Summit Gear",
    "Urbanist",
    "Fernwood",
    "Kestrel",
    "Solstice",
    "Brightside",
    "Oakline",
    "Pinecrest",
    "Riverstone",
    "Maple Lane",
    "Nimbus",
    "Aurora",
    "Vantage",
    "Trailhead",
    "Copperleaf",
    "Driftwood",
    "Everpure",
    "Glowhaus",
    "Ironbark",
    "Juniper",
    "Larkspur",
    "Meridian",
    "Nomad",
    "Orchard",
    "Pebble",
    "Quill",
    "Redwood",
    "Saltair",
    "Tidewater",
    "Umber",
    "Velvet Fox",
    "Willow",
    "Yarrow",
    "Zephyr",
    "Halcyon",
)

ADJECTIVES: tuple[str, ...] = (
    "Classic",
    "Essential",
    "Pro",
    "Ultra",
    "Everyday",
    "Premium",
    "Compact",
    "Deluxe",
    "Eco",
    "Smart",
    "Soft",
    "Lite",
    "Max",
    "Urban",
    "Trail",
    "Cozy",
    "Fresh",
    "Original",
)

WEATHER_GEAR: dict[str, tuple[str, ...]] = {
    "rain": ("Umbrella", "Raincoat", "Rain Boots"),
    "snow": ("Snow Shovel", "Sled", "Ski Gloves", "Puffer Jacket"),
    "cold": ("Space Heater", "Hand Warmers", "Wool Sweater", "Hot Chocolate"),
    "hot": ("Electric Fan", "Ice Cream", "Cooling Mat", "Sunscreen"),
    "sunny": ("Sunscreen", "Sunglasses", "Sun Hat"),
}
"""Items bought *because* of the weather: among the items tagged for it they take
:data:`GEAR_WEIGHT` times their popularity's share of the weather's extra demand (an
umbrella in the rain), where a rainy-day novel only sells a little more."""
GEAR_WEIGHT = 6.0

DEAL_WORDS: tuple[str, ...] = ("sale", "deal", "discount", "clearance")

REVIEW_TEXTS: dict[int, tuple[str, ...]] = {
    1: ("Broke after a week.", "Very disappointed.", "Would not buy again."),
    2: ("Not as described.", "Below expectations.", "Quality could be better."),
    3: ("It's okay.", "Does the job.", "Average for the price."),
    4: ("Good value.", "Works well.", "Happy with it."),
    5: ("Love it!", "Excellent quality.", "Exactly what I needed."),
}

"""The live market's shoppers and catalogue, taken from a store as it is.

:func:`market_of_store` works on any store. Every customer's propensities are first
measured from their history (the sufficient statistics behind their profile: their
weekend, night and mobile shares, impulse and discount shares, brand loyalty,
research per order, orders in the last year, favourite category and brands, city,
review habit), each share shrunk toward the store's own with a few pseudo-actions so
a customer seen twice is not made a caricature. When the store is the seed's own
market (the customers and products regenerate exactly from the seed's configuration),
the planted propensities replace the measured ones: the same night owls, the same
lapsed customers (who stay lapsed), the same favourite brands, product popularity
and quality as the seed drew.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.frames import load_customers, load_products
from engine.models import DailyWeather, Event, Order, OrderLine, Product, ProfileStats, Review
from engine.profiles.stats import compute_stats
from engine.timeutil import resolve_as_of
from seed.live import Catalogue, Shoppers
from seed.market import _Generator
from seed.spec import MarketConfig

PSEUDO = 5.0
"""Pseudo-actions at the store's share added to every measured share."""
SEEDS_TRIED = (7, *range(0, 7), *range(8, 16))
"""Seeds tried when recognising the seed's market (the default first)."""


def _sql(session: Session, statement: object) -> pd.DataFrame:
    return pd.read_sql(statement, session.connection())


def _stats(session: Session) -> pd.DataFrame:
    stored = _sql(session, select(ProfileStats))
    customers = (
        session.scalar(
            select(func.count()).select_from(select(Order.customer_id).distinct().subquery())
        )
        or 0
    )
    if len(stored) and len(stored) >= 0.5 * customers:
        return stored
    return compute_stats(session, as_of=resolve_as_of(session, None))


def _shrunk(k: pd.Series, n: pd.Series) -> np.ndarray:
    prior = float(k.sum() / n.sum()) if n.sum() > 0 else 0.0
    return ((k + PSEUDO * prior) / (n + PSEUDO)).to_numpy(dtype=float)


def _favourite_brands(session: Session) -> dict[str, list[str]]:
    lines = _sql(
        session,
        select(Order.customer_id, Product.brand, func.count().label("n"))
        .join(OrderLine, OrderLine.order_id == Order.order_id)
        .join(Product, Product.product_id == OrderLine.product_id)
        .where(Product.brand.is_not(None))
        .group_by(Order.customer_id, Product.brand),
    )
    lines = lines.sort_values(["customer_id", "n", "brand"], ascending=[True, False, True])
    return {str(c): list(g["brand"].head(2)) for c, g in lines.groupby("customer_id")}


def _weather_mix(session: Session) -> dict[str, tuple[list[str], list[float]]]:
    newest = session.scalar(select(func.max(DailyWeather.day)))
    recent: Any
    if newest is not None:
        recent = (
            select(
                DailyWeather.city.label("location"),
                DailyWeather.condition.label("weather"),
                func.count().label("n"),
            )
            .where(DailyWeather.day >= newest - timedelta(days=60))
            .group_by(DailyWeather.city, DailyWeather.condition)
        )
    else:
        recent = (
            select(Event.location, Event.weather, func.count().label("n"))
            .where(Event.location.is_not(None), Event.weather.is_not(None))
            .group_by(Event.location, Event.weather)
        )
    frame = _sql(session, recent)
    out = {}
    for location, rows in frame.groupby("location"):
        n = rows["n"].to_numpy(dtype=float)
        out[str(location)] = (rows["weather"].astype(str).tolist(), (n / n.sum()).tolist())
    return out


def _catalogue(session: Session) -> Catalogue:
    products = load_products(session)
    products = products[products["in_stock"].fillna(True).astype(bool)].reset_index(drop=True)
    sold = _sql(
        session,
        select(OrderLine.product_id, func.count().label("n")).group_by(OrderLine.product_id),
    ).set_index("product_id")["n"]
    rated = _sql(
        session,
        select(Review.product_id, func.avg(Review.rating).label("r")).group_by(Review.product_id),
    ).set_index("product_id")["r"]
    ids = products["product_id"]
    price, listed = products["price"].astype(float), products["list_price"].astype(float)
    return Catalogue(
        product_ids=ids.to_numpy(dtype=object),
        category=products["category"].to_numpy(dtype=object),
        brand=products["brand"].to_numpy(dtype=object),
        marked_down=(listed.notna() & (price < listed)).to_numpy(),
        weight=ids.map(sold).fillna(0).to_numpy(dtype=float) + 0.5,
        quality=ids.map(rated)
        .fillna(float(rated.mean()) if len(rated) else 4.0)
        .astype(float)
        .to_numpy(),
    )


def _observed(session: Session) -> Shoppers:
    customers = load_customers(session)
    stats = _stats(session).set_index("customer_id").reindex(customers["customer_id"])
    stats = stats.fillna({c: 0 for c in stats.columns if c != "top_category"})
    brands = _favourite_brands(session)
    activity, orders = stats["activity"], stats["orders"].astype(float)
    research = ((stats["views"] + stats["searches"]) / orders.clip(lower=1)).to_numpy(dtype=float)
    orders_per_day = (stats["orders_365"].astype(float) / 365.0).clip(lower=0.1 / 365).to_numpy()
    mean_rating = np.where(
        stats["rating_w"] > 0,
        stats["rating_wsum"] / stats["rating_w"].where(stats["rating_w"] > 0, 1),
        np.nan,
    )
    store_rating = float(np.nanmean(mean_rating)) if np.isfinite(mean_rating).any() else 4.0
    reviews = stats["reviews"].astype(float)
    favourite = np.array(
        [(brands.get(str(c), []) + [None, None])[:2] for c in customers["customer_id"]],
        dtype=object,
    ).reshape(-1, 2)
    return Shoppers(
        customer_ids=customers["customer_id"].to_numpy(dtype=object),
        names=customers["name"].to_numpy(dtype=object),
        orders_per_day=orders_per_day,
        visits_per_day=np.clip(orders_per_day * research / 2.5, 0.2 / 365, None),
        weekend=_shrunk(stats["weekend"], activity),
        night=_shrunk(stats["night"], activity),
        mobile=_shrunk(stats["mobile"], activity),
        impulse=_shrunk(stats["quick_lines"], stats["viewed_lines"]),
        deal=_shrunk(stats["disc_lines"], stats["lines"]),
        loyalty=_shrunk(stats["top2_lines"], stats["branded_lines"]),
        focus=_shrunk(stats["top_interest"], stats["interest_total"]),
        favourite_category=stats["top_category"]
        .astype(object)
        .where(stats["top_category"].notna(), None)
        .to_numpy(dtype=object),
        favourite_brands=favourite,
        review_rate=(
            (reviews + PSEUDO * reviews.sum() / max(orders.sum(), 1.0)) / (orders + PSEUDO)
        )
        .clip(0, 0.8)
        .to_numpy(dtype=float),
        leniency=np.nan_to_num(mean_rating - store_rating) * (reviews / (reviews + 2)).to_numpy(),
        locations=customers["city"]
        .astype(object)
        .where(customers["city"].notna(), None)
        .to_numpy(dtype=object),
        weather=_weather_mix(session),
        source="observed",
    )


def _recognised(session: Session, shoppers: Shoppers) -> _Generator | None:
    """The seed's generator (its customer stage drawn) when this store is its market."""
    firsts = [session.scalar(select(func.min(c))) for c in (Order.ordered_at, Event.occurred_at)]
    first = min((f for f in firsts if f is not None), default=None)
    n_products = session.scalar(select(func.count()).select_from(Product)) or 0
    if first is None or not len(shoppers):
        return None
    customers = load_customers(session)
    end = MarketConfig().end
    days = (
        end - pd.Timestamp(first).to_pydatetime().replace(hour=0, minute=0, second=0, microsecond=0)
    ).days
    for seed in SEEDS_TRIED:
        config = MarketConfig(
            customers=len(customers), products=int(n_products), days=days, seed=seed
        )
        try:
            config.validate()
        except Exception:  # noqa: BLE001 - not a size the seed makes: not its market
            return None
        gen = _Generator(config, None)
        gen.weather()
        gen.products()
        frame, _ = gen.customers()
        if (
            frame["name"].tolist() == customers["name"].tolist()
            and frame["customer_id"].tolist() == customers["customer_id"].tolist()
        ):
            return gen
    return None


def _planted(g: _Generator, observed: Shoppers, catalogue: Catalogue) -> tuple[Shoppers, Catalogue]:
    from seed.world import BRANDS, CATEGORIES, CITIES

    shares = g.props.shares
    lapsed = g.c_b < g.cal.days
    rate = g.order_rate / 365.0 * np.where(lapsed, 0.03, 1.0)
    brand_names = np.array([*BRANDS, None], dtype=object)
    fav = g.fav
    shoppers = Shoppers(
        customer_ids=observed.customer_ids,
        names=observed.names,
        orders_per_day=rate,
        visits_per_day=rate * g.research / 2.5,
        weekend=shares["weekend_shopping"],
        night=shares["night_shopping"],
        mobile=shares["mobile_usage"],
        impulse=shares["impulse_buying"],
        deal=shares["price_sensitivity"],
        loyalty=shares["brand_loyalty"],
        focus=g.focus,
        favourite_category=np.array([c.name for c in CATEGORIES], dtype=object)[g.fav_cat],
        favourite_brands=brand_names[np.where(fav >= 0, fav, len(BRANDS))],
        review_rate=g.review_rate,
        leniency=g.harshness,
        locations=np.array([c.name for c in CITIES], dtype=object)[g.c_city],
        weather=observed.weather,
        source="planted",
    )
    position = pd.Index(g.product_ids).get_indexer(catalogue.product_ids)
    planted = Catalogue(
        product_ids=catalogue.product_ids,
        category=catalogue.category,
        brand=catalogue.brand,
        marked_down=catalogue.marked_down,
        weight=np.where(position >= 0, g.p_pop[position], catalogue.weight),
        quality=np.where(position >= 0, 3.7 + 0.85 * g.p_quality[position], catalogue.quality),
    )
    return shoppers, planted


def market_of_store(session: Session) -> tuple[Shoppers, Catalogue]:
    """Shoppers and catalogue of a live run on this store (see the module docstring).

    Raises:
        ValueError: the store has no customer or no product in stock.
    """
    catalogue = _catalogue(session)
    shoppers = _observed(session)
    if not len(shoppers):
        raise ValueError("the store has no customers yet: import or seed some first")
    if not len(catalogue.product_ids):
        raise ValueError("the store has no product in stock")
    gen = _recognised(session, shoppers)
    return _planted(gen, shoppers, catalogue) if gen is not None else (shoppers, catalogue)


__all__ = ["market_of_store"]

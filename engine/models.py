"""The store's schema: typed SQLAlchemy 2.0 ORM models.

Conventions:

* every timestamp is a naive ``DateTime`` holding UTC (SQLite has no time
  zones; the importer converts offsets to UTC on the way in);
* ids are strings, as in the import formats, so a real store's own ids survive;
* money is a float in the store's currency; an order line's ``unit_price`` is
  what was paid per unit and ``discount`` what was saved on the line, so
  revenue is ``quantity * unit_price`` and the undiscounted amount adds ``discount``;
* the schema is versioned by Alembic (``engine/migrations``): change it here
  *and* add a migration, never drop a store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names so Alembic migrations are stable on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EVENT_TYPES = ("product_view", "search", "cart_add", "wishlist_add", "purchase", "review")
CHANNELS = ("web", "mobile_web", "ios", "android", "store", "email")
DEVICES = ("desktop", "mobile", "tablet")
WEATHERS = ("sunny", "cloudy", "rainy", "snowy", "hot", "cold")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    signup_at: Mapped[datetime | None] = mapped_column(DateTime)


class Product(Base):
    __tablename__ = "products"

    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    brand: Mapped[str | None] = mapped_column(String(100), index=True)
    price: Mapped[float | None] = mapped_column(Float)
    list_price: Mapped[float | None] = mapped_column(Float)
    # ';'-separated context tags such as "rain;cold;morning".
    tags: Mapped[str | None] = mapped_column(String(300))
    # A region name for local products; NULL for products sold everywhere.
    region: Mapped[str | None] = mapped_column(String(100))
    in_stock: Mapped[bool] = mapped_column(Boolean, default=True)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_time", "customer_id", "ordered_at"),)

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    ordered_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(100))
    # Weather at the place and day of the order, where known.
    weather: Mapped[str | None] = mapped_column(String(16))


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    # What the customer paid per unit, after any discount (as in real exports).
    unit_price: Mapped[float] = mapped_column(Float)
    # Amount taken off the whole line (not per unit), >= 0: what the customer saved.
    discount: Mapped[float] = mapped_column(Float, default=0.0)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_customer_time", "customer_id", "reviewed_at"),)

    review_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime)
    text: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    """One behavioral event from any channel, known or anonymous."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_time", "customer_id", "occurred_at"),
        Index("ix_events_anonymous", "anonymous_id"),
        Index("ix_events_time", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The source's id; when given, ingesting the same event twice adds nothing.
    event_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"))
    anonymous_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.product_id"))
    query: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(100))
    weather: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)


class IdentityLink(Base):
    """An anonymous browser id seen together with a customer id: its events are theirs."""

    __tablename__ = "identity_links"

    anonymous_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime)


class DailyWeather(Base):
    """The weather of one city on one day (the synthetic market records its own)."""

    __tablename__ = "daily_weather"

    city: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    condition: Mapped[str] = mapped_column(String(16))
    temperature_c: Mapped[float | None] = mapped_column(Float)


class Profile(Base):
    """A customer's computed profile as of a moment: nine 0-100 scores and the rest."""

    __tablename__ = "profiles"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id"), primary_key=True
    )
    as_of: Mapped[datetime] = mapped_column(DateTime)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    lifetime_value: Mapped[float] = mapped_column(Float)
    purchase_frequency: Mapped[float] = mapped_column(Float)
    price_sensitivity: Mapped[float] = mapped_column(Float)
    brand_loyalty: Mapped[float] = mapped_column(Float)
    impulse_buying: Mapped[float] = mapped_column(Float)
    research_intensity: Mapped[float] = mapped_column(Float)
    weekend_shopping: Mapped[float] = mapped_column(Float)
    night_shopping: Mapped[float] = mapped_column(Float)
    mobile_usage: Mapped[float] = mapped_column(Float)
    emotional_state: Mapped[str] = mapped_column(String(24), default="unknown")
    # Inputs behind the scores, channel breakdown, interests: free-form by design.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SegmentRule(Base):
    """One configurable micro-segment rule: ``score > threshold``."""

    __tablename__ = "segment_rules"

    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SegmentMembership(Base):
    __tablename__ = "segment_memberships"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id"), primary_key=True
    )
    segment: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    as_of: Mapped[datetime] = mapped_column(DateTime)


class Recommendation(Base):
    """A stored, explained recommendation for one customer in one context."""

    __tablename__ = "recommendations"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id"), primary_key=True
    )
    context: Mapped[str] = mapped_column(String(120), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    contributions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    as_of: Mapped[datetime] = mapped_column(DateTime)
    computed_at: Mapped[datetime] = mapped_column(DateTime)

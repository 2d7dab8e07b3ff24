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

from sqlalchemy import (
    JSON,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# The vocabulary is engine.vocabulary's; these names stay importable from here.
from engine.vocabulary import CHANNELS as CHANNELS
from engine.vocabulary import DEVICES as DEVICES
from engine.vocabulary import EVENT_TYPES as EVENT_TYPES
from engine.vocabulary import MOBILE_CHANNELS as MOBILE_CHANNELS
from engine.vocabulary import MOBILE_DEVICE, WEEKEND_DAYS
from engine.vocabulary import NIGHT_HOURS as NIGHT_HOURS
from engine.vocabulary import WEATHERS as WEATHERS

# Deterministic constraint names so Alembic migrations are stable on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class activity_flag(FunctionElement[int]):  # noqa: N801 - reads like the SQL it renders
    """One 0/1 activity flag of a timestamped row, as portable SQL for a generated column.

    ``weekend``: Saturday or Sunday; ``night``: see :data:`NIGHT_HOURS`; ``mobile``:
    ``device = 'mobile'`` or a :data:`MOBILE_CHANNELS` channel. Stored once when a
    row is written, so batch scoring sums them instead of parsing timestamps of
    millions of rows (``engine.profiles.stats.activity_flags`` is the same rule in
    Python, for one event).
    """

    type = SmallInteger()
    inherit_cache = True

    def __init__(self, flag: str, timestamp: str) -> None:
        if flag not in ("weekend", "night", "mobile"):
            raise ValueError(f"unknown activity flag {flag!r}")
        self.flag, self.timestamp = flag, timestamp
        super().__init__()


def _mobile_sql() -> str:
    channels = ", ".join(f"'{c}'" for c in MOBILE_CHANNELS)
    return f"device = '{MOBILE_DEVICE}' OR channel IN ({channels})"


def _flag_sql(flag: str, *, weekend: str, hour: str) -> str:
    condition = {
        "weekend": weekend,
        "night": f"{hour} >= {NIGHT_HOURS[0]} OR {hour} < {NIGHT_HOURS[1]}",
        "mobile": _mobile_sql(),
    }[flag]
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# SQL's day-of-week numbering (Sunday 0 .. Saturday 6) of the weekend days.
_WEEKEND_DOW = tuple(sorted((day + 1) % 7 for day in WEEKEND_DAYS))


@compiles(activity_flag, "sqlite")
def _activity_flag_sqlite(element: activity_flag, compiler: SQLCompiler, **kw: object) -> str:
    ts = element.timestamp
    # SQLite stores DateTime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text.
    return _flag_sql(
        element.flag,
        weekend=f"strftime('%w', substr({ts}, 1, 10)) IN "
        f"({', '.join(repr(str(d)) for d in _WEEKEND_DOW)})",
        hour=f"CAST(substr({ts}, 12, 2) AS INTEGER)",
    )


@compiles(activity_flag)
def _activity_flag_default(element: activity_flag, compiler: SQLCompiler, **kw: object) -> str:
    ts = element.timestamp
    days = ", ".join(map(str, _WEEKEND_DOW))
    return _flag_sql(
        element.flag, weekend=f"EXTRACT(DOW FROM {ts}) IN ({days})", hour=f"EXTRACT(HOUR FROM {ts})"
    )


def _flag_column(flag: str, timestamp: str) -> Mapped[int]:
    return mapped_column(SmallInteger, Computed(activity_flag(flag, timestamp), persisted=True))


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
    __table_args__ = (
        # Covering index of per-customer order statistics (no table look-ups).
        Index(
            "ix_orders_customer_activity",
            "customer_id",
            "ordered_at",
            "at_weekend",
            "at_night",
            "on_mobile",
            "order_id",
        ),
    )

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    ordered_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(100))
    # Weather at the place and day of the order, where known.
    weather: Mapped[str | None] = mapped_column(String(16))
    # Derived when written (generated columns): see activity_flag.
    at_weekend: Mapped[int] = _flag_column("weekend", "ordered_at")
    at_night: Mapped[int] = _flag_column("night", "ordered_at")
    on_mobile: Mapped[int] = _flag_column("mobile", "ordered_at")


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
    # The line's own time when it differs from the order's (tills stamp each scan);
    # NULL: the order's ``ordered_at``, which is always the order's earliest line.
    ordered_at: Mapped[datetime | None] = mapped_column(DateTime)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_customer_time", "customer_id", "reviewed_at"),)

    review_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    text: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    """One behavioral event from any channel, known or anonymous."""

    __tablename__ = "events"
    __table_args__ = (
        # Covering index of the profile statistics: a customer's events grouped by
        # type, and their views by product, are read in index order (no sort, no
        # table look-ups) by batch scoring and tracking alike.
        Index(
            "ix_events_customer_activity",
            "customer_id",
            "product_id",
            "event_type",
            "occurred_at",
            "at_weekend",
            "at_night",
            "on_mobile",
        ),
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
    # Derived when written (generated columns): see activity_flag.
    at_weekend: Mapped[int] = _flag_column("weekend", "occurred_at")
    at_night: Mapped[int] = _flag_column("night", "occurred_at")
    on_mobile: Mapped[int] = _flag_column("mobile", "occurred_at")


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


class ScoreCalibration(Base):
    """The store-level reference values one batch scoring run measured every score against.

    Rows are never changed: a run adds one and its profiles point at it, so
    real-time updates score with exactly the numbers of the run they continue.
    """

    __tablename__ = "score_calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[datetime] = mapped_column(DateTime)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    # engine.profiles.scoring.Calibration as a document (medians and shares).
    reference: Mapped[dict[str, float]] = mapped_column(JSON)


class Profile(Base):
    """A customer's computed profile as of a moment: nine 0-100 scores and the rest."""

    __tablename__ = "profiles"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(DateTime)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    calibration_id: Mapped[int | None] = mapped_column(ForeignKey("score_calibrations.id"))
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


class ProfileStats(Base):
    """The sufficient statistics behind a profile's scores (``docs/scoring.md``).

    Every score is a function of these counts and sums and the calibration, so
    tracking updates them in place and rescores without re-reading history.
    """

    __tablename__ = "profile_stats"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(DateTime)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    orders_365: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    disc_lines: Mapped[int] = mapped_column(Integer, default=0)
    branded_lines: Mapped[int] = mapped_column(Integer, default=0)
    top2_lines: Mapped[int] = mapped_column(Integer, default=0)
    viewed_lines: Mapped[int] = mapped_column(Integer, default=0)
    quick_lines: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    activity: Mapped[int] = mapped_column(Integer, default=0)
    weekend: Mapped[int] = mapped_column(Integer, default=0)
    night: Mapped[int] = mapped_column(Integer, default=0)
    mobile: Mapped[int] = mapped_column(Integer, default=0)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    interest_events: Mapped[int] = mapped_column(Integer, default=0)
    spend: Mapped[float] = mapped_column(Float, default=0.0)
    rating_wsum: Mapped[float] = mapped_column(Float, default=0.0)
    rating_w: Mapped[float] = mapped_column(Float, default=0.0)
    interest_total: Mapped[float] = mapped_column(Float, default=0.0)
    top_interest: Mapped[float] = mapped_column(Float, default=0.0)
    top_category: Mapped[str | None] = mapped_column(String(100))


class SegmentRule(Base):
    """One configurable micro-segment rule: ``score > threshold``."""

    __tablename__ = "segment_rules"

    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SegmentMembership(Base):
    __tablename__ = "segment_memberships"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    as_of: Mapped[datetime] = mapped_column(DateTime)


API_SCOPES = ("track", "read", "admin")
"""What an API key may do: ``track`` posts events, ``read`` reads profiles, segments,
recommendations and predictions, ``admin`` does both and refits the served models."""


class ApiKey(Base):
    """A key of the storefront HTTP API (``personalize apikey``); only a hash is kept.

    A token reads ``psk_<key_id>_<secret>``: ``key_id`` finds the row, and the SHA-256
    of the random 32-byte ``secret`` is compared in constant time with ``secret_hash``.
    """

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Audience(Base):
    """A saved audience (``personalize audience define``): a rule in the audience language
    (:mod:`engine.audiences.grammar`), kept as text and re-evaluated at any "as of"."""

    __tablename__ = "audiences"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    rule: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

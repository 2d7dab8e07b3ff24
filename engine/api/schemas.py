"""Request and response models of the storefront API (what ``/docs`` shows).

An event's fields take their types from :mod:`engine.events`, the rules ``track()``
and the importer follow: ids and text as long as their columns, the channel spelled
the contract's way, a rating 1..5, JSON numbers read as text and ``NaN`` as no value.
Closed lists (event types, weather, device) and the event's time are plain strings
here and checked by the engine itself (``track``), so the API refuses exactly what the
CLI refuses, in the same words, for every event of a batch, and accepts what it
accepts (``RAINY`` as well as ``rainy``, ``view`` for ``product_view``). The valid
values are listed in each field's description.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from engine import events as rules
from engine.vocabulary import DEVICES, EVENT_TYPES, WEATHERS

MAX_BATCH = 1000
"""Most events in one ``POST /events``."""
ID_MAX = rules.FIELD_LENGTHS["customer_id"]
"""Longest id (customer, anonymous visitor, product), as ``track`` allows."""


def _utc(value: datetime) -> datetime:
    """The store keeps naive UTC; on the wire a time carries its offset (RFC 3339)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
"""A time in a response: UTC, written with its ``Z`` (``2026-11-01T08:30:00Z``)."""


def _values(values: tuple[str, ...]) -> str:
    return "|".join(values)


class EventIn(BaseModel):
    """One behavioral event, in the import format of the contract (unknown fields ignored)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "web-1842",
                    "event_type": "product_view",
                    "customer_id": "C00042",
                    "product_id": "P0007",
                    "occurred_at": "2026-11-01T08:30:00Z",
                    "device": "mobile",
                    "weather": "rainy",
                }
            ],
        },
    )

    event_type: rules.ScalarText = Field(
        description=_values(EVENT_TYPES) + " (or a spelling other tools export, e.g. view)"
    )
    occurred_at: rules.ScalarText = Field(description="ISO 8601 datetime (UTC without offset)")
    event_id: rules.EventIdText = Field(
        None, description="makes the event idempotent: sent twice, recorded once"
    )
    customer_id: rules.IdText = None
    anonymous_id: rules.IdText = Field(
        None, description="a visitor's id; with customer_id on the same event it links the two"
    )
    product_id: rules.IdText = None
    query: rules.QueryText = Field(None, description="what a search asked for")
    channel: rules.ChannelText = Field(
        None,
        description="web|mobile_web|ios|android|store|"
        "email|... (spelled the contract's way: iOS is ios)",
    )
    device: rules.ScalarText = Field(None, description=_values(DEVICES))
    location: rules.LocationText = None
    weather: rules.ScalarText = Field(None, description=_values(WEATHERS))
    rating: rules.Rating = Field(None, description="1..5, for a review")

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        return rules.event_keys(data) if isinstance(data, dict) else data


class EventResult(BaseModel):
    """What one event changed."""

    index: int = Field(description="position of the event in the request, from 0")
    status: str = Field(
        description="recorded (profile updated) | duplicate (event_id seen "
        "before: nothing written) | anonymous (stored; no customer yet)"
    )
    customer_id: str | None
    event_id: str | None
    new_profile: bool = Field(False, description="the customer had no profile before")
    profile_at: int | None = Field(
        None,
        description="index of the result that carries this customer's profile: a "
        "request updates each customer's profile once, after all of their events in it, "
        "and their last recorded event carries it (the scores, segments and changes since "
        "before the request); null unless recorded",
    )
    scores: dict[str, float | None] = Field(
        default_factory=dict, description="the nine scores now (null: not enough data)"
    )
    score_changes: dict[str, float] = Field(
        default_factory=dict, description="scores that moved, by how many points"
    )
    segments: list[str] = Field(default_factory=list, description="segments now")
    joined: list[str] = Field(default_factory=list, description="segments entered")
    left: list[str] = Field(default_factory=list, description="segments left")
    emotional_state: str | None = None
    emotional_state_before: str | None = None


class TrackResponse(BaseModel):
    recorded: int
    duplicates: int
    anonymous: int
    results: list[EventResult]
    recommendations_as_of: UtcDateTime | None = Field(
        description="the served recommendations learned from data before this moment; "
        "these events reach them at the next refit"
    )


class Recommendation(BaseModel):
    rank: int
    product_id: str
    name: str | None
    category: str | None
    brand: str | None
    score: float = Field(description="0..100")
    reason: str
    contributions: dict[str, float] = Field(
        description="points per recommender; they add up to score"
    )


class ContextOut(BaseModel):
    weather: str | None
    time_of_day: str | None
    location: str | None
    device: str | None


class Recommendations(BaseModel):
    customer_id: str | None
    anonymous_id: str | None = None
    basis: str = Field(
        description="personal (the customer's history) | cold_start (a new "
        "customer or an anonymous visitor: context and trends, until a refit "
        "learns from their events)"
    )
    as_of: UtcDateTime = Field(description="the served models learned from data before this")
    fitted_at: UtcDateTime
    context: ContextOut
    k: int
    recommendations: list[Recommendation]


class ScoreOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    value: float | None
    explanation: str


class Profile(BaseModel):
    """One unified profile (as ``personalize profile --json``)."""

    model_config = ConfigDict(extra="allow")

    customer_id: str
    name: str | None
    as_of: UtcDateTime
    source: str
    computed_at: UtcDateTime | None
    scores: dict[str, ScoreOut]
    segments: list[str]
    emotional_state: dict[str, Any]
    channels: dict[str, dict[str, int]]
    histories: dict[str, list[dict[str, Any]]]
    interests: dict[str, list[dict[str, Any]]]
    stitched: dict[str, int]
    data_points: dict[str, int]


class Prediction(BaseModel):
    """Next-purchase prediction (as ``personalize predict --json``)."""

    model_config = ConfigDict(extra="allow")

    customer_id: str
    as_of: UtcDateTime
    predicted_date: str | None
    predicted_date_low: str | None
    predicted_date_high: str | None
    confidence: float = Field(description="0..100")
    p_active: float
    expected_purchases_90d: float
    p_buy_90d: float
    likely_categories: list[str]
    category_probabilities: dict[str, float]
    price_low: float
    price_high: float
    clv_12m: float


class SegmentSize(BaseModel):
    segment: str
    size: int


class SegmentOverlap(BaseModel):
    segment_a: str
    segment_b: str
    customers: int


class Segments(BaseModel):
    sizes: list[SegmentSize]
    overlaps: list[SegmentOverlap]


class SegmentMembers(BaseModel):
    segment: str
    size: int
    offset: int
    limit: int
    customer_ids: list[str]
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class SavedAudience(BaseModel):
    name: str
    rule: str = Field(description="in the audience language (personalize audience define)")
    created_at: UtcDateTime
    updated_at: UtcDateTime


class Audiences(BaseModel):
    audiences: list[SavedAudience]


class AudienceMembers(BaseModel):
    audience: str
    rule: str
    as_of: UtcDateTime = Field(
        description="evaluated on data before this: the served "
        "models' moment, so pages agree until the next refit"
    )
    size: int
    offset: int
    limit: int
    customer_ids: list[str]
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class StoreHealth(BaseModel):
    reachable: bool
    schema_revision: str | None
    schema_current: bool


class ModelHealth(BaseModel):
    fitted: bool
    as_of: UtcDateTime | None = Field(description="learned from data strictly before this")
    fitted_at: UtcDateTime | None
    fit_seconds: float | None
    refitting: bool
    last_error: str | None
    refit_every_seconds: float | None
    customers: int | None
    products: int | None


class Health(BaseModel):
    status: str = Field(description="ok | starting (models not fitted yet) | degraded")
    store: StoreHealth
    models: ModelHealth


class RefitResponse(BaseModel):
    started: bool = Field(description="false when a refit was already running")
    models: ModelHealth


class Problem(BaseModel):
    """An error, as RFC 9457 ``application/problem+json``."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="the same words as the command line's error")
    instance: str | None = None
    errors: list[str] | None = Field(None, description="every problem, when there are several")

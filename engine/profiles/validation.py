"""What a tracked event must look like: :func:`validate_event` checks one event in the
import format of ``CONTRACT.md`` and returns its clean fields, or refuses it naming the
field, the value and the valid values (nothing is written for a refused event)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.errors import ValidationError
from engine.models import Event
from engine.timeutil import plausible_window, to_utc_naive, window_text
from engine.vocabulary import DEVICES, EVENT_TYPES, WEATHERS, canonical

NEEDS_PRODUCT = ("product_view", "cart_add", "wishlist_add", "purchase", "review")
NEEDS_CUSTOMER = ("purchase", "review")


def _length(name: str) -> int:
    length = getattr(Event.__table__.c[name].type, "length", None)
    assert isinstance(length, int), name
    return length


EVENT_FIELD_LENGTHS: dict[str, int] = {
    name: _length(name)
    for name in ("event_id", "customer_id", "anonymous_id", "product_id", "query", "channel",
                 "location")
}
"""The longest text of each free-text field of an event: the ``events`` columns' lengths
(the importer reads the same, :mod:`engine.importing.spec`)."""


_IDS = frozenset({"event_id", "customer_id", "anonymous_id", "product_id"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(event: Mapping[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        # JSON's NaN or Infinity is no id: it would create a customer "nan"
        raise ValidationError(f"invalid {name} {value!r}: expected a string")
    text = str(value).strip()
    if not text:
        return None
    # PostgreSQL cannot store a NUL byte; other control characters in an id are an
    # export's corruption, not a name anyone could type or see
    if "\x00" in text or (name in _IDS and _CONTROL.search(text)):
        raise ValidationError(f"invalid {name} {text!r}: contains a control character "
                              "(e.g. a NUL byte)")
    limit = EVENT_FIELD_LENGTHS.get(name)
    if limit is not None and len(text) > limit:
        raise ValidationError(f"invalid {name}: longer than {limit} characters")
    return text


def validate_event(event: Mapping[str, Any], *,
                   window: tuple[datetime, datetime] | None = None) -> dict[str, Any]:
    """Check one event (the import format of CONTRACT.md) and return its clean fields.

    ``window``: the :func:`~engine.timeutil.plausible_window` to check ``occurred_at``
    against (default: read now; a batch reads it once).

    Raises:
        ValidationError: naming the field, the value and the valid values.
    """
    if not isinstance(event, Mapping):
        raise ValidationError("invalid event: expected a JSON object")
    clean: dict[str, Any] = {}
    event_type = _text(event, "event_type")
    if event_type is None:
        raise ValidationError(
            f"missing event_type; valid values: {', '.join(EVENT_TYPES)}"
        )
    if event_type.lower() not in EVENT_TYPES:
        raise ValidationError(
            f"invalid event_type {event_type!r}; valid values: {', '.join(EVENT_TYPES)}"
        )
    clean["event_type"] = event_type.lower()
    raw_time = _text(event, "occurred_at")
    if raw_time is None:
        raise ValidationError("missing occurred_at: expected an ISO 8601 datetime")
    try:
        clean["occurred_at"] = to_utc_naive(
            datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        )
    except ValueError as exc:
        raise ValidationError(
            f"invalid occurred_at {raw_time!r}: expected an ISO 8601 datetime, "
            "e.g. 2024-06-01T12:00:00"
        ) from exc
    window = window or plausible_window()
    if not window[0] <= clean["occurred_at"] <= window[1]:
        raise ValidationError(
            f"invalid occurred_at {raw_time!r}: outside the plausible window "
            f"{window_text(window)}")
    for name in ("event_id", "customer_id", "anonymous_id", "product_id", "query", "channel",
                 "location"):
        clean[name] = _text(event, name)
    if clean["customer_id"] is None and clean["anonymous_id"] is None:
        raise ValidationError("missing customer_id or anonymous_id: an event needs at least one")
    for name, valid in (("device", DEVICES), ("weather", WEATHERS)):
        value = _text(event, name)
        if value is not None and value.lower() not in valid:
            raise ValidationError(f"invalid {name} {value!r}; valid values: {', '.join(valid)}")
        clean[name] = value.lower() if value is not None else None
    if clean["channel"] is not None:
        # The importer's spelling rule: "iOS", "iPhone" and "ios_app" are all "ios".
        clean["channel"] = canonical("channel", clean["channel"])
    rating = event.get("rating")
    clean["rating"] = None
    if rating is not None and rating != "":
        bad = ValidationError(f"invalid rating {rating!r}; valid values: 1, 2, 3, 4, 5")
        if isinstance(rating, bool):
            raise bad
        try:
            number = float(rating)
        except (TypeError, ValueError) as exc:
            raise bad from exc
        if not (1 <= number <= 5 and number == int(number)):
            raise bad
        clean["rating"] = int(number)
    if clean["event_type"] in NEEDS_PRODUCT and clean["product_id"] is None:
        raise ValidationError(f"missing product_id: a {clean['event_type']} event needs one")
    if clean["event_type"] == "review" and clean["rating"] is None:
        raise ValidationError("missing rating: a review event needs one; valid values: 1..5")
    return clean

"""One event, defined once: what each field of a behavioral event may hold.

:class:`EventRecord` (pydantic v2) is the event of the import format of CONTRACT.md,
spelled the contract's way. Every way in reads these rules:

- ``track()`` and ``track_many()`` through :func:`engine.profiles.validation.validate_event`
  (this model, with the CLI's words for a refusal);
- ``POST /events`` (:class:`engine.api.schemas.EventIn` is built from the field types
  below, and leaves the closed lists and the rules across fields to ``track``);
- the importer, which checks whole files at once with vectorised masks built from the
  same definitions (:data:`FIELD_LENGTHS`, :data:`CHOICES`, the normaliser
  :func:`engine.vocabulary.canonical` and its aliases, :mod:`engine.timestamps`,
  :data:`NUMBER`, the control-character patterns); a test
  (``tests/engine/test_event_rules.py``) holds the two to the same verdicts and values.

The rules: ids and text are stripped (empty is missing) and at most as long as their
column; ids hold no control character, text no NUL byte; closed lists (event type,
device, weather) and the channel are spelled the contract's way (case, separators,
known aliases: ``"iOS"`` and ``"iPhone"`` are ``ios``, ``"view"`` is ``product_view``,
``"Phone"`` is ``mobile``); a timestamp is ISO 8601 as :mod:`engine.timestamps` reads
it (the union of what the importer and ``track()`` read before), naive UTC, inside
:func:`engine.timeutil.plausible_window`; a rating is a whole number 1..5. In JSON, a
number is read as its text, ``null``, ``NaN`` and ``Infinity`` are no value, and
``true``, ``false``, objects and lists are refused. Any event type may name no product,
and a review no rating (real exports hold such events).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from engine.errors import ValidationError
from engine.models import Event
from engine.timestamps import parse_timestamp
from engine.timeutil import plausible_window, window_text
from engine.vocabulary import CHANNELS, DEVICES, EVENT_TYPES, WEATHERS, canonical

ID_FIELDS = ("event_id", "customer_id", "anonymous_id", "product_id")
TEXT_FIELDS = ("query", "location")
LABEL_FIELDS = ("channel",)
"""Free vocabulary spelled the contract's way (lower case, underscores, known aliases)."""
CHOICES: dict[str, tuple[str, ...]] = {
    "event_type": EVENT_TYPES,
    "device": DEVICES,
    "weather": WEATHERS,
}
"""The closed lists, after :func:`engine.vocabulary.canonical`."""
EVENT_FIELDS = (
    "event_type",
    "occurred_at",
    "event_id",
    "customer_id",
    "anonymous_id",
    "product_id",
    "query",
    "channel",
    "location",
    "device",
    "weather",
    "rating",
)
"""Every field, in the order a refusal names the first bad one."""
NEEDS_CUSTOMER = ("purchase", "review")
"""Checked by ``track`` once identities are resolved (an anonymous id may be linked)."""
_FIELD_SET = frozenset(EVENT_FIELDS)
RATING_RANGE = (1, 5)
RATINGS_TEXT = ", ".join(str(r) for r in range(RATING_RANGE[0], RATING_RANGE[1] + 1))


def _length(name: str) -> int:
    length = getattr(Event.__table__.c[name].type, "length", None)
    assert isinstance(length, int), name
    return length


FIELD_LENGTHS: dict[str, int] = {
    name: _length(name) for name in (*ID_FIELDS, *TEXT_FIELDS, *LABEL_FIELDS)
}
"""The longest value of each free field: the ``events`` columns' lengths (a label's
once spelled the contract's way, as it is stored)."""

ID_CONTROL = r"[\x00-\x1f\x7f]"
"""Control characters refused in an id: an export's corruption, never a typed name."""
TEXT_CONTROL = r"\x00"
"""PostgreSQL cannot store a NUL byte: refused in any text."""
_ID_CONTROL, _TEXT_CONTROL = re.compile(ID_CONTROL), re.compile(TEXT_CONTROL)

NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
"""A number as text: ASCII digits, optional sign, decimals and exponent (what
``pandas.to_numeric`` reads, unlike ``float``, which takes ``"1_0"`` and ``"٥"``)."""
_NUMBER = re.compile(NUMBER)

_SHOWN_CHARS = 40
EVENT_ERROR = "event"
"""The pydantic error type of every refusal here: its message is the CLI's sentence."""


def show(value: object) -> str:
    """A value quoted back in a reason, cut to 40 characters."""
    text = str(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    return repr(text)


def _refuse(sentence: str) -> PydanticCustomError:
    # the sentence goes in the context, not the template: a value may hold "{"
    return PydanticCustomError(EVENT_ERROR, "{sentence}", {"sentence": sentence})


class NotText(ValueError):
    """A JSON value that is no string, number or null (``true``, an object, a list)."""


def json_text(value: object) -> str | None:
    """A field's value as the text the rules read: stripped, ``None`` when there is none.

    Raises:
        NotText: a boolean, an object, a list or any other non-scalar.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotText(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON's NaN or Infinity: no value (an id "nan" would be a new customer)
    return str(value)


def event_keys(event: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields of an event named as the contract does: ``"Customer_ID"`` is ``customer_id``."""
    if isinstance(event, dict) and event.keys() <= _FIELD_SET:
        return event  # already so (track's usual caller): no copy on the hot path
    return {str(k).strip().lower(): v for k, v in event.items()}


def parse_rating(text: str) -> int | None:
    """A rating written as text (``"4"``, ``"4.0"``); ``None`` unless a whole 1..5."""
    if _NUMBER.fullmatch(text) is None:
        return None
    number = float(text)
    if not (RATING_RANGE[0] <= number <= RATING_RANGE[1] and number == int(number)):
        return None
    return int(number)


# --------------------------------------------------------------------------- field rules


def _text(value: object, info: ValidationInfo) -> str | None:
    try:
        return json_text(value)
    except NotText:
        raise _refuse(
            f"invalid {info.field_name} {repr(value)[:_SHOWN_CHARS]}: expected a string"
        ) from None


def _free(value: object, info: ValidationInfo, control: re.Pattern[str]) -> str | None:
    text = _text(value, info)
    if text is not None and control.search(text):
        raise _refuse(
            f"invalid {info.field_name} {show(text)}: contains a control "
            "character (e.g. a NUL byte)"
        )
    return text


def _id(value: object, info: ValidationInfo) -> str | None:
    return _free(value, info, _ID_CONTROL)


def _free_text(value: object, info: ValidationInfo) -> str | None:
    return _free(value, info, _TEXT_CONTROL)


def _label(value: object, info: ValidationInfo) -> str | None:
    text = _free(value, info, _TEXT_CONTROL)
    if text is None or text in CHANNELS:  # already spelled so (canonical keeps it)
        return text
    return canonical(str(info.field_name), text)


def _choice(value: object, info: ValidationInfo) -> str | None:
    name = str(info.field_name)
    text = _free(value, info, _TEXT_CONTROL)
    valid = CHOICES[name]
    if text is None:
        if name == "event_type":
            raise _refuse(f"missing event_type; valid values: {', '.join(valid)}")
        return None
    if text in valid:  # already spelled so (canonical keeps it)
        return text
    spelled = canonical(name, text)
    if spelled not in valid:
        raise _refuse(f"invalid {name} {show(text)}; valid values: {', '.join(valid)}")
    return spelled


def _timestamp(value: object, info: ValidationInfo) -> datetime:
    text = _text(value, info)
    if text is None:
        raise _refuse("missing occurred_at: expected an ISO 8601 datetime")
    at = parse_timestamp(text)
    if at is None:
        raise _refuse(
            f"invalid occurred_at {show(text)}: expected an ISO 8601 datetime, "
            "e.g. 2024-06-01T12:00:00"
        )
    window = plausible_window()
    if not window[0] <= at <= window[1]:
        raise _refuse(
            f"invalid occurred_at {show(text)}: outside the plausible window {window_text(window)}"
        )
    return at


def _rating(value: object) -> int | None:
    try:
        text = json_text(value)
    except NotText:
        text = ""  # true, an object: no rating
    if text is None:
        return None
    rating = parse_rating(text)
    if rating is None:
        raise _refuse(f"invalid rating {repr(value)[:_SHOWN_CHARS]}; valid values: {RATINGS_TEXT}")
    return rating


_Id = Annotated[str, Field(max_length=FIELD_LENGTHS["customer_id"])]
_EventId = Annotated[str, Field(max_length=FIELD_LENGTHS["event_id"])]
_Query = Annotated[str, Field(max_length=FIELD_LENGTHS["query"])]
_Location = Annotated[str, Field(max_length=FIELD_LENGTHS["location"])]
_Channel = Annotated[str, Field(max_length=FIELD_LENGTHS["channel"])]
_Rating = Annotated[int, Field(ge=RATING_RANGE[0], le=RATING_RANGE[1])]

IdText = Annotated[_Id | None, BeforeValidator(_id)]
"""A customer, anonymous visitor or product id (their columns are as long)."""
EventIdText = Annotated[_EventId | None, BeforeValidator(_id)]
QueryText = Annotated[_Query | None, BeforeValidator(_free_text)]
LocationText = Annotated[_Location | None, BeforeValidator(_free_text)]
ChannelText = Annotated[_Channel | None, BeforeValidator(_label)]
Rating = Annotated[_Rating | None, BeforeValidator(_rating)]
ScalarText = Annotated[str | None, BeforeValidator(_text)]
"""Any scalar as its stripped text (the API's closed-list fields, checked by ``track``)."""
assert all(FIELD_LENGTHS[n] == FIELD_LENGTHS["customer_id"] for n in ID_FIELDS[1:]), (
    "IdText serves every id but event_id: their columns must be as long"
)


class EventFields(BaseModel):
    """The fields of an event that need nothing else to be checked (shared with the API)."""

    model_config = ConfigDict(extra="ignore")

    event_id: EventIdText = None
    customer_id: IdText = None
    anonymous_id: IdText = None
    product_id: IdText = None
    query: QueryText = None
    channel: ChannelText = None
    location: LocationText = None
    rating: Rating = None

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise _refuse("invalid event: expected a JSON object")
        return event_keys(data)


class EventRecord(EventFields):
    """One valid event, every field spelled the contract's way (``None`` where absent)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: Annotated[str, BeforeValidator(_choice)] = Field(None, validate_default=True)
    occurred_at: Annotated[datetime, BeforeValidator(_timestamp)] = Field(
        None, validate_default=True
    )
    device: Annotated[str | None, BeforeValidator(_choice)] = None
    weather: Annotated[str | None, BeforeValidator(_choice)] = None

    @model_validator(mode="after")
    def _complete(self) -> EventRecord:
        # a product_view/cart_add/wishlist_add/purchase/review may name no product, and a
        # review no rating: real exports hold such events (stored as events; a purchase
        # then makes no order and a review no review row, as when imported)
        if self.customer_id is None and self.anonymous_id is None:
            raise _refuse("missing customer_id or anonymous_id: an event needs at least one")
        return self


def sentence(error: Mapping[str, Any]) -> str:
    """The CLI's words for one pydantic error of an event's field."""
    names = [str(p) for p in error.get("loc", ()) if isinstance(p, str)]
    name = names[-1] if names else "event"
    if error.get("type") == EVENT_ERROR:
        return str((error.get("ctx") or {}).get("sentence", error.get("msg")))
    if error.get("type") == "string_too_long":
        return (
            f"invalid {name}: longer than {(error.get('ctx') or {}).get('max_length')} characters"
        )
    return f"invalid {name}: {error.get('msg', 'invalid value')}"  # pragma: no cover


def check_event(event: object) -> EventRecord:
    """The valid event ``event`` is (a mapping in the import format of CONTRACT.md).

    Raises:
        ValidationError: naming the first bad field (in :data:`EVENT_FIELDS` order),
            its value and the valid values.
    """
    try:
        return EventRecord.model_validate(event)
    except PydanticValidationError as exc:
        errors = exc.errors()
        rank = {name: i for i, name in enumerate(EVENT_FIELDS)}
        first = min(errors, key=lambda e: rank.get(str(e["loc"][0]) if e["loc"] else "", -1))
        raise ValidationError(sentence(first)) from None

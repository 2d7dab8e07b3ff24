"""Point-in-time helpers: parsing "as of" and finding the store's "now"."""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.config import get_settings
from engine.errors import UserError
from engine.models import Event, Order, Review

# "Just after the newest data": strictly-before semantics keep the newest row in.
_JUST_AFTER = timedelta(microseconds=1)


def to_utc_naive(value: datetime) -> datetime:
    """The naive-UTC form every timestamp in the store uses."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def plausible_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The timestamps store data may carry: ``[earliest_date, now + future_tolerance_days]``.

    An entry guard, not an answer: it reads the wall clock (``now`` overrides it)
    only to refuse a date no real store can hold (an order in 2300 would make every
    customer look lapsed and overflow 64-bit nanosecond time).
    """
    earliest, tolerance = _window_settings(tuple(os.environ.get(n) for n in _WINDOW_VARIABLES))
    if now is None:
        now = datetime.now(UTC).replace(tzinfo=None)
    return earliest, now + tolerance


_WINDOW_VARIABLES = ("PERSONALIZE_EARLIEST_DATE", "PERSONALIZE_FUTURE_TOLERANCE_DAYS")
"""The variables the window depends on: reading only these (not every setting) keeps the
check cheap enough for ``track()``'s hot path, and a changed one still counts at once."""


@functools.lru_cache(maxsize=16)
def _window_settings(environment: tuple[str | None, ...]) -> tuple[datetime, timedelta]:
    settings = get_settings()
    return to_utc_naive(settings.earliest_date), timedelta(days=settings.future_tolerance_days)


def window_text(window: tuple[datetime, datetime]) -> str:
    return (
        f"{window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d %H:%M} UTC (set "
        "PERSONALIZE_EARLIEST_DATE or PERSONALIZE_FUTURE_TOLERANCE_DAYS to widen it)"
    )


def parse_as_of(text: str | None) -> datetime | None:
    """Parse an ISO 8601 date or datetime (offsets converted to UTC); ``None`` passes through.

    Raises:
        UserError: the text is not ISO 8601, or is outside :func:`plausible_window`.
    """
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(
            f"invalid --as-of {text!r}: expected an ISO 8601 date or datetime, "
            "e.g. 2024-06-01 or 2024-06-01T12:00:00"
        ) from exc
    value = to_utc_naive(value)
    window = plausible_window()
    if not window[0] <= value <= window[1]:
        raise UserError(
            f"invalid --as-of {text!r}: outside the plausible window {window_text(window)}"
        )
    return value


def newest_timestamp(session: Session) -> datetime | None:
    """The newest plausible timestamp of any order, event or review in the store.

    Rows outside :func:`plausible_window` (an old store's order in 2300) are not
    "now": they would make every customer look lapsed. ``personalize repair``
    removes them.
    """
    earliest, latest = plausible_window()
    candidates = [
        session.scalar(select(func.max(column)).where(column >= earliest, column <= latest))
        for column in (Order.ordered_at, Event.occurred_at, Review.reviewed_at)
    ]
    present = [_as_datetime(c) for c in candidates if c is not None]
    return max(present) if present else None


def _as_datetime(value: object) -> datetime:
    # (pandas is not imported here: `personalize info` must answer at once.)
    if isinstance(value, datetime):
        return to_utc_naive(value)
    return to_utc_naive(datetime.fromisoformat(str(value)))


def resolve_as_of(session: Session, as_of: datetime | None) -> datetime:
    """``as_of`` itself, or just after the newest data; an empty store's "now" is the epoch.

    Nothing reads the wall clock: an empty store has no meaningful present.
    """
    if as_of is not None:
        return as_of
    newest = newest_timestamp(session)
    return newest + _JUST_AFTER if newest is not None else datetime(1970, 1, 1)

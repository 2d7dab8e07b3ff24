"""Point-in-time helpers: parsing "as of" and finding the store's "now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import defaults
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
    earliest, tolerance_days = _window_settings()
    if now is None:
        now = datetime.now(UTC).replace(tzinfo=None)
    return to_utc_naive(earliest), now + timedelta(days=tolerance_days)


def _window_settings() -> tuple[datetime, float]:
    """``earliest_date`` and ``future_tolerance_days``: their defaults unless the
    environment sets one (then the settings object, with its validation)."""
    if not defaults.environment_sets("earliest_date", "future_tolerance_days"):
        return defaults.EARLIEST_DATE, defaults.FUTURE_TOLERANCE_DAYS
    from engine.config import get_settings

    settings = get_settings()
    return settings.earliest_date, settings.future_tolerance_days


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

"""The request context (weather, time of day, location, device) and its validation.

Every value a user can type is checked here, so the CLI, the dashboard and the
engine refuse the same mistakes with the same message (valid values listed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.errors import UserError, choice_error
from engine.vocabulary import DEVICES, TIMES_OF_DAY, WEATHERS, hour_bucket, hour_buckets

__all__ = [
    "DEVICES",
    "TIMES_OF_DAY",
    "WEATHERS",
    "Context",
    "hour_bucket",
    "hour_buckets",
    "parse_context",
    "validate_k",
]

K_MIN, K_MAX = 1, 100

# Product tags that mean "fits this context" (imports write short or long forms).
WEATHER_TAGS: dict[str, tuple[str, ...]] = {
    "sunny": ("sunny", "sun"),
    "cloudy": ("cloudy", "cloud"),
    "rainy": ("rain", "rainy"),
    "snowy": ("snow", "snowy"),
    "hot": ("hot", "heat", "summer"),
    "cold": ("cold", "winter"),
}
TIME_TAGS: dict[str, tuple[str, ...]] = {t: (t,) for t in TIMES_OF_DAY}
DEVICE_TAGS: dict[str, tuple[str, ...]] = {d: (d,) for d in DEVICES}

# How a weather value reads in a reason: "Because it is raining in Seattle".
WEATHER_PHRASES = {
    "sunny": "it is sunny",
    "cloudy": "it is cloudy",
    "rainy": "it is raining",
    "snowy": "it is snowing",
    "hot": "it is hot",
    "cold": "it is cold",
}


@dataclass(frozen=True)
class Context:
    """Where and when a recommendation is asked for; every field optional.

    ``time_of_day`` is always a bucket here (hours are mapped by :func:`parse_context`);
    ``location`` is the store's own spelling of a city, region or country.
    """

    weather: str | None = None
    time_of_day: str | None = None
    location: str | None = None
    device: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.weather or self.time_of_day or self.location or self.device)

    def label(self) -> str:
        """A short key such as ``rainy|evening|Seattle|mobile`` (``-`` for unset)."""
        return "|".join(
            v or "-" for v in (self.weather, self.time_of_day, self.location, self.device)
        )


def _choice(field: str, value: str | None, valid: tuple[str, ...]) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    if text not in valid:
        raise choice_error(field, value, valid)
    return text


def parse_time_of_day(value: str | int | None) -> str | None:
    """A bucket from a bucket name or an hour ``0..23``.

    Raises:
        UserError: anything else, listing the valid values.
    """
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    if text.lstrip("-").isdigit():
        hour = int(text)
        if 0 <= hour <= 23:
            return hour_bucket(hour)
    if text in TIMES_OF_DAY:
        return text
    raise UserError(
        f"invalid time of day {value!r}; valid values: {', '.join(TIMES_OF_DAY)}, or an hour 0..23"
    )


def parse_location(value: str | None, known: Iterable[str]) -> str | None:
    """The store's spelling of ``value`` (matched case-insensitively) among ``known``.

    Raises:
        UserError: the store does not know the place; the message lists the places it knows.
    """
    if value is None or str(value).strip() == "":
        return None
    names = sorted({str(k) for k in known if k is not None and str(k).strip()})
    by_lower = {n.lower(): n for n in names}
    hit = by_lower.get(str(value).strip().lower())
    if hit is not None:
        return hit
    if not names:
        raise UserError(f"invalid location {value!r}: the store knows no locations yet")
    shown = names[:40]
    more = f" (and {len(names) - len(shown)} more)" if len(names) > len(shown) else ""
    raise UserError(f"invalid location {value!r}; valid values: {', '.join(shown)}{more}")


def parse_context(
    *,
    weather: str | None = None,
    time_of_day: str | int | None = None,
    location: str | None = None,
    device: str | None = None,
    known_locations: Iterable[str] = (),
) -> Context:
    """Validate user-typed context values into a :class:`Context`.

    Args:
        weather: one of :data:`WEATHERS` (case-insensitive) or None.
        time_of_day: one of :data:`TIMES_OF_DAY` or an hour 0..23, or None.
        location: a city, region or country among ``known_locations``, or None.
        device: one of :data:`DEVICES`, or None.
        known_locations: the places the store knows (see ``StoreData.known_locations``).

    Raises:
        UserError: a value outside its list, naming the field and the valid values.
    """
    return Context(
        weather=_choice("weather", weather, WEATHERS),
        time_of_day=parse_time_of_day(time_of_day),
        location=parse_location(location, known_locations),
        device=_choice("device", device, DEVICES),
    )


def validate_k(k: int) -> int:
    """``k`` itself when it is within 1..100.

    Raises:
        UserError: otherwise.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not K_MIN <= k <= K_MAX:
        raise UserError(f"invalid k {k!r}; valid values: an integer from {K_MIN} to {K_MAX}")
    return k

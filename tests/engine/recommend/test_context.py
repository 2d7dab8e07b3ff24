"""Context validation: every mistake is refused with the valid values listed."""

from __future__ import annotations

import pytest

from engine.errors import UserError
from engine.recommend.context import Context, hour_bucket, parse_context, validate_k

PLACES = ["Seattle", "Washington", "USA"]


def test_valid_values_normalised():
    ctx = parse_context(
        weather="Rainy",
        time_of_day="7",
        location="seattle",
        device="MOBILE",
        known_locations=PLACES,
    )
    assert ctx == Context("rainy", "morning", "Seattle", "mobile")
    assert parse_context().is_empty


@pytest.mark.parametrize(
    ("hour", "bucket"),
    [
        (0, "night"),
        (4, "night"),
        (5, "night"),
        (6, "morning"),
        (11, "morning"),
        (12, "afternoon"),
        (16, "afternoon"),
        (17, "evening"),
        (21, "evening"),
        (22, "night"),
        (23, "night"),
    ],
)
def test_hour_buckets(hour, bucket):
    assert hour_bucket(hour) == bucket
    assert parse_context(time_of_day=hour).time_of_day == bucket


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"weather": "foggy"},
            "invalid weather 'foggy'; valid values: sunny, cloudy, rainy, snowy, hot, cold",
        ),
        ({"device": "watch"}, "invalid device 'watch'; valid values: desktop, mobile, tablet"),
        (
            {"time_of_day": "24"},
            "invalid time of day '24'; valid values: morning, afternoon, evening, night, "
            "or an hour 0..23",
        ),
        ({"time_of_day": "noon"}, "valid values: morning, afternoon, evening, night"),
        (
            {"location": "Atlantis"},
            "invalid location 'Atlantis'; valid values: Seattle, USA, Washington",
        ),
    ],
)
def test_refusals(kwargs, message):
    with pytest.raises(UserError) as info:
        parse_context(known_locations=PLACES, **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("k", [0, 101, -3, True, 2.5])
def test_k_refused(k):
    with pytest.raises(UserError, match="valid values: an integer from 1 to 100"):
        validate_k(k)


def test_k_bounds_accepted():
    assert validate_k(1) == 1 and validate_k(100) == 100

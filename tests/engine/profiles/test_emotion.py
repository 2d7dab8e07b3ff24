"""Emotional-state bands and the recency weighting."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.profiles.emotion import TONES, state_of, state_one, weighted_mean
from engine.profiles.stats import RATING_LAMBDA, decay_weight


@pytest.mark.parametrize(
    ("mean", "state"),
    [
        (5.0, "very_satisfied"),
        (4.5, "very_satisfied"),
        (4.49, "satisfied"),
        (4.0, "satisfied"),
        (3.99, "neutral"),
        (3.0, "neutral"),
        (2.99, "dissatisfied"),
        (2.0, "dissatisfied"),
        (1.99, "very_dissatisfied"),
        (1.0, "very_dissatisfied"),
    ],
)
def test_bands(mean, state):
    assert state_of(mean, 3) == state
    assert state in TONES


def test_unknown_without_reviews_and_vectorised():
    assert state_of(np.nan, 0) == "unknown"
    out = state_of(np.array([4.7, np.nan, 2.5]), np.array([2, 0, 1]))
    assert out.tolist() == ["very_satisfied", "unknown", "dissatisfied"]


def test_half_life_of_180_days():
    # A 1 today and a 5 exactly 180 days earlier: weights 1 and 1/2 -> (1 + 2.5) / 1.5.
    new, old = datetime(2024, 7, 1), datetime(2024, 1, 3)
    assert (new - old).days == 180
    w_new, w_old = decay_weight(new, RATING_LAMBDA), decay_weight(old, RATING_LAMBDA)
    assert w_old / w_new == pytest.approx(0.5)
    mean = weighted_mean(1 * w_new + 5 * w_old, w_new + w_old)
    assert float(mean) == pytest.approx(3.5 / 1.5)
    assert state_of(mean, 2) == "dissatisfied"


@given(
    wsum=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    w=st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e6)),
    reviews=st.integers(min_value=0, max_value=50),
)
@settings(max_examples=500, deadline=None)
def test_one_customer_state_is_the_vectorised_rule(wsum, w, reviews):
    # tracking's plain-float state_one must band exactly as state_of(weighted_mean(...))
    mean = weighted_mean(wsum, w)
    expected = state_of(np.where(reviews > 0, mean, 0.0), reviews)
    assert state_one(wsum, w, reviews) == expected


@pytest.mark.parametrize(
    "mean", [4.4999999999, 4.49999999995, 2.0000000004, 3.9999999996, 1.99999999949]
)
def test_one_customer_state_rounds_float_noise_as_numpy_does(mean):
    assert state_one(mean * 7.0, 7.0, 3) == state_of(weighted_mean(mean * 7.0, 7.0), 3)

"""Every score on hand-written statistics, the calibration, and hypothesis properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.profiles.scoring import (
    MIN_EVIDENCE,
    SCORES,
    Calibration,
    enough_one,
    evidence_mask,
    explain,
    fit_calibration,
    score_columns,
    score_frame,
    score_one,
)
from engine.profiles.stats import COUNT_COLUMNS, FLOAT_COLUMNS

CAL = Calibration(
    median_spend=100.0,
    median_orders_365=4.0,
    median_research=2.0,
    discount_share=0.2,
    top2_share=0.4,
    impulse_share=0.1,
    weekend_share=0.3,
    night_share=0.1,
    mobile_share=0.3,
)


def _stats(**values: float) -> dict[str, float]:
    base = {name: 0 for name in COUNT_COLUMNS} | {name: 0.0 for name in FLOAT_COLUMNS}
    base.update(values)
    return base


def _scores(**values: float) -> dict[str, float]:
    return {k: float(v) for k, v in score_columns(_stats(**values), CAL).items()}


def test_ratio_scores_by_hand():
    # LTV: r = 300/100 = 3 -> 100*3/4 = 75.
    assert _scores(spend=300.0)["lifetime_value"] == pytest.approx(75.0)
    # Frequency: r = 12/4 = 3 -> 75; at the median -> 50.
    assert _scores(orders_365=12)["purchase_frequency"] == pytest.approx(75.0)
    assert _scores(orders_365=4)["purchase_frequency"] == pytest.approx(50.0)
    # Research: (views 10 + searches 2) / (orders 3 + 1) = 3; r = 3/2 -> 60.
    assert _scores(views=10, searches=2, orders=3)["research_intensity"] == pytest.approx(60.0)
    # Negative net spend (refund-like discounts) scores 0, never below.
    assert _scores(spend=-50.0)["lifetime_value"] == 0.0


def test_share_scores_by_hand():
    # Price sensitivity: (8 + 3*0.2) / (10 + 3) = 8.6/13.
    assert _scores(disc_lines=8, lines=10)["price_sensitivity"] == pytest.approx(100 * 8.6 / 13)
    # Brand loyalty: (9 + 3*0.4) / (10 + 3).
    assert _scores(top2_lines=9, branded_lines=10)["brand_loyalty"] == pytest.approx(
        100 * 10.2 / 13
    )
    # Impulse: (4 + 0.3) / (5 + 3).
    assert _scores(quick_lines=4, viewed_lines=5)["impulse_buying"] == pytest.approx(100 * 4.3 / 8)
    s = _scores(activity=20, weekend=16, night=2, mobile=19)
    assert s["weekend_shopping"] == pytest.approx(100 * (16 + 0.9) / 23)
    assert s["night_shopping"] == pytest.approx(100 * (2 + 0.3) / 23)
    assert s["mobile_usage"] == pytest.approx(100 * (19 + 0.9) / 23)


def test_no_data_gets_the_prior_and_says_so():
    s = _scores()
    assert s["price_sensitivity"] == pytest.approx(20.0)
    assert s["weekend_shopping"] == pytest.approx(30.0)
    assert s["lifetime_value"] == 0.0 and s["research_intensity"] == 0.0
    details = explain(_stats(), CAL)
    assert details["price_sensitivity"]["n"] == 0
    assert details["price_sensitivity"]["value"] is None
    assert "not enough data (0 of 5 order lines)" in details["price_sensitivity"]["explanation"]
    assert "not enough data" in details["lifetime_value"]["explanation"]


def test_a_score_below_its_minimum_evidence_is_not_given():
    """Not enough data is a state: NaN in frames, None in one profile, never a number."""
    thin = _stats(
        orders=1,
        orders_365=1,
        spend=500.0,
        lines=4,
        disc_lines=4,
        activity=9,
        weekend=9,
        viewed_lines=4,
        quick_lines=4,
        branded_lines=7,
        top2_lines=7,
    )
    enough = evidence_mask(thin)
    assert not any(bool(v) for v in enough.values())
    details = explain(thin, CAL)
    assert all(d["value"] is None for d in details.values())
    assert details["lifetime_value"]["min_n"] == MIN_EVIDENCE["lifetime_value"]
    frame = pd.DataFrame([thin, _stats(orders=2, orders_365=2, spend=10.0, lines=5, activity=10)])
    frame.insert(0, "customer_id", ["thin", "two"])
    scored = score_frame(frame, CAL).set_index("customer_id")
    assert scored.loc["thin"].isna().all()
    assert (
        scored.loc["two", ["lifetime_value", "price_sensitivity", "weekend_shopping"]].notna().all()
    )
    assert np.isnan(scored.loc["two", "brand_loyalty"])
    # A lower minimum (configured with the segment rules) gives the score.
    relaxed = score_frame(frame, CAL, {"lifetime_value": 1}).set_index("customer_id")
    assert relaxed.loc["thin", "lifetime_value"] > 50


def test_fit_calibration_by_hand():
    stats = pd.DataFrame(
        [
            _stats(
                spend=10.0,
                orders=1,
                orders_365=1,
                lines=2,
                disc_lines=1,
                activity=4,
                weekend=2,
                views=3,
                branded_lines=5,
                top2_lines=5,
                viewed_lines=2,
                quick_lines=1,
            ),
            _stats(
                spend=30.0,
                orders=3,
                orders_365=2,
                lines=2,
                disc_lines=0,
                activity=6,
                mobile=3,
                views=7,
                branded_lines=10,
                top2_lines=4,
            ),
            _stats(),  # no data: votes on no median and no share
        ]
    )
    stats.insert(0, "customer_id", ["a", "b", "c"])
    stats["top_category"] = None
    cal = fit_calibration(stats)
    assert cal.median_spend == 20.0
    assert cal.median_orders_365 == 1.5
    # research per order: 3/2 = 1.5 and 7/4 = 1.75 -> median 1.625
    assert cal.median_research == pytest.approx(1.625)
    assert cal.discount_share == pytest.approx(0.25)
    assert cal.top2_share == pytest.approx((1.0 + 0.4) / 2)
    assert cal.impulse_share == pytest.approx(0.5)
    assert cal.weekend_share == pytest.approx(0.2)
    assert cal.mobile_share == pytest.approx(0.3)
    assert fit_calibration(stats.iloc[0:0]) == Calibration()


counts = st.integers(min_value=0, max_value=10_000)


@st.composite
def stats_and_calibration(draw):
    lines = draw(counts)
    branded = draw(st.integers(0, lines))
    viewed = draw(st.integers(0, lines))
    activity = draw(counts)
    values = _stats(
        lines=lines,
        disc_lines=draw(st.integers(0, lines)),
        branded_lines=branded,
        top2_lines=draw(st.integers(0, branded)),
        viewed_lines=viewed,
        quick_lines=draw(st.integers(0, viewed)),
        activity=activity,
        weekend=draw(st.integers(0, activity)),
        night=draw(st.integers(0, activity)),
        mobile=draw(st.integers(0, activity)),
        orders=draw(counts),
        orders_365=draw(counts),
        views=draw(counts),
        searches=draw(counts),
        spend=draw(st.floats(-1e6, 1e9, allow_nan=False)),
    )
    share = st.floats(0.0, 1.0)
    positive = st.floats(0.0, 1e6, allow_nan=False)
    cal = Calibration(
        median_spend=draw(positive),
        median_orders_365=draw(positive),
        median_research=draw(positive),
        discount_share=draw(share),
        top2_share=draw(share),
        impulse_share=draw(share),
        weekend_share=draw(share),
        night_share=draw(share),
        mobile_share=draw(share),
    )
    return values, cal


@given(stats_and_calibration())
@settings(max_examples=300, deadline=None)
def test_scores_in_range_never_nan(pair):
    values, cal = pair
    for name, value in score_columns(values, cal).items():
        assert not math.isnan(float(value)), name
        assert 0.0 <= float(value) <= 100.0, name


@given(stats_and_calibration())
@settings(max_examples=300, deadline=None)
def test_discounted_purchase_never_lowers_price_sensitivity(pair):
    values, cal = pair
    before = float(score_columns(values, cal)["price_sensitivity"])
    values = values | {"lines": values["lines"] + 1, "disc_lines": values["disc_lines"] + 1}
    assert float(score_columns(values, cal)["price_sensitivity"]) >= before - 1e-9


@given(stats_and_calibration())
@settings(max_examples=300, deadline=None)
def test_moving_activity_to_the_weekend_never_lowers_weekend_score(pair):
    values, cal = pair
    if values["weekend"] >= values["activity"]:
        return
    before = float(score_columns(values, cal)["weekend_shopping"])
    moved = values | {"weekend": values["weekend"] + 1}
    assert float(score_columns(moved, cal)["weekend_shopping"]) >= before - 1e-9


def test_score_frame_is_vectorised_and_matches_single_rows():
    rows = [
        _stats(spend=50.0 * i, lines=i, disc_lines=i // 2, activity=3 * i, weekend=i)
        for i in range(5)
    ]
    frame = pd.DataFrame(rows)
    frame.insert(0, "customer_id", [f"c{i}" for i in range(5)])
    scored = score_frame(frame, CAL, dict.fromkeys(SCORES, 1))
    assert list(scored.columns) == ["customer_id", *SCORES]
    for i, row in enumerate(rows):
        single = score_columns(row, CAL)
        given = evidence_mask(row, dict.fromkeys(SCORES, 1))
        expected = [single[k] if given[k] else np.nan for k in SCORES]
        assert np.allclose([scored.loc[i, k] for k in SCORES], expected, equal_nan=True)


_COUNT = st.integers(min_value=0, max_value=10_000)
_AMOUNT = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)
_SHARE = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_MEDIAN = st.floats(min_value=0.0, max_value=1e4, allow_nan=False)


@given(
    counts=st.fixed_dictionaries({name: _COUNT for name in COUNT_COLUMNS}),
    amounts=st.fixed_dictionaries({name: _AMOUNT for name in FLOAT_COLUMNS}),
    medians=st.tuples(_MEDIAN, _MEDIAN, _MEDIAN),
    shares=st.tuples(*([_SHARE] * 6)),
    minimums=st.fixed_dictionaries({name: st.integers(1, 20) for name in SCORES}),
)
@settings(max_examples=300, deadline=None)
def test_one_customer_in_plain_floats_is_the_vectorised_arithmetic(
    counts, amounts, medians, shares, minimums
):
    # tracking scores one customer with score_one: the same numbers to the last bit as the
    # batch's score_columns, so track() and `score` cannot drift apart
    calibration = Calibration(*medians, *shares)
    stats = {**counts, **amounts}
    vectorised = score_columns({k: np.array([v]) for k, v in stats.items()}, calibration)
    one = score_one(stats, calibration)
    assert list(one) == list(SCORES)
    for name in SCORES:
        assert one[name] == float(vectorised[name][0]), name
        assert isinstance(one[name], float)
    mask = evidence_mask(stats, minimums)
    assert enough_one(stats, minimums) == {name: bool(mask[name]) for name in SCORES}

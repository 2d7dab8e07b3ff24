"""The unified profile on both backends, batch scoring, and point-in-time reads."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from engine.db import session_scope
from engine.errors import UserError
from engine.profiles import compute_profiles, get_profile, score_store
from engine.profiles.scoring import MIN_EVIDENCE

from .factories import AS_OF, build


def test_profile_stored_and_on_the_fly(store):
    with session_scope(store) as session:
        build(session)
    with session_scope(store) as session:
        report = score_store(session, as_of=AS_OF, computed_at=datetime(2024, 2, 1))
        assert report.customers == 3
    with session_scope(store) as session:
        profile = get_profile(session, "c1")
        assert profile.source == "stored" and profile.as_of == AS_OF
        assert profile.name == "Ada"
        assert profile.data_points == {"orders": 2, "lines": 3, "activity": 6, "reviews": 2}
        assert profile.scores["price_sensitivity"].inputs["discounted_lines"] == 1
        # Reviews 2 (Jan 11) and 5 (Jan 12): weighted mean just above 3.5 -> neutral.
        assert profile.emotional_state == "neutral"
        assert profile.unhappy_brands == ["Beta"] and profile.unhappy_categories == []
        assert profile.channels["ios"] == {"events": 1, "orders": 1}
        assert profile.channels["android"] == {"events": 1, "orders": 0}
        assert profile.searches["query"].tolist() == ["coffee"]
        assert len(profile.purchases) == 3
        assert profile.category_interest["name"].tolist() == ["Coffee", "Books"]
        assert profile.brand_interest["name"].iloc[0] == "Beta"
        # Two actions each on Wednesday and Saturday; ties go to the earlier weekday.
        assert profile.active_weekdays == ["Wednesday", "Saturday"]
        json.dumps(profile.as_dict())  # JSON-ready

        c2 = get_profile(session, "c2")
        assert c2.stitched == {"anonymous_ids": 1, "events": 2}
        assert c2.data_points["activity"] == 2

        # Explicit as_of: computed from data before it, not the stored row.
        early = get_profile(session, "c1", as_of=datetime(2024, 1, 7))
        assert early.source == "computed"
        assert early.data_points == {"orders": 1, "lines": 2, "activity": 5, "reviews": 0}
        assert early.emotional_state == "unknown"
        assert early.searches["query"].tolist() == ["coffee"]

        empty = get_profile(session, "c3")
        assert empty.scores["weekend_shopping"].n == 0
        # No evidence: "not enough data", not the store's share dressed up as a score.
        assert empty.scores["weekend_shopping"].value is None
        assert "not enough data" in empty.scores["weekend_shopping"].explanation
        assert empty.segments == []

        with pytest.raises(UserError, match="unknown customer 'nope'"):
            get_profile(session, "nope")


def test_compute_profiles_columns_and_nan_only_without_evidence(sqlite_store):
    with session_scope(sqlite_store) as session:
        build(session)
    with session_scope(sqlite_store) as session:
        profiles = compute_profiles(session, as_of=AS_OF)
        default = compute_profiles(session, as_of=AS_OF, min_evidence=dict(MIN_EVIDENCE))
    assert profiles["customer_id"].tolist() == ["c1", "c2", "c3"]
    scores = profiles.iloc[:, 1:10]
    assert not scores.iloc[0].isna().any()  # c1 has evidence for every score
    assert scores.iloc[2].isna().all()  # c3 has none
    given = scores.to_numpy()[~np.isnan(scores.to_numpy(dtype=float))]
    assert ((given >= 0) & (given <= 100)).all()
    # At the default minimums (2 orders, 5 lines, 10 actions, ...) c1's two orders give
    # value and frequency, and nothing else is scored or segmented.
    given_default = default.set_index("customer_id").iloc[:, :9].notna()
    assert given_default.loc["c1"].to_dict() == {
        name: name in ("lifetime_value", "purchase_frequency") for name in MIN_EVIDENCE
    }
    assert not given_default.loc[["c2", "c3"]].any().any()
    assert set(";".join(default["segments"]).split(";")) <= {"", "high_value", "frequent_buyer"}
    assert profiles.attrs["as_of"] == AS_OF
    # c1: 3 lines, 1 discounted; store share 1/3 -> (1 + 3 * 1/3) / (3 + 3) = 1/3.
    assert profiles.loc[0, "price_sensitivity"] == pytest.approx(100 / 3)


def test_computed_profile_matches_the_batch_and_takes_its_calibration(sqlite_store):
    """A profile computed as of a moment scores and segments like the batch as of then;
    given the batch's calibration it does not refit one (and agrees)."""
    from engine.profiles import SCORES, Calibration

    moment = datetime(2024, 1, 12, 12)
    with session_scope(sqlite_store) as session:
        build(session)
    with session_scope(sqlite_store) as session:
        batch = compute_profiles(session, as_of=moment).set_index("customer_id")
        calibration = Calibration.from_dict(batch.attrs["calibration"])
        fitted = get_profile(session, "c1", as_of=moment)
        given = get_profile(session, "c1", as_of=moment, calibration=calibration)
        # A different calibration changes the scores: it is really used.
        skewed = get_profile(session, "c1", as_of=moment, calibration=Calibration(median_spend=1e6))
    for profile in (fitted, given):
        values = {k: np.nan if v.value is None else v.value for k, v in profile.scores.items()}
        assert values == pytest.approx({k: batch.loc["c1", k] for k in SCORES}, nan_ok=True)
        assert profile.segments == [s for s in batch.loc["c1", "segments"].split(";") if s]
    assert skewed.scores["lifetime_value"].value < given.scores["lifetime_value"].value

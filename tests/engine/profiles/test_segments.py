"""Segment rules, what-if previews, and stored sizes/overlaps."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from engine.db import session_scope
from engine.errors import UserError
from engine.profiles import (
    assign_segments,
    load_rules,
    preview_segment_sizes,
    save_rules,
    score_store,
    segment_members,
    segment_overlaps,
    segment_sizes,
)
from engine.profiles.scoring import SCORES
from engine.profiles.segments import DEFAULT_RULES, segments_for, slug

from .factories import AS_OF, build


def _profiles() -> pd.DataFrame:
    rows = []
    for cid, overrides, category, share, events in [
        ("a", {"lifetime_value": 85.0, "purchase_frequency": 71.0}, "Home & Garden", 55.0, 20),
        ("b", {"lifetime_value": 80.0, "price_sensitivity": 61.0}, "Books", 50.0, 9),
        ("c", {"night_shopping": 99.0, "mobile_usage": 70.0}, None, 0.0, 0),
    ]:
        row = {name: 10.0 for name in SCORES} | overrides
        row |= {
            "customer_id": cid,
            "top_category": category,
            "category_share": share,
            "interest_events": events,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def test_default_rules_strictly_greater_and_enthusiasts():
    members = assign_segments(_profiles())
    got = sorted(zip(members["customer_id"], members["segment"], strict=True))
    # b's LTV of exactly 80 is not > 80; b has too few interest events to be an enthusiast;
    # c's mobile 70 is not > 70.
    assert got == [
        ("a", "frequent_buyer"),
        ("a", "high_value"),
        ("a", "home_garden_enthusiast"),
        ("b", "deal_seeker"),
        ("c", "night_owl"),
    ]
    assert slug("Pet Supplies") == "pet_supplies"


def test_segments_for_one_customer_agrees_with_frame():
    profiles = _profiles()
    members = assign_segments(profiles)
    rules = load_rules_default()
    for row in profiles.to_dict("records"):
        one = segments_for(
            row, row["top_category"], row["category_share"], row["interest_events"], rules
        )
        assert one == sorted(members.loc[members["customer_id"] == row["customer_id"], "segment"])


def load_rules_default():
    from engine.profiles.segments import normalise_rules

    return normalise_rules(None)


def test_preview_is_pure_what_if():
    profiles = _profiles()
    base = preview_segment_sizes(profiles).set_index("segment")["size"]
    assert base["high_value"] == 1 and base["researcher"] == 0
    lowered = preview_segment_sizes(profiles, {"high_value": 79.0}).set_index("segment")["size"]
    assert lowered["high_value"] == 2
    assert (
        preview_segment_sizes(profiles, {"category_enthusiast": 60.0})
        .set_index("segment")["size"]
        .get("home_garden_enthusiast", 0)
        == 0
    )
    with pytest.raises(UserError, match="unknown segment rule"):
        preview_segment_sizes(profiles, {"vip": 10.0})
    with pytest.raises(UserError, match="0 to 100"):
        preview_segment_sizes(profiles, {"high_value": 120.0})


def test_rules_saved_and_stored_memberships(store):
    with session_scope(store) as session:
        build(session)
    with session_scope(store) as session:
        assert load_rules(session) == DEFAULT_RULES
        save_rules(session, {"night_owl": 10.0}, updated_at=datetime(2024, 3, 1))
    with session_scope(store) as session:
        assert load_rules(session)["night_owl"].threshold == 10.0
        report = score_store(session, as_of=AS_OF, computed_at=datetime(2024, 3, 1))
    with session_scope(store) as session:
        sizes = segment_sizes(session)
        members = segment_members(session)
        assert dict(zip(sizes["segment"], sizes["size"], strict=True)) == report.segment_sizes
        assert len(members) == report.memberships
        overlaps = segment_overlaps(session)
        # Stored and on-the-fly (same data, same as_of) agree.
        computed = segment_members(session, as_of=AS_OF)
        assert sorted(map(tuple, computed.to_numpy().tolist())) == sorted(
            map(tuple, members.to_numpy().tolist())
        )
        assert overlaps.equals(segment_overlaps(session, as_of=AS_OF)) or overlaps.empty
        assert "night_owl" in set(members["segment"])

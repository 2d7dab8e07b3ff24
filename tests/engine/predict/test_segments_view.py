"""Reading stored segment memberships for the predictions' store view."""

from __future__ import annotations

from datetime import datetime

from engine.db import session_scope
from engine.models import Customer, SegmentMembership
from engine.predict.segments_view import segment_members_frame, segments_stamp

SCORED = datetime(2024, 5, 1)


def test_no_memberships_is_an_empty_frame_and_a_zero_stamp(store):
    with session_scope(store) as session:
        members = segment_members_frame(session)
        assert list(members.columns) == ["customer_id", "segment"] and members.empty
        assert segments_stamp(session) == (0, None, None)


def test_memberships_come_back_sorted_by_segment_then_customer(store):
    with session_scope(store) as session:
        session.add_all([Customer(customer_id=c) for c in ("b", "a", "c")])
        session.flush()
        session.add_all(
            SegmentMembership(
                customer_id=c, segment=s, computed_at=datetime(2024, 5, 2, 8), as_of=SCORED
            )
            for c, s in [("b", "loyal"), ("a", "loyal"), ("c", "deal_seeker"), ("a", "deal_seeker")]
        )
    with session_scope(store) as session:
        members = segment_members_frame(session)
        assert members.values.tolist() == [
            ["a", "deal_seeker"],
            ["c", "deal_seeker"],
            ["a", "loyal"],
            ["b", "loyal"],
        ]
        assert segments_stamp(session) == (4, SCORED, datetime(2024, 5, 2, 8))

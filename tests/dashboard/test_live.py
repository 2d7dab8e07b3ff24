"""A live run writes ordinary events: stopping leaves the store consistent, and batch
scoring afterwards agrees with what tracking showed (SQLite and PostgreSQL)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from dashboard.live import LiveRun
from engine.db import session_scope
from engine.errors import UserError
from engine.models import Event, Order, Profile, ProfileStats, Review, SegmentMembership
from engine.profiles import score_store
from engine.profiles.profile import compute_profiles, stored_calibration
from engine.profiles.scoring import SCORES
from engine.profiles.stats import COUNT_COLUMNS, FLOAT_COLUMNS
from engine.recommend import BlendRecommender, StoreData
from seed.writer import write_market

FOLLOWED = "C00004"


@pytest.fixture
def live_store(store, small_market):
    write_market(store, small_market)
    with session_scope(store) as session:
        score_store(session)
    return store


def _stored(engine) -> dict[str, dict]:
    with session_scope(engine) as session:
        stats = {
            s.customer_id: {c: getattr(s, c) for c in (*COUNT_COLUMNS, *FLOAT_COLUMNS)}
            for s in session.scalars(select(ProfileStats))
        }
        states = {
            c: s for c, s in session.execute(select(Profile.customer_id, Profile.emotional_state))
        }
        members = {}
        for cid, segment in session.execute(
            select(SegmentMembership.customer_id, SegmentMembership.segment)
        ):
            members.setdefault(cid, set()).add(segment)
    return {"stats": stats, "states": states, "segments": members}


def test_a_run_is_ordinary_events_that_batch_scoring_agrees_with(live_store):
    live = LiveRun(live_store, speed=86_400, seed=3, follow=FOLLOWED, minutes=0.05)
    state = live.run()
    assert not state.running and state.events > 20 and live.error is None
    with session_scope(live_store) as session:
        recorded = session.scalar(
            select(func.count()).select_from(Event).where(Event.event_id.like("sim3-%"))
        )
        assert recorded == state.events
        orders = session.scalar(
            select(func.count()).select_from(Order).where(Order.order_id.like("trk-sim3-%"))
        )
        assert orders == state.purchases
        # what tracking wrote equals a batch recompute as of the same moment
        touched = session.scalars(
            select(Profile).where(Profile.customer_id.in_({e["customer"] for e in state.feed}))
        ).all()
        for profile in touched:
            batch = compute_profiles(
                session,
                as_of=profile.as_of,
                calibration=stored_calibration(session, profile.calibration_id),
                customer_ids=[profile.customer_id],
            ).iloc[0]
            for name in SCORES:
                if not np.isnan(batch[name]):
                    assert getattr(profile, name) == pytest.approx(batch[name], abs=1e-9)
            assert profile.emotional_state == batch["emotional_state"]
    tracked = _stored(live_store)
    with session_scope(live_store) as session:
        score_store(session)  # `personalize score`
    scored = _stored(live_store)
    for cid, figures in tracked["stats"].items():
        for column, value in figures.items():
            assert scored["stats"][cid][column] == pytest.approx(value, rel=1e-6, abs=1e-6), (
                cid,
                column,
            )
    assert scored["states"] == tracked["states"]


def test_stopping_mid_run_leaves_every_event_whole(live_store):
    live = LiveRun(live_store, speed=200_000, seed=4, follow=FOLLOWED)
    live.start()
    live.inject("review_1_star")
    import time

    deadline = time.monotonic() + 60
    while live.state().events < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    live.stop()
    assert not live.running and live.state().message == "stopped"
    with live_store.connect() as connection:
        purchases = connection.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.event_id.like("sim4-%"), Event.event_type == "purchase")
        )
        orders = connection.scalar(
            select(func.count()).select_from(Order).where(Order.order_id.like("trk-sim4-%"))
        )
        reviews = connection.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.event_id.like("sim4-%"), Event.event_type == "review")
        )
        review_rows = connection.scalar(
            select(func.count()).select_from(Review).where(Review.review_id.like("trk-sim4-%"))
        )
    assert purchases == orders and reviews == review_rows >= 1


def test_a_one_star_review_changes_mood_and_recommendations(live_store):
    with session_scope(live_store) as session:
        blend = BlendRecommender().fit(StoreData.load(session))
    seen: list[list[str]] = []
    live = LiveRun(
        live_store,
        speed=60,
        seed=5,
        follow=FOLLOWED,
        blend=blend,
        on_change=lambda event, found: seen.append(found),
    )
    before = live.state().followed.look
    live.inject("review_1_star")
    live.alive = lambda: not seen  # stop once the followed customer changed
    live.run()
    after = live.state().followed.look
    assert after.emotional_state != before.emotional_state
    assert after.emotional_state in ("dissatisfied", "very_dissatisfied")
    assert after.top != before.top
    text = "; ".join(seen[0])
    assert "emotional state" in text and "recommendations changed" in text


def test_an_ended_session_stops_the_run(live_store):
    live = LiveRun(live_store, speed=3600, alive=lambda: False)
    assert live.run().message == "stopped: the dashboard session ended"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"speed": 0}, "invalid speed"),
        ({"speed": 3600, "minutes": -1}, "invalid minutes"),
        ({"speed": 3600, "follow": "nobody"}, "unknown customer"),
    ],
)
def test_bad_options_are_one_line_errors(live_store, options, message):
    with pytest.raises(UserError, match=message):
        LiveRun(live_store, **options)


def test_injecting_needs_a_followed_customer(live_store):
    live = LiveRun(live_store, speed=3600)
    with pytest.raises(UserError, match="follow a customer first"):
        live.inject("review_1_star")
    live.follow(FOLLOWED)
    with pytest.raises(UserError, match="valid values"):
        live.inject("dance")


def test_the_quick_look_is_the_profiles(live_store):
    from dashboard.live_follow import _profile_look, look

    with session_scope(live_store) as session:
        reviewers = session.scalars(
            select(Review.customer_id)
            .group_by(Review.customer_id)
            .order_by(func.count().desc())
            .limit(5)
        ).all()
        for customer in [*reviewers, FOLLOWED]:
            quick, full = look(session, customer), _profile_look(session, customer)
            assert quick == full, customer

"""track_many == track on each event in turn: the same store, the same answers."""

from __future__ import annotations

import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from engine.db import make_engine, open_store, run_write, session_scope
from engine.errors import ValidationError
from engine.models import Base
from engine.profiles import score_store, track
from engine.profiles.track_batch import track_many

from .factories import AS_OF, build

COMPUTED = datetime(2024, 4, 1)
START = datetime(2024, 1, 20)
CUSTOMERS = ["c1", "c2", "c3", "c9", "new1", "new2"]  # c9, new*: not in the store
ANONYMOUS = ["a1", "a2", "a3", "zz"]


def _tables(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (membership as_of and refit bookkeeping aside)."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [
                c.name
                for c in table.columns
                if not (table.name == "segment_memberships" and c.name == "as_of")
            ]
            rows = conn.execute(select(*(table.c[c] for c in columns))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_same_store(one: Engine, many: Engine) -> None:
    left, right = _tables(one), _tables(many)
    for name, rows in left.items():
        assert len(rows) == len(right[name]), name
        for a, b in zip(rows, right[name], strict=True):
            assert all(_same(x, y) for x, y in zip(a, b, strict=True)), (name, a, b)


def assert_same_answers(singles, batched) -> None:
    """Statuses per event; each customer's last recorded result carries what one at a
    time answered for that event."""
    assert [r.status for r in batched] == [
        "refused" if isinstance(r, str) else r.status for r in singles
    ]
    for index, result in enumerate(batched):
        if result.status == "refused":
            assert result.error == singles[index]
            continue
        if result.status != "recorded":
            continue
        if not result.carries_profile:
            assert result.scores == {} and result.segments == []
            continue
        single = singles[index]
        assert (
            result.segments == single.segments and result.emotional_state == single.emotional_state
        )
        assert result.scores.keys() == single.scores.keys()
        for name, value in result.scores.items():
            other = single.scores[name]
            assert (value is None) == (other is None), name
            assert value is None or math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9)


def one_at_a_time(engine: Engine, events: list[dict]) -> list:
    """track per event in one transaction; a refusal is its message (nothing written)."""
    out: list = []

    def work(session):
        out.clear()
        for event in events:
            try:
                out.append(track(session, event, computed_at=COMPUTED))
            except ValidationError as exc:
                out.append(str(exc))

    run_write(engine, work)
    return out


def all_at_once(engine: Engine, events: list[dict]) -> list:
    return run_write(engine, lambda s: track_many(s, events, computed_at=COMPUTED))


event_strategy = st.fixed_dictionaries(
    {
        "event_type": st.sampled_from(
            [
                "product_view",
                "product_view",
                "search",
                "cart_add",
                "wishlist_add",
                "purchase",
                "review",
                "teleport",
            ]
        ),
        "who": st.tuples(st.sampled_from([*CUSTOMERS, None]), st.sampled_from([*ANONYMOUS, None])),
        "product_id": st.sampled_from(["p1", "p2", "p3", "p3", "nope", None]),
        "minutes": st.integers(-60 * 24 * 30, 60 * 24 * 60),
        "channel": st.sampled_from([None, "web", "ios", "store"]),
        "device": st.sampled_from([None, "desktop", "mobile", "watch"]),
        "rating": st.integers(0, 5),
        "event_id": st.sampled_from([None, None, "x1", "x2", "x3", "e-old"]),
    }
)


def as_event(raw: dict) -> dict:
    customer, anonymous = raw["who"]
    event = {
        "event_type": raw["event_type"],
        "customer_id": customer,
        "anonymous_id": anonymous,
        "product_id": raw["product_id"],
        "channel": raw["channel"],
        "device": raw["device"],
        "event_id": raw["event_id"],
        "occurred_at": (START + timedelta(minutes=raw["minutes"])).isoformat(),
        "rating": raw["rating"] or None,
        "query": "sale",
    }
    return {k: v for k, v in event.items() if v is not None}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = open_store(f"sqlite:///{path}")
    with session_scope(engine) as session:
        build(session)
    with session_scope(engine) as session:
        score_store(session, as_of=AS_OF, computed_at=datetime(2024, 2, 1))
    # an event tracked before: "e-old" is a duplicate in every batch
    with session_scope(engine) as session:
        track(
            session,
            {
                "event_id": "e-old",
                "event_type": "search",
                "customer_id": "c1",
                "occurred_at": "2024-01-25T10:00:00",
            },
            computed_at=COMPUTED,
        )
        # a customer in the store without a profile (their events need a recompute)
        session.execute(text("INSERT INTO customers (customer_id) VALUES ('c9')"))
    engine.dispose()
    return path


def _copies(template: Path, directory: Path) -> tuple[Engine, Engine]:
    engines = []
    for name in ("one", "many"):
        shutil.copy(template, directory / f"{name}.db")
        engines.append(make_engine(f"sqlite:///{directory / name}.db"))
    return engines[0], engines[1]


@given(st.lists(event_strategy, min_size=1, max_size=16))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_batch_equals_one_at_a_time(template, tmp_path_factory, raw_events):
    one, many = _copies(template, tmp_path_factory.mktemp("example"))
    try:
        events = [as_event(r) for r in raw_events]
        singles = one_at_a_time(one, events)
        batched = all_at_once(many, events)
        assert_same_answers(singles, batched)
        assert_same_store(one, many)
    finally:
        one.dispose()
        many.dispose()


def test_batches_after_batches_are_idempotent_by_event_id(template, tmp_path):
    one, many = _copies(template, tmp_path)
    first = [
        {
            "event_id": f"b-{i}",
            "event_type": "product_view",
            "customer_id": c,
            "product_id": p,
            "occurred_at": f"2024-02-0{1 + i % 5}T1{i % 10}:00:00",
        }
        for i, (c, p) in enumerate(
            [("c1", "p1"), ("c2", "p2"), ("c1", "p3"), ("new1", "p1"), ("c3", "p2")]
        )
    ]
    again = [*first[:2], {**first[0], "event_id": "b-new"}, first[3], first[3]]
    for batch in (first, again):
        singles = one_at_a_time(one, batch)
        assert_same_answers(singles, all_at_once(many, batch))
    assert [r.status for r in all_at_once(many, again)] == ["duplicate"] * 5
    assert_same_store(one, many)


def test_refused_events_are_reported_each_and_nothing_of_them_written(template, tmp_path):
    one, many = _copies(template, tmp_path)
    batch = [
        {
            "event_type": "product_view",
            "customer_id": "c1",
            "product_id": "p1",
            "occurred_at": "2024-02-02T10:00:00",
            "event_id": "r-1",
        },
        {
            "event_type": "product_view",
            "customer_id": "c1",
            "product_id": "nope",
            "occurred_at": "2024-02-02T10:01:00",
            "event_id": "r-2",
        },
        {
            "event_type": "purchase",
            "anonymous_id": "unknown",
            "product_id": "p1",
            "occurred_at": "2024-02-02T10:02:00",
            "event_id": "r-3",
        },
        {"event_type": "search", "customer_id": "c1", "occurred_at": "someday", "event_id": "r-4"},
        # r-2 wrote nothing: its id is free for this one
        {
            "event_type": "search",
            "customer_id": "c2",
            "query": "tea",
            "occurred_at": "2024-02-02T10:03:00",
            "event_id": "r-2",
        },
    ]
    results = all_at_once(many, batch)
    assert [r.status for r in results] == ["recorded", "refused", "refused", "refused", "recorded"]
    assert results[1].error == "invalid product_id 'nope': no such product"
    assert results[2].error.startswith("missing customer_id: a purchase event needs")
    assert results[3].error.startswith("invalid occurred_at 'someday'")
    assert_same_answers(one_at_a_time(one, batch), results)
    assert_same_store(one, many)


def test_a_customers_last_event_carries_the_profile_and_the_one_before(template, tmp_path):
    _, many = _copies(template, tmp_path)
    batch = [
        {
            "event_type": "product_view",
            "customer_id": c,
            "product_id": "p3",
            "occurred_at": f"2024-02-03T1{i}:00:00",
        }
        for i, c in enumerate(["c1", "new2", "c1", "new2", "c1"])
    ]
    with session_scope(many) as session:
        stored = session.execute(
            text("SELECT emotional_state FROM profiles WHERE customer_id = 'c1'")
        ).scalar()
    results = all_at_once(many, batch)
    assert [r.carries_profile for r in results] == [False, False, False, True, True]
    assert results[0].scores == {} and len(results[4].scores) == 9
    assert results[4].before is not None and results[4].before.emotional_state == stored
    assert results[3].before is None  # a new customer


def _rolled_back(engine: Engine, work) -> tuple[list, dict[str, list[tuple]]]:
    """What ``work(session)`` answers and leaves in every table, then rolled back.

    Event row ids (and the ``trk-<row id>`` keys made of them) count from the first
    new one: PostgreSQL does not roll a sequence back.
    """
    import re

    from sqlalchemy.orm import Session

    with engine.connect() as conn:
        transaction = conn.begin()
        base = conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one()
        first = conn.execute(
            text(
                "INSERT INTO events (event_type, occurred_at) VALUES ('search', '2024-01-01') "
                "RETURNING id"
            )
        ).scalar_one()
        conn.execute(text("DELETE FROM events WHERE id = :id"), {"id": first})

        def local(value: object, column: str) -> object:
            if column == "id" and isinstance(value, int) and value > base:
                return value - first
            if (
                isinstance(value, str)
                and (key := re.fullmatch(r"trk-(\d+)", value))
                and int(key.group(1)) > base
            ):
                return f"trk-new{int(key.group(1)) - first}"
            return value

        with Session(bind=conn) as session:
            answers = work(session)
            session.flush()
            tables = {}
            for table in Base.metadata.sorted_tables:
                columns = [
                    c
                    for c in table.columns
                    if not (table.name == "segment_memberships" and c.name == "as_of")
                ]
                rows = conn.execute(select(*columns)).all()
                tables[table.name] = sorted(
                    (
                        tuple(local(v, c.name) for v, c in zip(r, columns, strict=True))
                        for r in rows
                    ),
                    key=repr,
                )
        transaction.rollback()
    return answers, tables


def test_a_batch_equals_one_at_a_time_on_both_backends(store):
    import random

    with session_scope(store) as session:
        build(session)
    with session_scope(store) as session:
        score_store(session, as_of=AS_OF, computed_at=datetime(2024, 2, 1))
        session.execute(text("INSERT INTO customers (customer_id) VALUES ('c9')"))
    rng = random.Random(3)
    events = [
        as_event(
            {
                name: rng.choice(choices)
                for name, choices in {
                    "event_type": [
                        "product_view",
                        "product_view",
                        "search",
                        "cart_add",
                        "purchase",
                        "review",
                    ],
                    "who": [(c, a) for c in [*CUSTOMERS, None] for a in [*ANONYMOUS, None]],
                    "product_id": ["p1", "p2", "p3", "nope"],
                    "minutes": range(-1000, 90_000, 7),
                    "channel": [None, "web", "ios"],
                    "device": [None, "mobile", "desktop"],
                    "rating": range(0, 6),
                    "event_id": [None, None, "x1", "x2", "x3"],
                }.items()
            }
        )
        for _ in range(80)
    ]
    events[10:10] = [
        {
            "event_type": "search",
            "anonymous_id": "lonely",
            "query": "tea",
            "occurred_at": "2024-02-01T08:00:00",
        }
    ]
    events.append(
        {
            "event_type": "search",
            "anonymous_id": "lonely",
            "customer_id": "new1",
            "occurred_at": "2024-02-01T09:00:00",
        }
    )  # stitches it

    def singles(session):
        out = []
        for event in events:
            try:
                out.append(track(session, event, computed_at=COMPUTED))
            except ValidationError as exc:
                out.append(str(exc))
        return out

    one, left = _rolled_back(store, singles)
    many, right = _rolled_back(store, lambda s: track_many(s, events, computed_at=COMPUTED))
    assert {r.status for r in many} >= {"recorded", "refused", "anonymous", "duplicate"}
    assert_same_answers(one, many)
    for name, rows in left.items():
        assert len(rows) == len(right[name]), name
        for a, b in zip(rows, right[name], strict=True):
            assert all(_same(x, y) for x, y in zip(a, b, strict=True)), (name, a, b)

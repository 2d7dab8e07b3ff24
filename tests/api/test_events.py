"""POST /events: one event or a batch, idempotent by event_id, all or nothing, and the
answer says what changed in the profile and segments."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.db import session_scope
from engine.errors import ValidationError
from engine.models import Event, Order, Review
from engine.profiles import validate_event

AT = "2026-10-31T23:40:00"


def _events_with_id(engine, prefix: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).select_from(Event).where(Event.event_id.like(f"{prefix}%"))
        )


def _view(customer: str, product: str, event_id: str, **extra):
    return {
        "event_type": "product_view",
        "customer_id": customer,
        "product_id": product,
        "occurred_at": AT,
        "event_id": event_id,
        **extra,
    }


def test_one_event_updates_the_profile_at_once(client, tracker, read, known):
    before = client.get(f"/customers/{known['customer']}/profile", headers=read).json()
    r = client.post(
        "/events", headers=tracker, json=_view(known["customer"], known["product"], "ev-one-1")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["recorded"], body["duplicates"], body["anonymous"]) == (1, 0, 0)
    result = body["results"][0]
    assert result["status"] == "recorded" and result["customer_id"] == known["customer"]
    assert result["new_profile"] is False and len(result["scores"]) == 9
    assert body["recommendations_as_of"] == client.get("/health").json()["models"]["as_of"]
    after = client.get(f"/customers/{known['customer']}/profile", headers=read).json()
    assert after["data_points"]["activity"] == before["data_points"]["activity"] + 1
    assert after["segments"] == result["segments"]
    assert set(result["segments"]) == (set(before["segments"]) | set(result["joined"])) - set(
        result["left"]
    )


def test_the_same_event_id_is_recorded_once(client, tracker, api_engine, known):
    event = _view(known["customer"], known["product"], "ev-dup-1")
    first = client.post("/events", headers=tracker, json=event).json()
    again = client.post("/events", headers=tracker, json=[event, event]).json()
    assert first["results"][0]["status"] == "recorded"
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["duplicates"] == 2 and again["results"][0]["scores"] == {}
    assert _events_with_id(api_engine, "ev-dup-") == 1


def test_a_batch_is_recorded_in_order_with_each_events_changes(client, tracker, known):
    batch = [_view(known["customer"], known["product"], f"ev-batch-{i}") for i in range(5)]
    batch.append(
        {
            "event_type": "search",
            "query": "umbrella",
            "anonymous_id": "v-batch",
            "occurred_at": AT,
            "event_id": "ev-batch-anon",
        }
    )
    body = client.post("/events", headers=tracker, json=batch).json()
    assert [r["index"] for r in body["results"]] == list(range(6))
    assert (body["recorded"], body["anonymous"]) == (5, 1)
    assert body["results"][-1]["status"] == "anonymous"


def test_a_new_customer_gets_a_profile_and_says_so(client, tracker, read, known):
    body = client.post(
        "/events", headers=tracker, json=_view("NEW-CUSTOMER-EV", known["product"], "ev-new-1")
    ).json()
    result = body["results"][0]
    assert result["status"] == "recorded" and result["new_profile"] is True
    assert result["joined"] == result["segments"]
    assert client.get("/customers/NEW-CUSTOMER-EV/profile", headers=read).status_code == 200


def test_an_invalid_event_anywhere_writes_nothing(client, tracker, api_engine, known):
    bad = {
        "event_type": "product_view",
        "customer_id": known["customer"],
        "product_id": known["product"],
        "occurred_at": AT,
        "weather": "foggy",
    }
    batch = [_view(known["customer"], known["product"], "ev-atomic-0"), bad]
    r = client.post("/events", headers=tracker, json=batch)
    assert r.status_code == 422
    with pytest.raises(ValidationError) as caught:
        validate_event(bad)
    assert r.json()["detail"] == f"events[1]: {caught.value} (nothing written)"
    assert _events_with_id(api_engine, "ev-atomic-") == 0


@pytest.mark.parametrize(
    "event",
    [
        {"event_type": "teleport", "customer_id": "c", "occurred_at": AT},
        {
            "event_type": "product_view",
            "customer_id": "c",
            "occurred_at": "yesterday",
            "product_id": "x",
        },
        {"event_type": "product_view", "occurred_at": AT, "product_id": "x"},
        {"event_type": "cart_add", "customer_id": "c", "occurred_at": "12/1/2010"},
        {
            "event_type": "product_view",
            "customer_id": "c",
            "occurred_at": AT,
            "product_id": "NO-SUCH-PRODUCT",
        },
        {
            "event_type": "product_view",
            "customer_id": "c",
            "occurred_at": AT,
            "product_id": "x",
            "device": "watch",
        },
        {
            "event_type": "review",
            "customer_id": "c",
            "occurred_at": "2026-10-31T23.5",
            "product_id": "x",
            "rating": 4,
        },
    ],
)
def test_event_refusals_use_the_engines_words(client, tracker, known, event):
    event = {k: (known["product"] if v == "x" else v) for k, v in event.items()}
    r = client.post("/events", headers=tracker, json=event)
    assert r.status_code == 422, r.text
    try:
        validate_event(event)
        words = f"invalid product_id {event['product_id']!r}: no such product"  # track's check
    except ValidationError as exc:
        words = str(exc)
    assert r.json()["detail"] == f"{words} (nothing written)"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"customer_id": "c", "occurred_at": AT}, "missing event_type"),
        ({"event_type": "search", "customer_id": "c"}, "missing occurred_at"),
        (
            {
                "event_type": "review",
                "customer_id": "c",
                "occurred_at": AT,
                "product_id": "p",
                "rating": 9,
            },
            "invalid rating 9; valid values: 1, 2, 3, 4, 5",
        ),
        (
            {"event_type": "search", "customer_id": "c" * 65, "occurred_at": AT},
            "invalid customer_id: longer than 64 characters",
        ),
        (
            "not an event",
            "invalid request body: expected one event (a JSON object) or a list of "
            "1 to 1000 events",
        ),
        (
            [],
            "invalid request body: expected one event (a JSON object) or a list of 1 to 1000 "
            "events",
        ),
        (
            [{"event_type": "search", "customer_id": "c", "occurred_at": AT}, {"event_type": "x"}],
            "events[1]: missing occurred_at",
        ),
    ],
)
def test_malformed_bodies_are_refused_in_words(client, tracker, body, words):
    r = client.post("/events", headers=tracker, json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == words


def test_numbers_as_ids_are_strings_and_unknown_fields_are_ignored(client, tracker, known):
    r = client.post(
        "/events",
        headers=tracker,
        json={
            "event_type": "search",
            "query": "tea",
            "anonymous_id": 12345,
            "occurred_at": AT,
            "event_id": "ev-number-1",
            "colour": "blue",
        },
    )
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "anonymous"


def test_batches_and_bodies_are_bounded(client, tracker, known):
    event = {"event_type": "search", "query": "q", "anonymous_id": "v", "occurred_at": AT}
    r = client.post("/events", headers=tracker, json=[event] * 1001)
    assert r.status_code == 422
    huge = [{**event, "query": "q" * 200, "location": "l" * 100}] * 4000
    r = client.post("/events", headers=tracker, json=huge)
    assert r.status_code == 413
    assert r.json()["detail"].startswith("request body too large: at most 1,048,576 bytes")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(2000):
            yield b" " * 1000

    r = client.post(
        "/events", headers={**tracker, "Content-Type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413


def test_a_chunked_body_within_the_limit_is_read(client, tracker):
    def chunks():
        yield b'{"event_type": "search", "query": "tea", '
        yield b'"anonymous_id": "v-chunked", "occurred_at": "2026-10-31T23:00:00"}'

    r = client.post(
        "/events", headers={**tracker, "Content-Type": "application/json"}, content=chunks()
    )
    assert r.status_code == 200, r.text


def test_invalid_json_is_a_problem(client, tracker):
    r = client.post(
        "/events", headers={**tracker, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_body_that_is_not_text_is_a_problem_in_words(client, tracker):
    r = client.post(
        "/events",
        headers={**tracker, "Content-Type": "application/json"},
        content=b"\xff\xfe\x00not text",
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"].startswith("invalid request body: not UTF-8 text")


def test_a_batch_updates_each_profile_once_and_its_last_event_says_so(client, tracker, read, known):
    customer = known["customer"]
    before = client.get(f"/customers/{customer}/profile", headers=read).json()
    batch = [_view(customer, known["product"], f"ev-once-{i}") for i in range(3)]
    batch.insert(1, _view("NEW-CUSTOMER-ONCE", known["product"], "ev-once-new"))
    body = client.post("/events", headers=tracker, json=batch).json()
    results = body["results"]
    assert [r["profile_at"] for r in results] == [3, 1, 3, 3]
    assert results[0]["scores"] == {} and results[2]["segments"] == []
    last = results[3]
    assert len(last["scores"]) == 9 and last["new_profile"] is False
    assert last["emotional_state_before"] == before["emotional_state"]["state"]
    assert results[1]["new_profile"] is True and results[1]["joined"] == results[1]["segments"]
    after = client.get(f"/customers/{customer}/profile", headers=read).json()
    assert after["data_points"]["activity"] == before["data_points"]["activity"] + 3
    assert after["segments"] == last["segments"]


def test_every_refused_event_of_a_batch_is_named(client, tracker, api_engine, known):
    good = _view(known["customer"], known["product"], "ev-named-0")
    batch = [
        good,
        {**good, "event_id": "ev-named-1", "device": "watch"},
        good,
        {**good, "event_id": "ev-named-3", "product_id": "NO-SUCH-PRODUCT"},
    ]
    r = client.post("/events", headers=tracker, json=batch)
    assert r.status_code == 422
    problem = r.json()
    assert problem["detail"] == (
        "events[1]: invalid device 'watch'; valid values: desktop, mobile, tablet (nothing written)"
    )
    assert problem["errors"] == [
        problem["detail"],
        "events[3]: invalid product_id 'NO-SUCH-PRODUCT': no such product (nothing written)",
    ]
    assert _events_with_id(api_engine, "ev-named-") == 0


def test_an_event_is_read_as_track_and_the_importer_read_it(client, tracker, api_engine, known):
    # one validator (engine.events): other tools' spellings, header case, JSON's NaN
    r = client.post(
        "/events",
        headers=tracker,
        json={
            "Event_Type": "View",
            "customer_id": known["customer"],
            "product_id": known["product"],
            "occurred_at": AT,
            "event_id": "ev-spelled-1",
            "device": "Phone",
            "channel": "iOS",
            "weather": "RAINY",
        },
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/events",
        headers={**tracker, "Content-Type": "application/json"},
        content=b'{"event_type": "search", "query": "tea", "customer_id": NaN, '
        b'"anonymous_id": "v-nan", "occurred_at": "2026-10-31T23:00:00", '
        b'"event_id": "ev-spelled-2"}',
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "anonymous"
    with session_scope(api_engine) as session:
        rows = {
            e.event_id: e
            for e in session.scalars(select(Event).where(Event.event_id.like("ev-spelled-%")))
        }
    seen = rows["ev-spelled-1"]
    assert (seen.event_type, seen.device, seen.channel, seen.weather, seen.on_mobile) == (
        "product_view",
        "mobile",
        "ios",
        "rainy",
        1,
    )
    assert rows["ev-spelled-2"].customer_id is None


def test_events_of_no_product_or_rating_are_recorded_as_events_only(
    client, tracker, api_engine, known
):
    # as the importer takes them from real exports: no order, no review row
    r = client.post(
        "/events",
        headers=tracker,
        json=[
            {
                "event_type": "cart_add",
                "customer_id": known["customer"],
                "occurred_at": AT,
                "event_id": "ev-bare-1",
            },
            {
                "event_type": "purchase",
                "customer_id": known["customer"],
                "occurred_at": AT,
                "event_id": "ev-bare-2",
            },
            {
                "event_type": "review",
                "customer_id": known["customer"],
                "occurred_at": AT,
                "product_id": known["product"],
                "event_id": "ev-bare-3",
            },
            {
                "event_type": "product_view",
                "customer_id": known["customer"],
                "occurred_at": "2026-W44-6T23:00",
                "event_id": "ev-bare-4",
            },
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["recorded"] == 4
    assert _events_with_id(api_engine, "ev-bare-") == 4
    with session_scope(api_engine) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Order).where(Order.order_id.like("trk-ev-bare-%"))
            )
            == 0
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(Review)
                .where(Review.review_id.like("trk-ev-bare-%"))
            )
            == 0
        )

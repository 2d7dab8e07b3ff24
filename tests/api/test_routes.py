"""Every read route, as a storefront would call it, and every error it can give."""

from __future__ import annotations

import pytest

from engine.db import head_revision
from engine.errors import UserError
from engine.recommend.context import parse_context, validate_k


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "about:blank" and body["status"] == status
    return body


def _cli_words(call, **kwargs) -> str:
    with pytest.raises(UserError) as caught:
        call(**kwargs)
    return str(caught.value)


def test_health_says_store_schema_and_fit(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["store"] == {
        "reachable": True,
        "schema_revision": head_revision(),
        "schema_current": True,
    }
    models = body["models"]
    assert models["fitted"] and models["as_of"] and models["fitted_at"]
    # RFC 3339 times: UTC with its offset, as every client's date parser expects
    assert models["as_of"].endswith("Z") and models["fitted_at"].endswith("Z")
    assert models["customers"] > 0 and models["products"] > 0


def test_customer_recommendations_are_ranked_explained_and_in_context(client, read, known):
    r = client.get(
        f"/customers/{known['customer']}/recommendations",
        params={"weather": "RAINY", "time_of_day": "8", "device": "mobile", "k": 5},
        headers=read,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["basis"] == "personal" and body["k"] == 5
    assert body["context"] == {
        "weather": "rainy",
        "time_of_day": "morning",
        "location": None,
        "device": "mobile",
    }
    items = body["recommendations"]
    assert 1 <= len(items) <= 5
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    for item in items:
        assert item["reason"] and 0 <= item["score"] <= 100
        assert sum(item["contributions"].values()) == pytest.approx(item["score"], abs=0.1)


def test_recommendations_follow_the_context(client, read, known):
    url = f"/customers/{known['customer']}/recommendations"
    sunny = client.get(url, params={"weather": "sunny", "k": 20}, headers=read).json()
    snowy = client.get(url, params={"weather": "snowy", "k": 20}, headers=read).json()
    assert [i["product_id"] for i in sunny["recommendations"]] != [
        i["product_id"] for i in snowy["recommendations"]
    ]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"weather": "foggy"}, lambda: _cli_words(parse_context, weather="foggy")),
        ({"device": "watch"}, lambda: _cli_words(parse_context, device="watch")),
        ({"time_of_day": "25"}, lambda: _cli_words(parse_context, time_of_day="25")),
        ({"time_of_day": "brunch"}, lambda: _cli_words(parse_context, time_of_day="brunch")),
        ({"k": "0"}, lambda: _cli_words(validate_k, k=0)),
        ({"k": "101"}, lambda: _cli_words(validate_k, k=101)),
        ({"k": "many"}, lambda: _cli_words(validate_k, k="many")),
    ],
)
def test_invalid_context_is_refused_in_the_clis_words(client, read, known, params, words):
    for url in (f"/customers/{known['customer']}/recommendations", "/recommendations"):
        body = _problem(client.get(url, params=params, headers=read), 422)
        assert body["detail"] == words()
        assert "valid values" in body["detail"]


def test_an_unknown_location_lists_the_places_the_store_knows(client, read, known):
    body = _problem(
        client.get("/recommendations", params={"location": "Atlantis"}, headers=read), 422
    )
    assert body["detail"].startswith("invalid location 'Atlantis'; valid values: ")


def test_a_known_location_is_accepted_in_any_case(client, read, api_engine):
    from engine.db import session_scope
    from engine.recommend.base import StoreData

    with session_scope(api_engine) as session:
        place = StoreData.load(session).known_locations[0]
    r = client.get("/recommendations", params={"location": place.upper()}, headers=read)
    assert r.status_code == 200 and r.json()["context"]["location"] == place


def test_overlong_parameters_are_refused(client, read):
    body = _problem(
        client.get("/recommendations", params={"location": "x" * 101}, headers=read), 422
    )
    assert body["detail"] == "invalid location: longer than 100 characters"
    body = _problem(client.get(f"/customers/{'c' * 65}/profile", headers=read), 422)
    assert "longer than 64 characters" in body["detail"]


@pytest.mark.parametrize("kind", ["recommendations", "profile", "prediction"])
def test_an_unknown_customer_is_404_in_the_clis_words(client, read, kind):
    body = _problem(client.get(f"/customers/NO-SUCH/{kind}", headers=read), 404)
    assert body["detail"] == "unknown customer 'NO-SUCH': no such customer in the store"


def test_an_anonymous_visitor_gets_cold_start_recommendations(client, read):
    r = client.get(
        "/recommendations", params={"anonymous_id": "v-never-seen", "k": 3}, headers=read
    )
    assert r.status_code == 200
    body = r.json()
    assert body["basis"] == "cold_start" and body["customer_id"] is None
    assert body["anonymous_id"] == "v-never-seen" and len(body["recommendations"]) == 3
    assert client.get("/recommendations", headers=read).json()["basis"] == "cold_start"


def test_a_visitor_linked_to_a_customer_gets_that_customers_recommendations(
    client, read, api_engine
):
    from sqlalchemy import select

    from engine.db import session_scope
    from engine.models import IdentityLink

    with session_scope(api_engine) as session:
        link = session.execute(
            select(IdentityLink.anonymous_id, IdentityLink.customer_id).order_by(
                IdentityLink.anonymous_id
            )
        ).first()
    assert link is not None
    visitor = client.get("/recommendations", params={"anonymous_id": link[0]}, headers=read).json()
    customer = client.get(f"/customers/{link[1]}/recommendations", headers=read).json()
    assert visitor["customer_id"] == link[1] and visitor["basis"] == "personal"
    assert visitor["recommendations"] == customer["recommendations"]


def test_profile(client, read, known):
    r = client.get(f"/customers/{known['customer']}/profile", headers=read)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_id"] == known["customer"] and body["source"] == "stored"
    assert len(body["scores"]) == 9
    assert set(body["histories"]) == {"searches", "cart_adds", "wishlist_adds", "purchases"}


def test_prediction(client, read, known):
    r = client.get(f"/customers/{known['customer']}/prediction", headers=read)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_id"] == known["customer"]
    assert 0 <= body["p_active"] <= 1 and 0 <= body["confidence"] <= 100
    assert body["as_of"] == client.get("/health").json()["models"]["as_of"]


def test_segments_and_their_members_page_by_page(client, read):
    body = client.get("/segments", headers=read).json()
    assert body["sizes"], "the store was scored"
    biggest = max(body["sizes"], key=lambda s: s["size"])
    name, size = biggest["segment"], biggest["size"]
    seen, offset = [], 0
    while offset is not None:
        page = client.get(
            f"/segments/{name}/members", params={"offset": offset, "limit": 7}, headers=read
        ).json()
        assert page["size"] == size and len(page["customer_ids"]) <= 7
        seen += page["customer_ids"]
        offset = page["next_offset"]
    assert len(seen) == size and seen == sorted(seen)


def test_an_unknown_segment_lists_the_valid_ones(client, read):
    body = _problem(client.get("/segments/astronauts/members", headers=read), 404)
    assert body["detail"].startswith("unknown segment 'astronauts'; valid values: ")
    assert "high_value" in body["detail"]


def test_paging_parameters_are_bounded(client, read):
    _problem(client.get("/segments/high_value/members", params={"limit": 1001}, headers=read), 422)
    _problem(client.get("/segments/high_value/members", params={"offset": -1}, headers=read), 422)


def test_unknown_routes_and_methods_are_problems_too(client, read):
    body = _problem(client.get("/nowhere", headers=read), 404)
    assert "no such route" in body["detail"]
    _problem(client.delete("/segments", headers=read), 405)


def test_admin_refit_swaps_in_a_new_fit(client, admin):
    before = client.get("/health").json()["models"]["fitted_at"]
    r = client.post("/admin/refit", params={"wait": "true"}, headers=admin)
    assert r.status_code == 202 and r.json()["started"] is True
    after = r.json()["models"]
    assert after["fitted"] and after["fitted_at"] > before and not after["refitting"]

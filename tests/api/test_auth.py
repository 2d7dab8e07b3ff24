"""Access control: every route but /health needs a live key of the right scope, and a
refusal never says whether a customer exists."""

from __future__ import annotations

import pytest

from tests.api.conftest import auth

ROUTES = [  # (method, path, scope needed)
    ("post", "/events", "track"),
    ("get", "/customers/{customer}/recommendations", "read"),
    ("get", "/recommendations", "read"),
    ("get", "/customers/{customer}/profile", "read"),
    ("get", "/customers/{customer}/prediction", "read"),
    ("get", "/segments", "read"),
    ("get", "/segments/high_value/members", "read"),
    ("get", "/audiences", "read"),
    ("get", "/audiences/anyone/members", "read"),
    ("post", "/admin/refit", "admin"),
]


def _call(client, method, path, known, headers):
    url = path.format(customer=known["customer"])
    if method == "post":
        return client.post(url, headers=headers, json={})
    return client.get(url, headers=headers)


def _problem(response, status):
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_no_key_wrong_key_and_revoked_key_get_401(client, known, tokens, method, path, scope):
    body = _problem(_call(client, method, path, known, {}), 401)
    assert body["detail"].startswith("missing API key")
    for token in ("psk_0000_nope", "not-a-key", tokens["revoked"], tokens["read"] + "x"):
        response = _call(client, method, path, known, auth(token))
        body = _problem(response, 401)
        assert body["detail"] == "invalid API key: unknown, revoked or mistyped"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_a_key_of_another_scope_gets_403(client, known, tokens, method, path, scope):
    for other in ("track", "read"):
        if other == scope:
            continue
        body = _problem(_call(client, method, path, known, auth(tokens[other])), 403)
        assert f"does not allow {scope}" in body["detail"]


@pytest.mark.parametrize("kind", ["recommendations", "profile", "prediction"])
def test_refusals_do_not_reveal_which_customers_exist(client, known, tokens, kind):
    for headers in ({}, auth("psk_0000_nope"), auth(tokens["track"])):
        real = client.get(f"/customers/{known['customer']}/{kind}", headers=headers)
        fake = client.get(f"/customers/NO-SUCH-CUSTOMER/{kind}", headers=headers)
        assert real.status_code == fake.status_code in (401, 403)
        strip = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731
        assert strip(real.json()) == strip(fake.json())


def test_admin_may_do_everything(client, known, admin):
    assert client.get(f"/customers/{known['customer']}/profile", headers=admin).status_code == 200
    assert (
        client.post(
            "/events",
            headers=admin,
            json={
                "event_type": "search",
                "query": "tea",
                "occurred_at": "2026-10-31T23:50:00",
                "anonymous_id": "auth-admin-visitor",
            },
        ).status_code
        == 200
    )


def test_health_and_docs_need_no_key(client):
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200

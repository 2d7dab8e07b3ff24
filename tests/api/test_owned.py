"""A durable a customer just bought is not recommended to them again: not right after
the purchase is tracked (the served fit has not seen it), and not after a refit."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from engine.db import session_scope
from engine.models import Customer

AT = "2026-10-31T23:50:00"


def _recommended(client, read, customer: str) -> list[str]:
    r = client.get(
        f"/customers/{customer}/recommendations", headers=read, params={"k": 30, "weather": "rainy"}
    )
    assert r.status_code == 200, r.text
    return [item["product_id"] for item in r.json()["recommendations"]]


def _durable_on_a_list(client, read, api_engine) -> tuple[str, str]:
    """A customer and a durable product on their list (the served fit's durables)."""
    fitted = client.app.state.api.server.fitted
    durables = set(np.asarray(fitted.data.product_ids)[fitted.blend.durable_].tolist())
    with session_scope(api_engine) as session:
        customers = session.scalars(
            select(Customer.customer_id).order_by(Customer.customer_id).offset(100).limit(60)
        ).all()
    for customer in customers:
        for product in _recommended(client, read, customer):
            if product in durables:
                return customer, product
    raise AssertionError("no durable on any of 60 lists")


def test_a_durable_just_bought_is_not_recommended_before_or_after_a_refit(
    client, tracker, read, admin, api_engine
):
    customer, product = _durable_on_a_list(client, read, api_engine)
    r = client.post(
        "/events",
        headers=tracker,
        json={
            "event_type": "purchase",
            "customer_id": customer,
            "product_id": product,
            "occurred_at": AT,
            "event_id": f"owned-{customer}-{product}",
        },
    )
    assert r.status_code == 200 and r.json()["recorded"] == 1, r.text
    assert product not in _recommended(client, read, customer)  # the same fit, right after
    # k is still honoured: the list is refilled from below
    assert len(_recommended(client, read, customer)) == 30
    r = client.post("/admin/refit", headers=admin, params={"wait": "true"})
    assert r.status_code == 202 and r.json()["started"] is True
    assert product not in _recommended(client, read, customer)


def test_a_visitor_linked_to_the_buyer_is_not_offered_it_either(client, tracker, read, api_engine):
    customer, product = _durable_on_a_list(client, read, api_engine)
    r = client.post(
        "/events",
        headers=tracker,
        json=[
            {
                "event_type": "search",
                "query": "gift",
                "customer_id": customer,
                "anonymous_id": f"visitor-{customer}",
                "occurred_at": AT,
            },
            {
                "event_type": "purchase",
                "customer_id": customer,
                "product_id": product,
                "occurred_at": AT,
                "event_id": f"owned-visit-{customer}-{product}",
            },
        ],
    )
    assert r.status_code == 200, r.text
    r = client.get(
        "/recommendations",
        headers=read,
        params={"anonymous_id": f"visitor-{customer}", "k": 30, "weather": "rainy"},
    )
    assert r.status_code == 200, r.text
    assert product not in [i["product_id"] for i in r.json()["recommendations"]]

"""Saved audiences over the API: the list, and one audience's members page by page,
evaluated as of the served models' moment and kept until the next refit."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.api.service import AudienceCache
from engine.audiences import (
    audience_members,
    compile_rule,
    load_audience_data,
    save_audience,
    valid_segments,
)
from engine.db import session_scope

RULE = "night_owl OR lifetime_value >= 60"


@pytest.fixture(scope="module")
def saved(api_engine) -> str:
    with session_scope(api_engine) as session:
        return save_audience(session, "api night owls", RULE, updated_at=datetime(2026, 11, 1)).rule


def test_the_saved_audiences_are_listed_with_their_rules(client, read, saved):
    body = client.get("/audiences", headers=read).json()
    listed = {a["name"]: a for a in body["audiences"]}
    assert listed["api night owls"]["rule"] == saved
    assert listed["api night owls"]["created_at"] == "2026-11-01T00:00:00Z"


def test_members_page_by_page_are_the_audience_as_of_the_served_fit(
    client, read, saved, api_engine
):
    as_of = client.get("/health").json()["models"]["as_of"]
    seen, offset, sizes = [], 0, set()
    while offset is not None:
        page = client.get(
            "/audiences/api night owls/members",
            params={"offset": offset, "limit": 50},
            headers=read,
        ).json()
        assert page["as_of"] == as_of and page["rule"] == saved
        sizes.add(page["size"])
        seen += page["customer_ids"]
        offset = page["next_offset"]
    with session_scope(api_engine) as session:
        node = compile_rule(saved, valid_segments(session))
        data = load_audience_data(session, as_of=datetime.fromisoformat(as_of).replace(tzinfo=None))
        expected = audience_members(node, data)["customer_id"].astype(str).tolist()
    assert seen == expected and sizes == {len(expected)} and expected


def test_an_unknown_audience_is_404_naming_the_saved_ones(client, read, saved):
    r = client.get("/audiences/astronauts/members", headers=read)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"].startswith("unknown audience 'astronauts'; saved audiences: ")
    assert "api night owls" in r.json()["detail"]


def test_members_are_computed_once_per_rule_until_the_moment_moves():
    cache, calls = AudienceCache(), []

    def compute(label: str):
        def run() -> list[str]:
            calls.append(label)
            return [label]

        return run

    first, later = datetime(2026, 1, 1), datetime(2026, 1, 2)
    assert cache.members("a", first, compute("a1")) == ["a1"]
    assert cache.members("a", first, compute("a2")) == ["a1"]
    assert cache.members("b", first, compute("b1")) == ["b1"]
    assert cache.members("a", later, compute("a3")) == ["a3"]
    assert calls == ["a1", "b1", "a3"]

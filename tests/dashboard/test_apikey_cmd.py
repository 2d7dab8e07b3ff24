"""``personalize apikey create|list|revoke`` as an operator uses it, on both backends: the
secret is shown once and stored only as a hash, each key keeps its scope, and the keys
the command makes are the ones the storefront API lets in or turns away."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from dashboard.cli import main
from engine.api import ApiSettings, create_app
from engine.db import session_scope
from engine.models import ApiKey

AT = "2026-10-31T23:40:00"


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _create(capsys, url: str, scope: str, name: str = "storefront") -> dict:
    code, out, _ = _cli(
        capsys, "apikey", "create", "--db", url, "--scope", scope, "--name", name, "--json"
    )
    assert code == 0
    return json.loads(out)


@pytest.fixture
def app_client(store) -> Iterator[TestClient]:
    """The API over the same store (models fitted lazily: these routes need none)."""
    app = create_app(store, settings=ApiSettings(fit="lazy", refit_every_s=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_secret_is_shown_once_and_stored_only_as_its_hash(db_url, store, capsys):
    made = _create(capsys, db_url, "read")
    token = made["key"]
    key_id, secret = token.removeprefix("psk_").split("_", 1)
    assert made["key_id"] == key_id and made["scope"] == "read"
    with session_scope(store) as session:
        row = session.scalars(select(ApiKey)).one()
        dumped = " ".join(str(v) for v in session.execute(text("SELECT * FROM api_keys")).one())
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in dumped and token not in dumped

    code, out, _ = _cli(capsys, "apikey", "list", "--db", db_url, "--json")
    assert code == 0 and secret not in out
    assert json.loads(out) == [
        {
            "key_id": key_id,
            "name": "storefront",
            "scope": "read",
            "created_at": made["created_at"],
            "revoked_at": None,
        }
    ]


def test_create_prints_only_the_token_on_stdout(db_url, capsys):
    code, out, err = _cli(
        capsys, "apikey", "create", "--db", db_url, "--scope", "track", "--name", "till 3"
    )
    assert code == 0 and out.strip().startswith("psk_") and len(out.splitlines()) == 1
    assert "shown once" in err
    code, out, _ = _cli(capsys, "apikey", "list", "--db", db_url)
    assert "track" in out and "active" in out and "till 3" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["create", "--scope", "root", "--name", "x"], "invalid choice: 'root'"),
        (["create", "--scope", "read", "--name", "   "], "invalid name"),
        (["revoke", "0123456789ab"], "unknown API key '0123456789ab'"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(db_url, capsys, argv, words):
    try:
        code = main(["apikey", *argv, "--db", db_url])
    except SystemExit as exc:  # argparse refuses an unknown choice itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_each_scope_lets_in_exactly_what_it_names(db_url, capsys, app_client):
    keys = {scope: _create(capsys, db_url, scope)["key"] for scope in ("track", "read", "admin")}
    event = {
        "event_type": "search",
        "query": "umbrella",
        "customer_id": "C-KEYS",
        "occurred_at": AT,
    }

    def status(scope: str, method: str, path: str) -> int:
        headers = {"Authorization": f"Bearer {keys[scope]}"}
        if method == "post":
            return app_client.post(path, json=event, headers=headers).status_code
        return app_client.get(path, headers=headers).status_code

    assert [status(s, "post", "/events") for s in ("track", "read", "admin")] == [200, 403, 200]
    assert [status(s, "get", "/customers/C-KEYS/profile") for s in ("track", "read", "admin")] == [
        403,
        200,
        200,
    ]
    assert status("read", "post", "/admin/refit") == 403
    assert status("track", "post", "/admin/refit") == 403


def test_a_wrong_scope_says_nothing_about_which_customers_exist(db_url, capsys, app_client):
    track = {"Authorization": f"Bearer {_create(capsys, db_url, 'track')['key']}"}
    assert (
        app_client.post(
            "/events",
            headers=track,
            json={
                "event_type": "search",
                "query": "tea",
                "customer_id": "C-REAL",
                "occurred_at": AT,
            },
        ).status_code
        == 200
    )
    real = app_client.get("/customers/C-REAL/profile", headers=track)
    fake = app_client.get("/customers/C-NEVER/profile", headers=track)
    assert real.status_code == fake.status_code == 403
    # the same problem but for "instance", which only echoes the path that was asked for
    assert {**real.json(), "instance": None} == {**fake.json(), "instance": None}


def test_a_revoked_key_is_refused_at_once(db_url, capsys, app_client):
    made = _create(capsys, db_url, "read")
    headers = {"Authorization": f"Bearer {made['key']}"}
    assert app_client.get("/segments", headers=headers).status_code == 200

    code, out, _ = _cli(capsys, "apikey", "revoke", "--db", db_url, made["key_id"])
    assert code == 0 and out.startswith(f"revoked {made['key_id']}")
    refused = app_client.get("/segments", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "invalid API key: unknown, revoked or mistyped"

    # revoking again (here by the whole token) changes nothing and still succeeds
    code, out, _ = _cli(capsys, "apikey", "revoke", "--db", db_url, made["key"], "--json")
    listed = json.loads(out)
    assert code == 0 and listed["key_id"] == made["key_id"] and listed["revoked_at"]
    code, out, _ = _cli(capsys, "apikey", "list", "--db", db_url)
    assert "revoked" in out

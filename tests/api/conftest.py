"""Fixtures of the API tests: a writable copy of the small seeded store, served once.

The app is fitted once per session (blocking, no schedule) on a copy of
``seeded_db_url``; tests that write use ids of their own, so they do not see each
other's events.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from engine.api import ApiSettings, create_app, create_key
from engine.db import open_store, session_scope
from engine.models import Customer, Product
from engine.profiles import score_store


def scored_copy(seeded_db_url: str, copy: Path) -> Engine:
    """An engine on a copy (at ``copy``) of the seeded store, scored as `personalize score`
    leaves it (stored profiles and segments)."""
    shutil.copy(Path(seeded_db_url.removeprefix("sqlite:///")), copy)
    engine = open_store(f"sqlite:///{copy}")
    with session_scope(engine) as session:
        score_store(session)
    return engine


@pytest.fixture(scope="session")
def api_engine(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = scored_copy(seeded_db_url, tmp_path_factory.mktemp("api") / "store.db")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tokens(api_engine: Engine) -> dict[str, str]:
    """One live key per scope, plus a revoked one."""
    out = {}
    with session_scope(api_engine) as session:
        for scope in ("track", "read", "admin"):
            out[scope] = create_key(session, name=f"tests-{scope}", scope=scope)[1]
        out["revoked"] = create_key(session, name="tests-revoked", scope="admin")[1]
    from engine.api import revoke_key

    with session_scope(api_engine) as session:
        revoke_key(session, out["revoked"])
    return out


@pytest.fixture(scope="session")
def client(api_engine: Engine, tokens: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(api_engine, settings=ApiSettings(fit="blocking", refit_every_s=0))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def read(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["read"])


@pytest.fixture(scope="session")
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


@pytest.fixture(scope="session")
def tracker(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["track"])


@pytest.fixture(scope="session")
def known(api_engine: Engine) -> dict[str, str]:
    """A customer and a product of the seeded store."""
    with session_scope(api_engine) as session:
        customer = session.scalars(
            select(Customer.customer_id).order_by(Customer.customer_id)
        ).first()
        product = session.scalars(select(Product.product_id).order_by(Product.product_id)).first()
    assert customer and product
    return {"customer": customer, "product": product}

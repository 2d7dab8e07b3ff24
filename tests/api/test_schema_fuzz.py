"""Property-based tests generated from the API's own OpenAPI schema (schemathesis): with a
valid key, no generated request, valid or not, gets a 500, and every answer keeps to
the schema the API documents (status codes, content types, bodies, auth enforced).

The app runs on a store of its own (fuzzed events would otherwise reach the store of
the other API tests), fitted once; a refit it is asked for hands back that same fit,
so ``POST /admin/refit?wait=true`` costs nothing per example.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy import Engine, select

from engine.api import ApiSettings, create_app, create_key
from engine.api.service import fit_models
from engine.audiences import save_audience
from engine.db import session_scope
from engine.models import Customer, SegmentMembership
from tests.api.conftest import scored_copy

EXAMPLES = 25
"""Generated requests per route and mode: bounded so that the file runs in well under a
minute; raise it locally to search harder."""

# Every route the schema documents (building the app opens nothing, so this needs no store).
_PATHS = create_app(settings=ApiSettings(fit="lazy")).openapi()["paths"]
OPERATIONS = sorted((method.upper(), path) for path, item in _PATHS.items() for method in item)
# Invalid requests exist only for routes that take parameters or a body.
WITH_INPUT = [
    (method, path)
    for method, path in OPERATIONS
    if {"parameters", "requestBody"} & set(_PATHS[path][method.lower()])
]
# A value the schema allows (any string for event_type, weather or a product id) may still
# be one the engine refuses, by design in the CLI's words (422): the check that schema-
# valid requests always succeed does not apply to this API.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzz_engine(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = scored_copy(seeded_db_url, tmp_path_factory.mktemp("fuzz") / "store.db")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_token(fuzz_engine: Engine) -> str:
    with session_scope(fuzz_engine) as session:
        return create_key(session, name="fuzz", scope="admin")[1]


@pytest.fixture(scope="module")
def real_ids(fuzz_engine: Engine) -> dict[str, str]:
    """Path parameters that exist in the store, so generated requests also get past the
    404s and into the engine."""
    with session_scope(fuzz_engine) as session:
        customer = session.scalars(
            select(Customer.customer_id).order_by(Customer.customer_id)
        ).first()
        segment = session.scalars(
            select(SegmentMembership.segment).order_by(SegmentMembership.segment)
        ).first()
        audience = save_audience(
            session,
            "fuzzed",
            "night_owl AND lifetime_value >= 50",
            updated_at=datetime(2026, 11, 1),
        ).name
    assert customer and segment
    return {"customer_id": customer, "segment": segment, "name": audience}


@pytest.fixture(scope="module")
def api_schema(fuzz_engine: Engine):
    fitted = fit_models(fuzz_engine)
    app = create_app(
        fuzz_engine,
        settings=ApiSettings(fit="blocking", refit_every_s=0),
        fit=lambda _engine: fitted,
    )
    # from_asgi starts the app's lifespan; every generated call and check probe reuses it
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_schema_documents_every_route() -> None:
    assert set(OPERATIONS) >= {
        ("POST", "/events"),
        ("GET", "/customers/{customer_id}/recommendations"),
        ("GET", "/recommendations"),
        ("GET", "/customers/{customer_id}/profile"),
        ("GET", "/customers/{customer_id}/prediction"),
        ("GET", "/segments"),
        ("GET", "/segments/{segment}/members"),
        ("GET", "/health"),
        ("POST", "/admin/refit"),
        ("GET", "/audiences"),
        ("GET", "/audiences/{name}/members"),
    }


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        *((method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS),
        *((method, path, GenerationMode.NEGATIVE) for method, path in WITH_INPUT),
    ],
)
def test_no_generated_request_breaks_the_api(
    api_schema,
    fuzz_token: str,
    real_ids: dict[str, str],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    key = {"Authorization": f"Bearer {fuzz_token}"}
    operation = api_schema[path][method]
    cases = operation.as_strategy(mode, headers=key)
    real = {name: value for name, value in real_ids.items() if f"{{{name}}}" in path}
    if real:
        cases |= operation.as_strategy(mode, headers=key, path_parameters=real)

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def call(case) -> None:
        response = case.call()
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
        )
        case.validate_response(response, excluded_checks=EXCLUDED)

    call()

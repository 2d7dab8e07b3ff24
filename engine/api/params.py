"""What the storefront API's routes share: the documented error responses, the typed
parameters (bounded: ids, context values, ``k``, batch length), the key scopes, and how
a body is serialised."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from engine.db import session_scope

from . import queries
from .deps import Api, get_api, requires
from .errors import PROBLEM_JSON, ApiProblem, not_found
from .keys import KeyInfo
from .schemas import ID_MAX, MAX_BATCH, EventIn, Problem

PROBLEM: dict[str, Any] = {"model": Problem, "content": {PROBLEM_JSON: {}}}
Responses = dict[int | str, dict[str, Any]]
AUTH: Responses = {
    401: {**PROBLEM, "description": "no key, or a wrong or revoked key"},
    403: {**PROBLEM, "description": "the key's scope does not allow this"},
    422: {**PROBLEM, "description": "an invalid value (the valid ones are listed)"},
}
CUSTOMER: Responses = {**AUTH, 404: {**PROBLEM, "description": "unknown customer"}}
MODELS: Responses = {503: {**PROBLEM, "description": "the models are not fitted yet"}}

CustomerId = Annotated[
    str, Path(min_length=1, max_length=ID_MAX, description="the store's customer id")
]
Weather = Annotated[
    str | None, Query(max_length=16, description="sunny|cloudy|rainy|snowy|hot|cold")
]
TimeOfDay = Annotated[
    str | None,
    Query(max_length=16, description="morning|afternoon|evening|night, or an hour 0..23"),
]
Location = Annotated[
    str | None, Query(max_length=100, description="a city, region or country the store knows")
]
Device = Annotated[str | None, Query(max_length=16, description="desktop|mobile|tablet")]
K = Annotated[int, Query(ge=1, le=100, description="how many products, 1..100")]
Batch = Annotated[list[EventIn], Field(min_length=1, max_length=MAX_BATCH)]
ApiDep = Annotated[Api, Depends(get_api)]
TrackKey = Annotated[KeyInfo, Depends(requires("track"))]
ReadKey = Annotated[KeyInfo, Depends(requires("read"))]
AdminKey = Annotated[KeyInfo, Depends(requires("admin"))]


def unknown_customer(customer_id: str) -> ApiProblem:
    # The CLI's words (personalize predict / profile).
    return not_found(f"unknown customer {customer_id!r}: no such customer in the store")


def check_customer(api: Api, customer_id: str) -> None:
    with session_scope(api.engine) as session:
        if not queries.customer_exists(session, customer_id):
            raise unknown_customer(customer_id)


def json_response(body: BaseModel, status_code: int = 200) -> Response:
    """``body`` as the response, serialised here: given a model instead, FastAPI would
    validate a sync route's return value again, in another thread hop."""
    return Response(body.model_dump_json(), status_code=status_code, media_type="application/json")


def plain(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python, NaN to null, dates to ISO."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

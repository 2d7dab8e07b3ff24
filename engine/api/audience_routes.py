"""Routes of saved audiences (``personalize audience define``): the list, and one
audience's members page by page.

An audience is evaluated as of the served models' moment (``GET /health``'s
``models.as_of``) and its members are kept until the next refit moves that moment, so
the pages of one audience agree with each other and each page costs a lookup, not an
evaluation (which scores every customer: seconds on a large store).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from engine.audiences import (
    audience_members,
    compile_rule,
    get_audience,
    list_audiences,
    load_audience_data,
    needs_predictions,
    valid_segments,
)
from engine.db import session_scope
from engine.errors import UserError

from .errors import not_found
from .params import AUTH, MODELS, PROBLEM, ApiDep, ReadKey, json_response, plain
from .schemas import AudienceMembers, Audiences

router = APIRouter()


@router.get(
    "/audiences",
    response_model=Audiences,
    tags=["profiles"],
    responses=AUTH,
    summary="the saved audiences and their rules",
)
def audiences(_key: ReadKey, api: ApiDep) -> Response:
    with session_scope(api.engine) as session:
        saved = list_audiences(session)
    return json_response(Audiences.model_validate(plain({"audiences": saved.to_dict("records")})))


@router.get(
    "/audiences/{name}/members",
    response_model=AudienceMembers,
    tags=["profiles"],
    responses={**AUTH, **MODELS, 404: {**PROBLEM, "description": "unknown audience"}},
    summary="one page of a saved audience's members, in customer id order",
)
def audience_page(
    _key: ReadKey,
    api: ApiDep,
    name: Annotated[str, Path(min_length=1, max_length=100)],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    as_of = api.models().as_of
    with session_scope(api.engine) as session:
        try:
            rule = get_audience(session, name).rule
        except UserError as exc:  # the CLI's words: unknown, and the saved ones
            raise not_found(str(exc)) from exc

    def evaluate() -> list[str]:
        with session_scope(api.engine) as session:
            node = compile_rule(rule, valid_segments(session))
            data = load_audience_data(session, as_of=as_of, predictions=needs_predictions(node))
            return [str(c) for c in audience_members(node, data)["customer_id"]]

    members = api.audiences.members(rule, as_of, evaluate)
    page = members[offset : offset + limit]
    following = offset + len(page)
    return json_response(
        AudienceMembers(
            audience=name,
            rule=rule,
            as_of=as_of,
            size=len(members),
            offset=offset,
            limit=limit,
            customer_ids=page,
            next_offset=following if following < len(members) else None,
        )
    )

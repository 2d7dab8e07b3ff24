"""The storefront API's read routes: recommendations (a customer's, a visitor's),
profiles, predictions, segments and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from engine.db import session_scope
from engine.predict.views import prediction_record
from engine.profiles.customer import get_profile
from engine.profiles.memberships import segment_overlaps, segment_sizes
from engine.profiles.segments import DEFAULT_RULES, ENTHUSIAST
from engine.recommend.context import parse_context

from . import queries
from .errors import ApiProblem, not_found
from .params import (
    AUTH,
    CUSTOMER,
    MODELS,
    PROBLEM,
    ApiDep,
    CustomerId,
    Device,
    K,
    Location,
    ReadKey,
    TimeOfDay,
    Weather,
    check_customer,
    json_response,
    plain,
    unknown_customer,
)
from .schemas import (
    ID_MAX,
    ContextOut,
    Prediction,
    Profile,
    Recommendation,
    Recommendations,
    SegmentMembers,
    Segments,
)
from .service import FittedModels

router = APIRouter()


# --------------------------------------------------------------------------- recommendations


def _recommend(
    fitted: FittedModels,
    customer_id: str | None,
    basis: str,
    weather: str | None,
    time_of_day: str | None,
    location: str | None,
    device: str | None,
    k: int,
    anonymous_id: str | None = None,
    owned: list[str] | None = None,
) -> Recommendations:
    context = parse_context(
        weather=weather,
        time_of_day=time_of_day,
        location=location,
        device=device,
        known_locations=fitted.known_locations,
    )
    # the blend hides the durables it saw bought; `owned` adds those bought since the fit
    items = fitted.blend.recommend(
        customer_id, context, k=k, allow_unknown=True, exclude=owned or ()
    )
    rows = []
    for rank, item in enumerate(items, start=1):
        name, category, brand = fitted.products.get(item.product_id, (None, None, None))
        rows.append(
            Recommendation(
                rank=rank,
                product_id=item.product_id,
                name=name,
                category=category,
                brand=brand,
                score=item.score,
                reason=item.reason,
                contributions=item.contributions,
            )
        )
    return Recommendations(
        customer_id=customer_id,
        anonymous_id=anonymous_id,
        basis=basis,
        as_of=fitted.as_of,
        fitted_at=fitted.fitted_at,
        context=ContextOut(**vars(context)),
        k=k,
        recommendations=rows,
    )


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=Recommendations,
    tags=["recommendations"],
    responses={**CUSTOMER, **MODELS},
    summary="ranked, explained recommendations for one customer in one context",
)
def customer_recommendations(
    _key: ReadKey,
    api: ApiDep,
    customer_id: CustomerId,
    weather: Weather = None,
    time_of_day: TimeOfDay = None,
    location: Location = None,
    device: Device = None,
    k: K = 20,
) -> Response:
    fitted = api.models()
    with session_scope(api.engine) as session:
        if fitted.data.row_of(customer_id) >= 0:
            basis = "personal"
        elif queries.customer_exists(session, customer_id):  # new since the last fit
            basis = "cold_start"
        else:
            raise unknown_customer(customer_id)
        owned = queries.owned(session, customer_id, fitted.durables)
    return json_response(
        _recommend(
            fitted, customer_id, basis, weather, time_of_day, location, device, k, owned=owned
        )
    )


@router.get(
    "/recommendations",
    response_model=Recommendations,
    tags=["recommendations"],
    responses={**AUTH, **MODELS},
    summary="recommendations for an anonymous visitor (or a visitor linked to a customer)",
)
def visitor_recommendations(
    _key: ReadKey,
    api: ApiDep,
    anonymous_id: Annotated[
        str | None, Query(max_length=ID_MAX, description="the visitor's id, if any")
    ] = None,
    weather: Weather = None,
    time_of_day: TimeOfDay = None,
    location: Location = None,
    device: Device = None,
    k: K = 20,
) -> Response:
    fitted = api.models()
    customer_id, owned = None, None
    if anonymous_id:
        with session_scope(api.engine) as session:
            customer_id = queries.linked_customer(session, anonymous_id)
            if customer_id is not None:
                owned = queries.owned(session, customer_id, fitted.durables)
    basis = (
        "personal"
        if customer_id is not None and fitted.data.row_of(customer_id) >= 0
        else "cold_start"
    )
    return json_response(
        _recommend(
            fitted,
            customer_id,
            basis,
            weather,
            time_of_day,
            location,
            device,
            k,
            anonymous_id=anonymous_id,
            owned=owned,
        )
    )


# --------------------------------------------------------------------------- profiles


@router.get(
    "/customers/{customer_id}/profile",
    response_model=Profile,
    tags=["profiles"],
    responses=CUSTOMER,
    summary="one unified profile (scores, segments, emotion, channels, histories)",
)
def customer_profile(customer_id: CustomerId, api: ApiDep, _key: ReadKey) -> Response:
    with session_scope(api.engine) as session:
        if not queries.customer_exists(session, customer_id):
            raise unknown_customer(customer_id)
        profile = get_profile(session, customer_id)
    return json_response(Profile.model_validate(plain(profile.as_dict())))


@router.get(
    "/customers/{customer_id}/prediction",
    response_model=Prediction,
    tags=["predictions"],
    responses={**CUSTOMER, **MODELS},
    summary="next purchase, confidence, p_active, expected purchases, 12-month value",
)
def customer_prediction(customer_id: CustomerId, api: ApiDep, _key: ReadKey) -> Response:
    fitted = api.models()
    check_customer(api, customer_id)
    if fitted.predictor is None:
        raise ApiProblem(
            503, f"no predictions: {fitted.predictor_error}", headers={"Retry-After": "60"}
        )
    record = prediction_record(fitted.predictor.predict([customer_id]).iloc[0])
    record["as_of"] = fitted.as_of.isoformat()
    return json_response(Prediction.model_validate(plain(record)))


@router.get(
    "/segments",
    response_model=Segments,
    tags=["profiles"],
    responses=AUTH,
    summary="segment sizes and pairwise overlaps",
)
def segments(api: ApiDep, _key: ReadKey) -> Response:
    with session_scope(api.engine) as session:
        sizes = segment_sizes(session)
        overlaps = segment_overlaps(session)
    return json_response(
        Segments.model_validate(
            plain({"sizes": sizes.to_dict("records"), "overlaps": overlaps.to_dict("records")})
        )
    )


@router.get(
    "/segments/{segment}/members",
    response_model=SegmentMembers,
    tags=["profiles"],
    responses={**AUTH, 404: {**PROBLEM, "description": "unknown segment"}},
    summary="one page of a segment's members, in customer id order",
)
def segment_members(
    _key: ReadKey,
    api: ApiDep,
    segment: Annotated[str, Path(min_length=1, max_length=64)],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    with session_scope(api.engine) as session:
        size, ids = queries.segment_page(session, segment, offset=offset, limit=limit)
        if size == 0:
            known = sorted(
                {*(s for s in DEFAULT_RULES if s != ENTHUSIAST), *queries.stored_segments(session)}
            )
            if segment not in known:
                raise not_found(f"unknown segment {segment!r}; valid values: {', '.join(known)}")
    following = offset + len(ids)
    return json_response(
        SegmentMembers(
            segment=segment,
            size=size,
            offset=offset,
            limit=limit,
            customer_ids=ids,
            next_offset=following if following < size else None,
        )
    )

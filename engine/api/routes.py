"""The routes of the storefront API (see :mod:`engine.api.app` for the frame)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from engine.db import head_revision, run_write, session_scope
from engine.errors import UserError
from engine.predict.views import prediction_record
from engine.profiles.customer import get_profile
from engine.profiles.memberships import segment_overlaps, segment_sizes
from engine.profiles.segments import DEFAULT_RULES, ENTHUSIAST
from engine.profiles.tracking import track
from engine.recommend.context import parse_context

from . import queries
from .deps import Api, get_api, requires
from .errors import PROBLEM_JSON, ApiProblem, not_found
from .keys import KeyInfo
from .schemas import (
    ID_MAX,
    MAX_BATCH,
    ContextOut,
    EventIn,
    EventResult,
    Health,
    ModelHealth,
    Prediction,
    Problem,
    Profile,
    Recommendation,
    Recommendations,
    RefitResponse,
    SegmentMembers,
    Segments,
    StoreHealth,
    TrackResponse,
)
from .service import FittedModels

_PROBLEM: dict[str, Any] = {"model": Problem, "content": {PROBLEM_JSON: {}}}
Responses = dict[int | str, dict[str, Any]]
_AUTH: Responses = {401: {**_PROBLEM, "description": "no key, or a wrong or revoked key"},
         403: {**_PROBLEM, "description": "the key's scope does not allow this"},
         422: {**_PROBLEM, "description": "an invalid value (the valid ones are listed)"}}
_CUSTOMER: Responses = {**_AUTH, 404: {**_PROBLEM, "description": "unknown customer"}}
_MODELS: Responses = {503: {**_PROBLEM, "description": "the models are not fitted yet"}}

router = APIRouter()

CustomerId = Annotated[str, Path(min_length=1, max_length=ID_MAX,
                                 description="the store's customer id")]
Weather = Annotated[str | None, Query(max_length=16,
                                      description="sunny|cloudy|rainy|snowy|hot|cold")]
TimeOfDay = Annotated[str | None, Query(max_length=16, description="morning|afternoon|"
                                        "evening|night, or an hour 0..23")]
Location = Annotated[str | None, Query(max_length=100, description="a city, region or "
                                       "country the store knows")]
Device = Annotated[str | None, Query(max_length=16, description="desktop|mobile|tablet")]
K = Annotated[int, Query(ge=1, le=100, description="how many products, 1..100")]
Batch = Annotated[list[EventIn], Field(min_length=1, max_length=MAX_BATCH)]
ApiDep = Annotated[Api, Depends(get_api)]
TrackKey = Annotated[KeyInfo, Depends(requires("track"))]
ReadKey = Annotated[KeyInfo, Depends(requires("read"))]
AdminKey = Annotated[KeyInfo, Depends(requires("admin"))]


def _unknown_customer(customer_id: str) -> ApiProblem:
    # The CLI's words (personalize predict / profile).
    return not_found(f"unknown customer {customer_id!r}: no such customer in the store")


def _check_customer(api: Api, customer_id: str) -> None:
    with session_scope(api.engine) as session:
        if not queries.customer_exists(session, customer_id):
            raise _unknown_customer(customer_id)


def _json(body: BaseModel, status_code: int = 200) -> Response:
    """``body`` as the response, serialised here: given a model instead, FastAPI would
    validate a sync route's return value again, in another thread hop."""
    return Response(body.model_dump_json(), status_code=status_code,
                    media_type="application/json")


def _plain(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python, NaN to null, dates to ISO."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- health


def _model_health(api: Api) -> ModelHealth:
    fitted = api.server.fitted
    return ModelHealth(
        fitted=fitted is not None,
        as_of=fitted.as_of if fitted else None,
        fitted_at=fitted.fitted_at if fitted else None,
        fit_seconds=round(fitted.seconds, 2) if fitted else None,
        refitting=api.server.refitting,
        last_error=api.server.last_error,
        refit_every_seconds=api.server.refit_every,
        customers=fitted.data.n_customers if fitted else None,
        products=fitted.data.n_items if fitted else None,
    )


@router.get("/health", response_model=Health, tags=["service"],
            summary="store reachable, schema current, models fitted as of when (no key)")
def health(api: ApiDep) -> Response:
    try:
        with session_scope(api.engine) as session:
            revision = queries.schema_revision(session)
        store = StoreHealth(reachable=True, schema_revision=revision,
                            schema_current=revision == head_revision())
    except Exception:  # an unreachable store is what this route reports, not an error
        store = StoreHealth(reachable=False, schema_revision=None, schema_current=False)
    models = _model_health(api)
    if not store.reachable or not store.schema_current:
        status = "degraded"
    elif not models.fitted:
        status = "starting" if models.last_error is None else "degraded"
    else:
        status = "ok"
    body = Health(status=status, store=store, models=models)
    return _json(body, status_code=503 if not store.reachable else 200)


@router.post("/admin/refit", response_model=RefitResponse, status_code=202, tags=["service"],
             responses=_AUTH, summary="refit the served models now (in the background)")
def refit(
    _key: AdminKey, api: ApiDep,
    wait: Annotated[bool, Query(description="answer only when the refit is done")] = False,
) -> Response:
    started = api.server.refit() if wait else api.server.refit_in_background()
    return _json(RefitResponse(started=started, models=_model_health(api)), status_code=202)


# --------------------------------------------------------------------------- tracking


def _result(index: int, result: Any, before: queries.Snapshot | None,
            after: queries.Snapshot | None) -> EventResult:
    out = EventResult(index=index, status=result.status, customer_id=result.customer_id,
                      event_id=result.event_id, new_profile=False)
    if result.status != "recorded" or after is None:
        return out
    out.new_profile = before is None
    out.scores = {k: (None if v is None else round(float(v), 2))
                  for k, v in result.scores.items()}
    out.segments = list(result.segments)
    out.emotional_state = result.emotional_state
    if before is not None:
        # a score without enough data (None) on either side has no change to report
        pairs = {name: (before.scores.get(name), now) for name, now in after.scores.items()}
        out.score_changes = {
            name: round(now - then, 2) for name, (then, now) in pairs.items()
            if now is not None and then is not None and abs(now - then) >= 0.005
        }
        out.joined = sorted(set(result.segments) - set(before.segments))
        out.left = sorted(set(before.segments) - set(result.segments))
        out.emotional_state_before = before.emotional_state
    else:
        out.joined = list(result.segments)
    return out


@router.post(
    "/events", response_model=TrackResponse, tags=["tracking"],
    responses={**_AUTH, 400: {**_PROBLEM, "description": "a body that is not UTF-8 text"},
               413: {**_PROBLEM, "description": "body too large"}},
    summary="record one event or a batch (at most 1000); idempotent by event_id",
)
def post_events(
    _key: TrackKey, api: ApiDep,
    body: Annotated[EventIn | Batch, Body(description="one event, or a list of events")],
) -> Response:
    """Validate and record the events, in one transaction: if any event is invalid,
    nothing is written. Each recorded event updates its customer's profile and
    segments at once; the response says what changed."""
    events = body if isinstance(body, list) else [body]

    def record(session: Session) -> list[EventResult]:
        results: list[EventResult] = []
        # each customer's profile after this batch's events so far (what track returned
        # is what it stored), so only a customer's first event reads the stored one
        seen: dict[str, queries.Snapshot] = {}
        for index, event in enumerate(events):
            raw = event.model_dump(exclude_none=True)
            who = raw.get("customer_id")
            if who is None and raw.get("anonymous_id"):
                who = queries.linked_customer(session, raw["anonymous_id"])
            before = (seen[who] if who in seen else queries.snapshot(session, who)) \
                if who else None
            try:
                result = track(session, raw)
            except UserError as exc:
                label = f"events[{index}]: " if isinstance(body, list) else ""
                raise ApiProblem(422, f"{label}{exc} (nothing written)") from exc
            after = None
            if result.status == "recorded" and result.customer_id:
                after = queries.Snapshot(dict(result.scores), sorted(result.segments),
                                         result.emotional_state)
                seen[result.customer_id] = after
            results.append(_result(index, result, before, after))
        return results

    # one transaction, rerun whole if it lost a race with another writer (another
    # server process, `personalize track`, an import or `score`)
    with api.server.write_lock:
        results = run_write(api.engine, record)
    fitted = api.server.fitted
    return _json(TrackResponse(
        recorded=sum(r.status == "recorded" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        anonymous=sum(r.status == "anonymous" for r in results),
        results=results, recommendations_as_of=fitted.as_of if fitted else None,
    ))


# --------------------------------------------------------------------------- recommendations


def _recommend(fitted: FittedModels, customer_id: str | None, basis: str, weather: str | None,
               time_of_day: str | None, location: str | None, device: str | None, k: int,
               anonymous_id: str | None = None) -> Recommendations:
    context = parse_context(weather=weather, time_of_day=time_of_day, location=location,
                            device=device, known_locations=fitted.known_locations)
    items = fitted.blend.recommend(customer_id, context, k=k, allow_unknown=True)
    rows = []
    for rank, item in enumerate(items, start=1):
        name, category, brand = fitted.products.get(item.product_id, (None, None, None))
        rows.append(Recommendation(rank=rank, product_id=item.product_id, name=name,
                                   category=category, brand=brand, score=item.score,
                                   reason=item.reason, contributions=item.contributions))
    return Recommendations(
        customer_id=customer_id, anonymous_id=anonymous_id, basis=basis, as_of=fitted.as_of,
        fitted_at=fitted.fitted_at, context=ContextOut(**vars(context)), k=k,
        recommendations=rows,
    )


@router.get("/customers/{customer_id}/recommendations", response_model=Recommendations,
            tags=["recommendations"], responses={**_CUSTOMER, **_MODELS},
            summary="ranked, explained recommendations for one customer in one context")
def customer_recommendations(
    _key: ReadKey, api: ApiDep,
    customer_id: CustomerId, weather: Weather = None, time_of_day: TimeOfDay = None,
    location: Location = None, device: Device = None, k: K = 20,
) -> Response:
    fitted = api.models()
    if fitted.data.row_of(customer_id) >= 0:
        basis = "personal"
    else:
        _check_customer(api, customer_id)  # in the store, new since the last fit
        basis = "cold_start"
    return _json(_recommend(fitted, customer_id, basis, weather, time_of_day, location,
                            device, k))


@router.get("/recommendations", response_model=Recommendations, tags=["recommendations"],
            responses={**_AUTH, **_MODELS},
            summary="recommendations for an anonymous visitor (or a visitor linked to a "
            "customer)")
def visitor_recommendations(
    _key: ReadKey, api: ApiDep,
    anonymous_id: Annotated[str | None, Query(max_length=ID_MAX,
                                              description="the visitor's id, if any")] = None,
    weather: Weather = None, time_of_day: TimeOfDay = None, location: Location = None,
    device: Device = None, k: K = 20,
) -> Response:
    fitted = api.models()
    customer_id = None
    if anonymous_id:
        with session_scope(api.engine) as session:
            customer_id = queries.linked_customer(session, anonymous_id)
    basis = "personal" if customer_id is not None and fitted.data.row_of(customer_id) >= 0 \
        else "cold_start"
    return _json(_recommend(fitted, customer_id, basis, weather, time_of_day, location,
                            device, k, anonymous_id=anonymous_id))


# --------------------------------------------------------------------------- profiles


@router.get("/customers/{customer_id}/profile", response_model=Profile, tags=["profiles"],
            responses=_CUSTOMER, summary="one unified profile (scores, segments, emotion, "
            "channels, histories)")
def customer_profile(customer_id: CustomerId, api: ApiDep,
                     _key: ReadKey) -> Response:
    with session_scope(api.engine) as session:
        if not queries.customer_exists(session, customer_id):
            raise _unknown_customer(customer_id)
        profile = get_profile(session, customer_id)
    return _json(Profile.model_validate(_plain(profile.as_dict())))


@router.get("/customers/{customer_id}/prediction", response_model=Prediction,
            tags=["predictions"], responses={**_CUSTOMER, **_MODELS},
            summary="next purchase, confidence, p_active, expected purchases, 12-month value")
def customer_prediction(customer_id: CustomerId, api: ApiDep,
                        _key: ReadKey) -> Response:
    fitted = api.models()
    _check_customer(api, customer_id)
    if fitted.predictor is None:
        raise ApiProblem(503, f"no predictions: {fitted.predictor_error}",
                         headers={"Retry-After": "60"})
    record = prediction_record(fitted.predictor.predict([customer_id]).iloc[0])
    record["as_of"] = fitted.as_of.isoformat()
    return _json(Prediction.model_validate(_plain(record)))


@router.get("/segments", response_model=Segments, tags=["profiles"], responses=_AUTH,
            summary="segment sizes and pairwise overlaps")
def segments(api: ApiDep, _key: ReadKey) -> Response:
    with session_scope(api.engine) as session:
        sizes = segment_sizes(session)
        overlaps = segment_overlaps(session)
    return _json(Segments.model_validate(_plain({"sizes": sizes.to_dict("records"),
                                                 "overlaps": overlaps.to_dict("records")})))


@router.get("/segments/{segment}/members", response_model=SegmentMembers, tags=["profiles"],
            responses={**_AUTH, 404: {**_PROBLEM, "description": "unknown segment"}},
            summary="one page of a segment's members, in customer id order")
def segment_members(
    _key: ReadKey, api: ApiDep,
    segment: Annotated[str, Path(min_length=1, max_length=64)],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    with session_scope(api.engine) as session:
        size, ids = queries.segment_page(session, segment, offset=offset, limit=limit)
        if size == 0:
            known = sorted({*(s for s in DEFAULT_RULES if s != ENTHUSIAST),
                            *queries.stored_segments(session)})
            if segment not in known:
                raise not_found(f"unknown segment {segment!r}; valid values: {', '.join(known)}")
    following = offset + len(ids)
    return _json(SegmentMembers(segment=segment, size=size, offset=offset, limit=limit,
                                customer_ids=ids,
                                next_offset=following if following < size else None))

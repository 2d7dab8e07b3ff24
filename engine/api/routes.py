"""The storefront API's service and tracking routes: health, refit, events (the reads
are in :mod:`engine.api.read_routes`; see :mod:`engine.api.app` for the frame)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from engine.db import head_revision, run_write, session_scope
from engine.errors import UserError
from engine.profiles.track_batch import track_many
from engine.profiles.track_core import TrackResult
from engine.profiles.tracking import track

from . import queries
from .deps import Api
from .errors import ApiProblem
from .params import AUTH, PROBLEM, AdminKey, ApiDep, Batch, TrackKey, json_response
from .schemas import (
    EventIn,
    EventResult,
    Health,
    ModelHealth,
    RefitResponse,
    StoreHealth,
    TrackResponse,
)

router = APIRouter()


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


@router.get(
    "/health",
    response_model=Health,
    tags=["service"],
    summary="store reachable, schema current, models fitted as of when (no key)",
)
def health(api: ApiDep) -> Response:
    try:
        with session_scope(api.engine) as session:
            revision = queries.schema_revision(session)
        store = StoreHealth(
            reachable=True, schema_revision=revision, schema_current=revision == head_revision()
        )
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
    return json_response(body, status_code=503 if not store.reachable else 200)


@router.post(
    "/admin/refit",
    response_model=RefitResponse,
    status_code=202,
    tags=["service"],
    responses=AUTH,
    summary="refit the served models now (in the background)",
)
def refit(
    _key: AdminKey,
    api: ApiDep,
    wait: Annotated[bool, Query(description="answer only when the refit is done")] = False,
) -> Response:
    started = api.server.refit() if wait else api.server.refit_in_background()
    return json_response(RefitResponse(started=started, models=_model_health(api)), status_code=202)


# --------------------------------------------------------------------------- tracking


def _result(index: int, result: TrackResult, profile_at: int | None) -> EventResult:
    out = EventResult(
        index=index,
        status=result.status,
        customer_id=result.customer_id,
        event_id=result.event_id,
        new_profile=False,
        profile_at=profile_at,
    )
    if result.status != "recorded" or not result.carries_profile:
        return out
    before = result.before
    out.new_profile = before is None
    out.scores = {k: (None if v is None else round(float(v), 2)) for k, v in result.scores.items()}
    out.segments = list(result.segments)
    out.emotional_state = result.emotional_state
    if before is not None:
        # a score without enough data (None) has no change to report
        out.score_changes = {
            name: round(now - before.scores[name], 2)
            for name, now in result.scores.items()
            if now is not None and name in before.scores and abs(now - before.scores[name]) >= 0.005
        }
        out.joined = sorted(set(result.segments) - set(before.segments))
        out.left = sorted(set(before.segments) - set(result.segments))
        out.emotional_state_before = before.emotional_state
    else:
        out.joined = list(result.segments)
    return out


def _refused(index: int | None, exc_or_error: str) -> str:
    return f"events[{index}]: {exc_or_error}" if index is not None else exc_or_error


@router.post(
    "/events",
    response_model=TrackResponse,
    tags=["tracking"],
    responses={
        **AUTH,
        400: {**PROBLEM, "description": "a body that is not UTF-8 text"},
        413: {**PROBLEM, "description": "body too large"},
    },
    summary="record one event or a batch (at most 1000); idempotent by event_id",
)
def post_events(
    _key: TrackKey,
    api: ApiDep,
    body: Annotated[EventIn | Batch, Body(description="one event, or a list of events")],
) -> Response:
    """Validate and record the events, in one transaction: if any event is invalid,
    nothing is written. Each customer's profile and segments are updated at once (once
    per request, after all of their events); the response says what changed."""
    batch = isinstance(body, list)
    given: list[EventIn] = body if isinstance(body, list) else [body]
    events = [e.model_dump(exclude_none=True) for e in given]

    def record(session: Session) -> list[TrackResult]:
        if not batch:
            try:
                return [track(session, events[0])]
            except UserError as exc:
                raise ApiProblem(422, f"{exc} (nothing written)") from exc
        results = track_many(session, events)
        refused = [
            _refused(i, r.error or "") for i, r in enumerate(results) if r.status == "refused"
        ]
        if refused:  # raised inside the transaction: it rolls back whole
            raise ApiProblem(
                422,
                f"{refused[0]} (nothing written)",
                errors=[f"{r} (nothing written)" for r in refused],
            )
        return results

    # one transaction, rerun whole if it lost a race with another writer (another
    # server process, `personalize track`, an import or `score`)
    with api.server.write_lock:
        tracked = run_write(api.engine, record)
    last = {
        r.customer_id: i
        for i, r in enumerate(tracked)
        if r.status == "recorded" and r.customer_id is not None
    }
    results = [
        _result(i, r, last.get(r.customer_id) if r.status == "recorded" and r.customer_id else None)
        for i, r in enumerate(tracked)
    ]
    fitted = api.server.fitted
    return json_response(
        TrackResponse(
            recorded=sum(r.status == "recorded" for r in results),
            duplicates=sum(r.status == "duplicate" for r in results),
            anonymous=sum(r.status == "anonymous" for r in results),
            results=results,
            recommendations_as_of=fitted.as_of if fitted else None,
        )
    )

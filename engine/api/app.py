"""The app factory: :func:`create_app` builds the FastAPI application over one store.

Nothing is built at import time: the store is opened (or the given engine used)
when the app starts, and the served models are fitted then (see
:class:`~engine.api.settings.ApiSettings`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from engine.db import open_store

from . import errors
from .errors import ApiProblem
from .keys import KeyInfo, grants, verify_token
from .service import AudienceCache, FittedModels, ModelServer, fit_models
from .settings import ApiSettings, get_api_settings

DESCRIPTION = """\
The personalization engine for a storefront: track behavior as it happens, ask for
explained recommendations in context, read profiles, segments and predictions.

Every request except `/health` and these docs carries an API key,
`Authorization: Bearer psk_...` (make one with `personalize apikey create --scope ...`).
Scopes: `track` (POST /events), `read` (every GET), `admin` (everything, and refits).

Tracked events reach the customer's profile and segments at once; recommendations
and predictions come from models fitted on the store and refreshed at the next
refit (scheduled, or `POST /admin/refit`). Errors are `application/problem+json`
(RFC 9457) in the same words as the command line.
"""


@dataclass
class Api:
    """What the routes need: the store, the served models, the settings."""

    engine: Engine
    server: ModelServer
    settings: ApiSettings
    audiences: AudienceCache

    def models(self) -> FittedModels:
        """The current fit, or 503 while there is none (starting a lazy fit if needed)."""
        fitted = self.server.fitted
        if fitted is not None:
            return fitted
        if self.server.last_error and not self.server.refitting:
            raise ApiProblem(503, f"no fitted models: {self.server.last_error}",
                             headers={"Retry-After": "60"})
        self.server.refit_in_background()
        raise ApiProblem(503, "the models are being fitted: retry in a few seconds "
                         "(GET /health says when they are ready)", headers={"Retry-After": "5"})


async def get_api(request: Request) -> Api:
    """The app's :class:`Api` (async: it only reads app state, so it needs no thread)."""
    api: Api = request.app.state.api
    return api


_bearer = HTTPBearer(auto_error=False, description="an API key: psk_...")


def requires(scope: str) -> Callable[..., KeyInfo]:
    """A dependency that lets the request through only with a live key granting ``scope``.

    It runs before anything reads the store for the request, so a refusal says nothing
    about which customers exist.
    """

    def check(
        api: Annotated[Api, Depends(get_api)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> KeyInfo:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise ApiProblem(401, "missing API key: send the header Authorization: Bearer "
                             "<key> (make one with `personalize apikey create`)",
                             headers=challenge)
        with api.engine.connect() as connection:  # a read: no session needed
            key = verify_token(connection, credentials.credentials)
        if key is None:
            raise ApiProblem(401, "invalid API key: unknown, revoked or mistyped",
                             headers=challenge)
        if not grants(key.scope, scope):
            raise ApiProblem(403, f"this API key's scope is {key.scope!r}, which does not "
                             f"allow {scope}: use a key with scope {scope!r} or 'admin'")
        return key

    return check


def create_app(
    store: str | Engine | None = None,
    *,
    settings: ApiSettings | None = None,
    fit: Callable[[Engine], FittedModels] = fit_models,
) -> FastAPI:
    """The storefront API over one store.

    Args:
        store: an engine (used as is, not disposed), or a store URL (opened at
            startup, schema upgraded; default: ``PERSONALIZE_DATABASE_URL``, else the
            embedded store).
        settings: default :func:`~engine.api.settings.get_api_settings`.
        fit: how the served models are fitted (tests pass a cheaper one).

    Returns:
        The app; run it with uvicorn (``personalize serve``) or FastAPI's TestClient.
    """
    from .audience_routes import router as audience_router
    from .routes import router

    chosen = settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = store if isinstance(store, Engine) else open_store(store)
        server = ModelServer(engine, refit_every=chosen.refit_every_s, fit=fit)
        app.state.api = Api(engine=engine, server=server, settings=chosen,
                            audiences=AudienceCache())
        server.start(fit=chosen.fit)
        try:
            yield
        finally:
            server.stop()
            if not isinstance(store, Engine):
                engine.dispose()

    app = FastAPI(
        title="personalize storefront API", version="1", description=DESCRIPTION,
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(errors.BodyLimit, max_bytes=chosen.max_body_bytes)
    app.include_router(router)
    app.include_router(audience_router)
    return app

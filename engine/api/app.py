"""The app factory: :func:`create_app` builds the FastAPI application over one store.

Nothing is built at import time: the store is opened (or the given engine used)
when the app starts, and the served models are fitted then (see
:class:`~engine.api.settings.ApiSettings`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from engine.db import open_store

from . import errors
from .audience_routes import router as audience_router
from .deps import Api
from .read_routes import router as read_router
from .routes import router
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
    chosen = settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = store if isinstance(store, Engine) else open_store(store)
        server = ModelServer(engine, refit_every=chosen.refit_every_s, fit=fit)
        app.state.api = Api(
            engine=engine, server=server, settings=chosen, audiences=AudienceCache()
        )
        server.start(fit=chosen.fit)
        try:
            yield
        finally:
            server.stop()
            if not isinstance(store, Engine):
                engine.dispose()

    app = FastAPI(
        title="personalize storefront API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(errors.BodyLimit, max_bytes=chosen.max_body_bytes)
    app.include_router(router)
    app.include_router(read_router)
    app.include_router(audience_router)
    return app

"""What every route depends on: the app's :class:`Api` (store, served models, settings)
and :func:`requires`, the API-key check of a scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from .errors import ApiProblem
from .keys import KeyInfo, grants, verify_token
from .service import AudienceCache, FittedModels, ModelServer
from .settings import ApiSettings


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
            raise ApiProblem(
                503, f"no fitted models: {self.server.last_error}", headers={"Retry-After": "60"}
            )
        self.server.refit_in_background()
        raise ApiProblem(
            503,
            "the models are being fitted: retry in a few seconds "
            "(GET /health says when they are ready)",
            headers={"Retry-After": "5"},
        )


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
            raise ApiProblem(
                401,
                "missing API key: send the header Authorization: Bearer "
                "<key> (make one with `personalize apikey create`)",
                headers=challenge,
            )
        with api.engine.connect() as connection:  # a read: no session needed
            key = verify_token(connection, credentials.credentials)
        if key is None:
            raise ApiProblem(
                401, "invalid API key: unknown, revoked or mistyped", headers=challenge
            )
        if not grants(key.scope, scope):
            raise ApiProblem(
                403,
                f"this API key's scope is {key.scope!r}, which does not "
                f"allow {scope}: use a key with scope {scope!r} or 'admin'",
            )
        return key

    return check

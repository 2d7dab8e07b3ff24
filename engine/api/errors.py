"""Errors as RFC 9457 ``application/problem+json``, in the command line's words.

A :class:`~engine.errors.UserError` from the engine keeps its message as ``detail``
(the CLI prints the same sentence after ``error:``); request validation errors are
rewritten into the same form (``invalid k 0; valid values: ...``) by asking the
engine's own validators for the sentence where there is one (an event's fields are
checked by :mod:`engine.events`' rules, whose errors carry the sentence).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import UserError, describe_store_fault
from engine.events import EVENT_ERROR, sentence
from engine.recommend.context import validate_k

PROBLEM_JSON = "application/problem+json"
_UNREADABLE_BODY = "There was an error parsing the body"
"""FastAPI's words for a body it could not decode (not UTF-8), before any JSON parsing."""


class ApiProblem(Exception):
    """An error with an HTTP status; ``detail`` is shown to the client as is."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.errors = status, detail, headers, errors


def not_found(detail: str) -> ApiProblem:
    return ApiProblem(404, detail)


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors and len(errors) > 1:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _branch(part: Any) -> bool:
    """A union's branch name in a pydantic location (one event, or a list of them)."""
    return isinstance(part, str) and part.startswith(("list[", "EventIn"))


def _where(loc: tuple[Any, ...]) -> tuple[str, str]:
    """(prefix naming the event of a batch, the field's name) of a pydantic location."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header") and not _branch(p)]
    prefix = ""
    if parts and isinstance(parts[0], int):
        prefix = f"events[{parts[0]}]: "
        parts = parts[1:]
    names = [str(p) for p in parts if isinstance(p, str)]
    return prefix, names[-1] if names else "body"


def _same_shape(error: dict[str, Any], body: Any) -> bool:
    """Whether an error is about the union branch the body has the shape of (a list is
    a batch, anything else one event), so a bad batch is not also called a bad event."""
    loc = tuple(error.get("loc", ()))
    branch = next((p for p in loc if _branch(p)), None)
    if branch is None:
        return True
    return str(branch).startswith("list[") == isinstance(body, list)


def _sentence(error: dict[str, Any]) -> str:
    prefix, field = _where(tuple(error.get("loc", ())))
    kind = str(error.get("type", ""))
    value = error.get("input")
    if kind == "missing":
        return f"{prefix}missing {field}"
    if kind == EVENT_ERROR:  # an event's field, refused by the engine's own rule
        return f"{prefix}{sentence(error)}"
    if field == "k":
        try:
            # the engine's words for any k it refuses
            given: Any = int(str(value)) if str(value).lstrip("-").isdigit() else value
            validate_k(given)
        except UserError as exc:
            return f"{prefix}{exc}"
        return f"{prefix}invalid k {value!r}; valid values: an integer from 1 to 100"
    if field == "rating":
        return f"{prefix}invalid rating {value!r}; valid values: 1, 2, 3, 4, 5"
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        return f"{prefix}invalid {field}: longer than {limit} characters"
    if kind in ("model_type", "model_attributes_type", "dict_type", "list_type") or field == "body":
        return (
            f"{prefix}invalid request body: expected one event (a JSON object) or a "
            "list of 1 to 1000 events"
        )
    if kind == "too_long" or kind == "too_short":
        return f"{prefix}invalid {field}: {error.get('msg', 'wrong length')}"
    shown = repr(value) if not isinstance(value, dict | list) else f"({type(value).__name__})"
    return f"{prefix}invalid {field} {shown[:80]}: {error.get('msg', 'invalid value')}"


def install(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.detail, headers=exc.headers, errors=exc.errors
        )

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        problems = getattr(exc, "problems", None)
        return problem_response(request, 422, str(exc), errors=problems)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = [e for e in exc.errors() if _same_shape(e, exc.body)] or list(exc.errors())
        sentences = list(dict.fromkeys(_sentence(e) for e in found))
        if not sentences:
            sentences = ["invalid request"]
        return problem_response(request, 422, sentences[0], errors=sentences)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such route {request.url.path[:100]!r}: see /docs"
        elif exc.status_code == 400 and detail == _UNREADABLE_BODY:
            detail = (
                "invalid request body: not UTF-8 text; expected JSON, one event (an "
                "object) or a list of 1 to 1000 events"
            )
        return problem_response(
            request, exc.status_code, detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A fault of the environment (disk full, store busy) says so; anything else is a
        # bug: logged by the server with its traceback, never shown to the client.
        sentence = describe_store_fault(exc)
        if sentence is not None:
            return problem_response(request, 503, sentence, headers={"Retry-After": "5"})
        return problem_response(request, 500, "internal error: the server's log has the details")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 problem, before any route reads them.

    A declared ``Content-Length`` is checked up front; a body without one (chunked) is
    read up to the limit here and handed on only if it fits, so nothing downstream ever
    holds more than ``max_bytes``.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            None,
            413,
            f"request body too large: at most {self.max_bytes:,} bytes "
            "(send at most 1000 events per request)",
        )
        await response(scope, receive, send)

"""Served models: fitted once, refitted in the background, swapped atomically, and
/health says which fit is served and since when.

The fits here are the session's real fit handed back by a function the test controls
(held at a gate, or failing), so each test decides when a refit ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.api import ApiSettings, create_app
from engine.api.service import FittedModels, ModelServer
from engine.errors import UserError


class ControlledFit:
    """Each call returns ``base`` one minute later (as_of and fitted_at), waiting first at
    ``gate`` when it is given; ``fail`` makes the calls raise it instead."""

    def __init__(self, base: FittedModels, *, gate: threading.Event | None = None) -> None:
        self.base, self.gate, self.calls = base, gate, 0
        self.fail: Exception | None = None

    def __call__(self, _engine: Engine) -> FittedModels:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        if self.fail is not None:
            raise self.fail
        later = timedelta(minutes=self.calls)
        return replace(
            self.base, as_of=self.base.as_of + later, fitted_at=self.base.fitted_at + later
        )


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def fitted(client) -> FittedModels:
    """The session app's real fit (nothing fitted again here)."""
    models = client.app.state.api.server.fitted
    assert models is not None
    return models


@contextmanager
def _serve(engine: Engine, fitter: ControlledFit, *, first: str) -> Iterator[TestClient]:
    """The API over ``engine`` with ``fitter`` as its fit, fitted first as ``first`` says."""
    app = create_app(engine, settings=ApiSettings(fit=first, refit_every_s=0), fit=fitter)
    with TestClient(app, raise_server_exceptions=False) as served:
        yield served


@pytest.fixture
def gated(fitted) -> ControlledFit:
    return ControlledFit(fitted, gate=threading.Event())


@pytest.fixture
def gated_client(api_engine, gated) -> Iterator[TestClient]:
    """An app whose first fit waits at the gate (started in the background)."""
    with _serve(api_engine, gated, first="background") as served:
        yield served
        gated.gate.set()  # let a refit still held finish before the app stops


def test_until_the_first_fit_health_says_starting_and_models_answer_503(
    gated_client, gated, read, known
):
    health = gated_client.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "starting" and body["models"]["fitted"] is False
    assert body["models"]["refitting"] is True and body["models"]["as_of"] is None
    r = gated_client.get(f"/customers/{known['customer']}/recommendations", headers=read)
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.json()["detail"].startswith("the models are being fitted")
    # what needs no model answers at once
    assert (
        gated_client.get(f"/customers/{known['customer']}/profile", headers=read).status_code == 200
    )

    gated.gate.set()
    _until(lambda: gated_client.get("/health").json()["status"] == "ok", "the first fit")
    models = gated_client.get("/health").json()["models"]
    assert models["fitted"] and models["as_of"].endswith("Z") and models["fit_seconds"] >= 0
    assert (
        gated_client.get(
            f"/customers/{known['customer']}/recommendations", headers=read
        ).status_code
        == 200
    )


def test_a_background_refit_serves_the_old_fit_until_it_swaps(
    gated_client, gated, admin, read, known
):
    gated.gate.set()
    _until(lambda: gated_client.get("/health").json()["models"]["fitted"], "the first fit")
    first = gated_client.get("/health").json()["models"]
    url = f"/customers/{known['customer']}/recommendations"
    gated.gate.clear()

    started = gated_client.post("/admin/refit", headers=admin)
    assert started.status_code == 202 and started.json()["started"] is True
    assert started.json()["models"]["refitting"] is True
    again = gated_client.post("/admin/refit", headers=admin).json()
    assert again["started"] is False, "one refit at a time"
    during = gated_client.get(url, headers=read).json()
    assert (during["as_of"], during["fitted_at"]) == (first["as_of"], first["fitted_at"])
    assert gated_client.get("/health").json()["models"]["fitted_at"] == first["fitted_at"]

    gated.gate.set()
    _until(lambda: not gated_client.get("/health").json()["models"]["refitting"], "the refit")
    now = gated_client.get("/health").json()["models"]
    assert now["fitted_at"] > first["fitted_at"] and now["as_of"] > first["as_of"]
    after = gated_client.get(url, headers=read).json()
    assert (after["as_of"], after["fitted_at"]) == (now["as_of"], now["fitted_at"])
    assert gated.calls == 2


def test_a_failed_refit_keeps_serving_the_previous_fit_and_health_says_why(
    api_engine, fitted, admin, read, known
):
    fit = ControlledFit(fitted)
    with _serve(api_engine, fit, first="blocking") as served:
        before = served.get("/health").json()["models"]
        fit.fail = RuntimeError("out of memory")
        refit = served.post("/admin/refit", params={"wait": "true"}, headers=admin).json()
        assert refit["started"] is True
        health = served.get("/health").json()
        assert health["status"] == "ok" and health["models"]["fitted_at"] == before["fitted_at"]
        assert health["models"]["last_error"] == "fit failed: RuntimeError"
        assert (
            served.get(f"/customers/{known['customer']}/recommendations", headers=read).status_code
            == 200
        )
        fit.fail = None
        served.post("/admin/refit", params={"wait": "true"}, headers=admin)
        assert served.get("/health").json()["models"]["last_error"] is None


def test_a_store_with_nothing_to_learn_is_degraded_and_says_so(api_engine, fitted, read):
    fit = ControlledFit(fitted)
    fit.fail = UserError("nothing to learn from: the store has no orders or events")
    with _serve(api_engine, fit, first="blocking") as served:
        health = served.get("/health").json()
        assert health["status"] == "degraded" and not health["models"]["fitted"]
        assert health["models"]["last_error"] == str(fit.fail)
        r = served.get("/recommendations", headers=read)
        assert r.status_code == 503
        assert r.json()["detail"] == f"no fitted models: {fit.fail}"


def test_refits_run_on_their_schedule(api_engine, fitted):
    fit = ControlledFit(fitted)
    server = ModelServer(api_engine, refit_every=0.05, fit=fit)
    server.start(fit="blocking")
    try:
        _until(lambda: fit.calls >= 3, "two scheduled refits")
    finally:
        server.stop()
    assert server.fitted is not None and server.fitted.as_of > fitted.as_of


def test_health_needs_no_key_and_reveals_no_customer(client, known):
    body = client.get("/health").json()
    assert set(body) == {"status", "store", "models"}
    assert known["customer"] not in str(body) and "customer_id" not in str(body)

"""Warming fills the very caches the pages read, and never raises."""

from __future__ import annotations

import pytest

from dashboard import data, warm
from dashboard import profiles as prof

from .factories import build_small_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # no Streamlit runtime here


def test_warm_fills_the_pages_caches(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = build_small_store(db_url)
    data.load_store_version.clear()
    data.load_summary.clear()
    as_of = warm.default_as_of(url)
    assert as_of is not None
    failed = warm.warm(url)
    assert set(failed) <= {label for label, _ in warm.steps(url)}
    assert "store overview" not in failed and "profiles" not in failed

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("recomputed: the warm cache was not used")

    monkeypatch.setattr(data, "store_overview", refuse)
    monkeypatch.setattr(prof, "compute_profiles", refuse)
    assert data.load_overview(url, as_of) is not None
    assert not prof.load_profiles(url, as_of).empty
    data.get_engine.clear()


def test_warm_reports_failures_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(url: str) -> list[tuple[str, object]]:
        return [("boom", lambda: 1 / 0), ("fine", lambda: None)]

    monkeypatch.setattr(warm, "steps", broken)
    assert warm.warm("sqlite://") == ["boom"]


def test_the_server_logs_when_its_warm_up_is_done(monkeypatch, capsys) -> None:
    from dashboard import server

    monkeypatch.setattr(server, "_runtime_ready", lambda: True)
    monkeypatch.setattr(data, "database_url", lambda: "sqlite://")
    monkeypatch.setattr(warm, "warm", lambda url: ["recommenders"])
    monkeypatch.setattr(server.gc, "freeze", lambda: None)  # not this test process's heap
    server._warm_when_ready()
    line = capsys.readouterr().err.strip()
    assert line.startswith(server.WARMED) and line.endswith("(not warmed: recommenders)")

"""``personalize dashboard``: which store it opens, when it seeds, what it runs."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.cli import dashboard_cmd, main
from engine.db import open_store, session_scope
from engine.models import Product


@pytest.fixture
def launched(monkeypatch):
    """Record the streamlit command instead of starting a server."""
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_serve(command, *, env):
        calls.append((command, env))
        return 0

    monkeypatch.setattr(dashboard_cmd, "serve", fake_serve)
    return calls


@pytest.fixture
def fake_seed(monkeypatch):
    """A stand-in ``seed`` package that writes one product and reports progress."""
    seen: dict[str, object] = {}

    class MarketConfig:
        def __init__(self, customers: int, seed: int) -> None:
            seen["config"] = (customers, seed)

    def generate_market(config, progress):
        progress("customers", 5, 10)
        progress("customers", 10, 10)
        return "market"

    def write_market(engine, market, progress):
        with session_scope(engine) as session:
            session.add(Product(product_id="p1"))
        progress("products", 1, 1)
        seen["market"] = market

    market_module = types.ModuleType("seed.market")
    market_module.MarketConfig = MarketConfig
    market_module.generate_market = generate_market
    writer_module = types.ModuleType("seed.writer")
    writer_module.write_market = write_market
    monkeypatch.setitem(sys.modules, "seed.market", market_module)
    monkeypatch.setitem(sys.modules, "seed.writer", writer_module)
    return seen


def _products(url: str) -> int:
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            return session.scalar(select(func.count(Product.product_id)))
    finally:
        engine.dispose()


def test_runs_streamlit_on_the_app_with_the_resolved_store(launched, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    assert main(["dashboard", "--db", url, "--port", "8765"]) == 0
    ((command, env),) = launched
    assert command[:4] == [sys.executable, "-m", "dashboard.server", "run"]
    assert Path(command[4]) == Path(dashboard_cmd.__file__).parents[1] / "app.py"
    assert Path(command[4]).is_absolute()
    assert command[command.index("--server.port") + 1] == "8765"
    assert command[command.index("--server.headless") + 1] == "true"
    assert env["PERSONALIZE_DATABASE_URL"] == url
    err = capsys.readouterr().err
    assert "http://localhost:8765" in err
    # A store the user named is never seeded behind their back.
    assert "personalize seed" in err
    assert _products(url) == 0


def test_seeds_the_empty_embedded_store_first(launched, fake_seed, monkeypatch, capsys):
    monkeypatch.setenv("PERSONALIZE_DASHBOARD_CUSTOMERS", "12")
    monkeypatch.setenv("PERSONALIZE_SEED", "3")
    assert main(["dashboard"]) == 0
    ((_, env),) = launched
    url = env["PERSONALIZE_DATABASE_URL"]
    assert url.endswith("store.db")
    assert fake_seed["config"] == (12, 3)
    assert _products(url) == 1
    err = capsys.readouterr().err
    assert "seeding the empty store with 12 customers" in err
    assert "customers" in err and "10 / 10" in err
    # A second start finds data and seeds nothing more.
    fake_seed.clear()
    assert main(["dashboard"]) == 0
    assert "config" not in fake_seed


def test_no_seed_leaves_the_embedded_store_empty(launched, fake_seed):
    assert main(["dashboard", "--no-seed"]) == 0
    assert "config" not in fake_seed
    ((_, env),) = launched
    assert _products(env["PERSONALIZE_DATABASE_URL"]) == 0


def test_env_url_is_not_seeded(launched, fake_seed, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    assert main(["dashboard"]) == 0
    assert "config" not in fake_seed
    assert launched[0][1]["PERSONALIZE_DATABASE_URL"] == url


def test_serve_returns_the_servers_exit_code():
    assert dashboard_cmd.serve([sys.executable, "-c", "raise SystemExit(3)"], env={}) == 3


@pytest.mark.parametrize("port", ["0", "70000"])
def test_bad_port_is_a_user_error(launched, port, capsys):
    assert main(["dashboard", "--port", port]) == 2
    assert "invalid --port" in capsys.readouterr().err
    assert launched == []

"""Shared fixtures: a fresh database per test on every backend we support.

* ``db_url`` is parametrised: a temporary SQLite file always, and a fresh
  database on a real PostgreSQL server when ``PERSONALIZE_TEST_POSTGRES_URL``
  is set (CI sets it; under ``CI=true`` a missing server is a failure, not a skip).
* ``store`` is an engine on that database with the schema at head.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from engine.db import open_store

# One BLAS/OpenMP thread per process, here and in every child the tests start (CLI
# subprocesses, `streamlit run`, worker pools), set before any test module imports numpy:
# the tests' matrices are small, and on a two-core machine the pool's spinning threads
# cost more than they give (a predictor's fit takes half the CPU time with one thread).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
POSTGRES_ENV = "PERSONALIZE_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set under CI: .ci/run must start PostgreSQL")
    return url


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test may touch the user's embedded store: point the data dir somewhere temporary."""
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("PERSONALIZE_DATABASE_URL", raising=False)


def _fresh_postgres_database(admin_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin_url = postgres_admin_url()
    if not admin_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (CI sets it)")
    yield from _fresh_postgres_database(admin_url)


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database of each backend, schema at head."""
    engine = open_store(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh SQLite file only (for tests that need no second backend)."""
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def shared_data() -> Path:
    """The real sample data beside the repository; skipped, saying why, where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA}")
    return SHARED_DATA


# --- the seeded synthetic market (seed/) -----------------------------------------------

SMALL_MARKET = {"customers": 600, "products": 150, "days": 180, "seed": 7}
"""Size of ``small_market``: big enough for per-trait statistics, small enough to be quick."""


@pytest.fixture(scope="session")
def small_market():
    """A generated :class:`seed.Market` (600 customers, 150 products, 180 days, seed 7).

    Session-scoped and shared: treat it as read-only (copy a frame before changing it).
    Its ``truth`` frame holds each customer's planted traits.
    """
    from seed.market import MarketConfig, generate_market

    return generate_market(MarketConfig(**SMALL_MARKET))


@pytest.fixture(scope="session")
def seeded_db_url(small_market, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite URL of a store holding ``small_market``, for READ-ONLY use.

    Tests that write must make their own store (``store``/``sqlite_store`` fixtures).
    """
    from seed.writer import write_market

    path = tmp_path_factory.mktemp("seeded") / "store.db"
    url = f"sqlite:///{path}"
    engine = open_store(url)
    try:
        write_market(engine, small_market)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def default_market():
    """The default market (``personalize seed`` with no options: 5000 customers, 1000
    products, 365 days, seed 7), generated once per session; treat it as read-only.

    The tests of what issue 10 promised on "the default seed" (score recovery, context in
    recommendations) run on it.
    """
    from seed.market import MarketConfig, generate_market

    return generate_market(MarketConfig())


@pytest.fixture(scope="session")
def default_db_url(default_market, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite URL of a store holding ``default_market``, for READ-ONLY use."""
    from seed.writer import write_market

    path = tmp_path_factory.mktemp("default") / "store.db"
    url = f"sqlite:///{path}"
    engine = open_store(url)
    try:
        write_market(engine, default_market)
    finally:
        engine.dispose()
    return url


# --- the real samples (../shared/data), imported once ------------------------------------


@pytest.fixture(scope="session")
def imported_sample(tmp_path_factory: pytest.TempPathFactory):
    """``imported_sample(name)``: the report of importing ``shared/data/<name>``'s orders and
    products into a fresh SQLite store, and that store's file, imported once per session.

    The file is for READ-ONLY use: a test that writes copies it first (a SQLite file is
    one copy away from a fresh store holding the whole sample).
    """
    from engine.importing import import_files

    done: dict[str, tuple[Any, Path]] = {}

    def imported(name: str) -> tuple[Any, Path]:
        if name not in done:
            folder = SHARED_DATA / name
            if not folder.is_dir():
                pytest.skip(f"real sample data not found at {folder}")
            path = tmp_path_factory.mktemp(f"imported-{name}") / "store.db"
            engine = open_store(f"sqlite:///{path}")
            try:
                report = import_files(
                    engine, orders=folder / "orders.csv", products=folder / "products.csv"
                )
            finally:
                engine.dispose()  # checkpointed: the file alone is the store
            done[name] = (report, path)
        return done[name]

    return imported


@pytest.fixture(scope="session")
def default_profiles(default_db_url: str):
    """``compute_profiles`` on the default store (every customer, as of now), computed once
    per session; treat it as read-only."""
    from engine.db import session_scope
    from engine.profiles import compute_profiles

    engine = open_store(default_db_url)
    try:
        with session_scope(engine) as session:
            return compute_profiles(session)
    finally:
        engine.dispose()

"""Benchmark section "live": the live store's ingestion, on SQLite and (when a server is
given) PostgreSQL.

On a seeded, scored store (SQLite: the default market, ``--quick`` 1,000 customers;
PostgreSQL: 1,000 customers), the live market (:mod:`seed.live`) draws the events of
the simulated hours after the store's last day, with one followed customer (who shops
more often, as on the Live page). They are written as :class:`dashboard.live.LiveRun`
writes them: each through ``track()`` in its own ``run_write`` transaction (the event,
the profile, its statistics and segments), and for the followed customer's events their
look and recommendations refreshed. Measured: events per second over the whole stream
[>= 200 on SQLite] and the per-event time, p50 and p99 [p99 < 10 ms on SQLite], with
the followed customer's refreshes reported apart.

The baseline, measured in the same run on an identical copy of the store: the same
events written in one batch (:func:`engine.profiles.track_many`, one transaction for
all), which is what the per-event transactions cost on top.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.harness import BenchOptions, Metric

SECTION = "live"
ROOT = Path(__file__).resolve().parents[1]
SPEED = 3_600.0
SEED = 11
STEP = timedelta(hours=1)


def _cli(url: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args, "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"personalize {args[0]} failed: {done.stderr.strip()[-500:]}")


def _prepare(url: str, customers: int | None) -> None:
    size = [] if customers is None else ["--customers", str(customers)]
    _cli(url, "seed", *size)
    _cli(url, "score")


def _events(url: str, count: int) -> tuple[list[dict[str, Any]], str]:
    """The first ``count`` events of the live market on this store, and who is followed."""
    from dashboard.live import LiveRun
    from engine.db import open_store

    engine = open_store(url)
    try:
        probe = LiveRun(engine, speed=SPEED, seed=SEED)
        followed = str(
            probe.sim.shoppers.customer_ids[int(np.argmax(probe.sim.shoppers.orders_per_day))]
        )
        probe.follow(followed)
        events: list[dict[str, Any]] = []
        at = probe.start_at
        while len(events) < count:
            at += STEP
            events += probe.sim.until(at)
    finally:
        engine.dispose()
    return events[:count], followed


def _live(url: str, events: list[dict[str, Any]], followed: str) -> dict[str, Any]:
    from dashboard.live import LiveRun
    from engine.db import open_store, session_scope
    from engine.recommend import BlendRecommender, StoreData

    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            blend = BlendRecommender().fit(StoreData.load(session))
        run = LiveRun(engine, speed=SPEED, seed=SEED, follow=followed, blend=blend)
        per_event: list[float] = []
        refresh: list[float] = []
        began = time.perf_counter()
        for event in events:
            start = time.perf_counter()
            run.write(dict(event))
            spent = (time.perf_counter() - start) * 1000.0
            (refresh if event.get("customer_id") == followed else per_event).append(spent)
        wall = time.perf_counter() - began
        state = run.state()
    finally:
        engine.dispose()
    return {
        "wall": wall,
        "per_event": per_event,
        "refresh": refresh,
        "track": state.latencies_ms,
        "refused": state.refused,
        "events": state.events,
    }


def _batch(url: str, events: list[dict[str, Any]]) -> tuple[float, str]:
    from engine.db import open_store, run_write
    from engine.profiles import track_many

    engine = open_store(url)
    try:
        began = time.perf_counter()
        run_write(engine, lambda session: track_many(session, [dict(e) for e in events]))
        wall = time.perf_counter() - began
    finally:
        engine.dispose()
    return wall, "track_many"


def _metrics(
    label: str, store: str, live: dict[str, Any], batch_s: float, how: str, n: int, targets: bool
) -> list[Metric]:
    rate = live["events"] / live["wall"]
    everything = live["per_event"] + live["refresh"]
    p50, p99 = np.percentile(everything, [50, 99])
    t50, t99 = np.percentile(live["track"], [50, 99])
    baseline = n / batch_s
    note = f"{n:,} events ({len(live['refresh'])} of the followed customer), {store}"
    metrics = [
        Metric(
            SECTION,
            f"{label}: live, one transaction per event",
            rate,
            "ev/s",
            target=200.0 if targets else None,
            lower_is_better=False,
            note=f"{note}; {rate / baseline:.2f}x the batch; {live['refused']} refused",
        ),
        Metric(
            SECTION,
            f"{label}: live per event p50",
            float(p50),
            "ms",
            note="track() + commit + the followed customer's refresh",
        ),
        Metric(
            SECTION,
            f"{label}: live per event p99",
            float(p99),
            "ms",
            target=10.0 if targets else None,
            note=f"track() + commit, no refresh: p50 {t50:.1f} ms, p99 {t99:.1f} ms",
        ),
        Metric(
            SECTION,
            f"{label}: followed customer's refresh p50",
            float(np.percentile(live["refresh"], 50)) if live["refresh"] else 0.0,
            "ms",
            note="their event + look + recommendations when mood/context/purchases change",
        ),
        Metric(
            SECTION,
            f"{label}: same events in one batch (baseline)",
            baseline,
            "ev/s",
            lower_is_better=False,
            note=f"{how} in one run_write transaction",
        ),
    ]
    return metrics


@contextmanager
def _postgres(admin: str) -> Iterator[tuple[str, str]]:
    """Two databases, the second a template copy of the first once it is prepared."""
    names = [f"bench_live_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin_url = make_url(admin).set(drivername="postgresql+psycopg")
    server = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{names[0]}"'))
    urls = [admin_url.set(database=n).render_as_string(hide_password=False) for n in names]
    try:
        yield urls[0], urls[1]
    finally:
        with server.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _copy_postgres(admin: str, source: str, target: str) -> None:
    admin_url = make_url(admin).set(drivername="postgresql+psycopg")
    server = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(
            text(
                f'CREATE DATABASE "{make_url(target).database}" '
                f'TEMPLATE "{make_url(source).database}"'
            )
        )
    server.dispose()


def run(options: BenchOptions) -> list[Metric]:
    """Run the section (see the module docstring)."""
    n = 500 if options.quick else 2000
    customers = 1000 if options.quick else None
    store = "default store" if customers is None else f"{customers:,} customers"
    metrics: list[Metric] = []
    with tempfile.TemporaryDirectory() as tmp:
        live_db, batch_db = Path(tmp) / "live.db", Path(tmp) / "batch.db"
        url = f"sqlite:///{live_db}"
        _prepare(url, customers)
        shutil.copy(live_db, batch_db)
        events, followed = _events(url, n)
        live = _live(url, events, followed)
        batch_s, how = _batch(f"sqlite:///{batch_db}", events)
        metrics += _metrics("sqlite", store, live, batch_s, how, len(events), targets=True)
    if options.postgres_url:
        with _postgres(options.postgres_url) as (first, second):
            _prepare(first, 1000)
            _copy_postgres(options.postgres_url, first, second)
            events, followed = _events(first, n)
            live = _live(first, events, followed)
            batch_s, how = _batch(second, events)
            metrics += _metrics(
                "postgresql", "1,000 customers", live, batch_s, how, len(events), targets=False
            )
    else:
        metrics.append(
            Metric(
                SECTION,
                "postgresql: not measured",
                0.0,
                "",
                note="give --db postgresql+psycopg://... or set PERSONALIZE_BENCH_POSTGRES_URL",
            )
        )
    return metrics

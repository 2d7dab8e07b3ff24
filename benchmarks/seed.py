"""Benchmark section "seed": generate and write the default market.

Figures: generation and write time of the default market (5000 customers, 1000
products, 365 days; target: both together under 20 s), rows per second, peak
memory, and a same-run baseline: writing events one ORM object at a time
(``session.add`` + ``flush`` per row) against the bulk path on the same rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.harness import BenchOptions, Metric, peak_rss_mib, stopwatch
from engine.bulk import insert_frame
from engine.db import open_store
from engine.models import Base, Event
from seed.market import Market, MarketConfig, generate_market
from seed.writer import write_market

SECTION = "seed"
TARGET_TOTAL_SECONDS = 20.0


def _write_timed(engine: Engine, market: Market) -> tuple[float, int]:
    with stopwatch() as elapsed:
        written = write_market(engine, market, reset=True)
    return elapsed(), sum(written.values())


def _baseline(engine: Engine, events: pd.DataFrame) -> tuple[float, float]:
    """Seconds to write ``events`` one ORM object at a time, then in bulk (same rows)."""
    rows = events.assign(event_id=events["event_id"] + "-orm")
    records = rows.to_dict("records")
    for record in records:
        for key, value in record.items():
            if value is pd.NA or (isinstance(value, float) and value != value):
                record[key] = None
            elif isinstance(value, pd.Timestamp):
                record[key] = value.to_pydatetime()
    with stopwatch() as orm_elapsed, Session(engine) as session, session.begin():
        for record in records:
            session.add(Event(**record))
            session.flush()
    bulk_rows = events.assign(event_id=events["event_id"] + "-bulk")
    with stopwatch() as bulk_elapsed, engine.begin() as connection:
        insert_frame(connection, Base.metadata.tables["events"], bulk_rows)
    return orm_elapsed(), bulk_elapsed()


def _fresh_postgres(admin_url: str, name: str) -> str:
    admin = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(options: BenchOptions) -> list[Metric]:
    """Run the section; ``options.quick`` uses a market a tenth of the size."""
    config = MarketConfig(customers=500, products=200) if options.quick else MarketConfig()
    size = f"{config.customers} customers, {config.products} products, {config.days} days"
    with stopwatch() as elapsed:
        market = generate_market(config)
    generate_s = elapsed()
    n_events = len(market.events)
    metrics = [
        Metric(SECTION, "generate market", generate_s, "s", note=size),
        Metric(SECTION, "events generated", float(n_events), "rows"),
        Metric(SECTION, "orders generated", float(len(market.orders)), "rows"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            write_s, rows = _write_timed(engine, market)
            total = generate_s + write_s
            metrics += [
                Metric(SECTION, "write market to SQLite", write_s, "s", note=f"{rows:,} rows"),
                Metric(
                    SECTION, "SQLite write rate", rows / write_s, "rows/s", lower_is_better=False
                ),
                Metric(
                    SECTION,
                    "generate + write (SQLite)",
                    total,
                    "s",
                    target=None if options.quick else TARGET_TOTAL_SECONDS,
                ),
            ]
            sample = market.events.head(2_000 if options.quick else 20_000)
            orm_s, bulk_s = _baseline(engine, sample)
            metrics += [
                Metric(
                    SECTION,
                    f"ORM row-by-row write, {len(sample):,} events",
                    orm_s,
                    "s",
                    note="baseline: session.add + flush per row",
                ),
                Metric(SECTION, f"bulk write, same {len(sample):,} events", bulk_s, "s"),
                Metric(
                    SECTION,
                    "bulk speed-up over ORM row-by-row",
                    orm_s / bulk_s,
                    "x",
                    target=5.0,
                    lower_is_better=False,
                ),
            ]
        finally:
            engine.dispose()
    if options.postgres_url:
        name = "personalize_bench_seed"
        url = _fresh_postgres(options.postgres_url, name)
        engine = open_store(url)
        try:
            write_s, rows = _write_timed(engine, market)
            metrics += [
                Metric(SECTION, "write market to PostgreSQL", write_s, "s", note=f"{rows:,} rows"),
                Metric(
                    SECTION,
                    "PostgreSQL write rate",
                    rows / write_s,
                    "rows/s",
                    lower_is_better=False,
                ),
            ]
        finally:
            engine.dispose()
            _drop_postgres(options.postgres_url, name)
    metrics.append(Metric(SECTION, "peak RSS", peak_rss_mib(), "MiB"))
    return metrics

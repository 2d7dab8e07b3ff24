"""Benchmark section "profiles": batch scoring at scale, its ORM baseline, track() latency.

Figures (full size; ``--quick`` uses 10,000 customers and drops the targets):

* batch scoring (:func:`engine.profiles.score_store`, statistics by SQL ``GROUP BY``
  plus writing every profile and membership) of a 100,000-customer store with
  >= 5 million events on SQLite (target < 60 s), and on PostgreSQL when a URL is given;
* a same-run baseline: one customer at a time through the ORM (load their orders,
  lines, events, reviews as objects, count in Python, score) on 2,000 customers,
  extrapolated to the store; the speed-up of batch over it (target >= 50x);
* ``track()`` latency p50/p99 over 1,000 events, each in its own transaction
  including the profile update and commit (target p99 < 10 ms);
* peak memory of the scoring, this process plus the largest batch worker process
  (target < 2 GiB; the stores are built in child processes of their own);
* profile recovery on the default store (5,000 customers): each score's Spearman
  correlation with its planted latent propensity (target >= 0.8), and each segment's
  precision and recall against the planted traits (reported).

The stores are built by ``personalize seed`` in a child process (the engine
does not import the seed package), with ``--truth`` for recovery.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.harness import BenchOptions, Metric, peak_rss_mib, stopwatch
from engine.db import open_store, session_scope
from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Profile,
    Review,
)
from engine.profiles.profile import compute_profiles, latest_calibration
from engine.profiles.recovery import read_truth, recovery, score_recovery
from engine.profiles.score_run import score_store
from engine.profiles.scoring import Calibration, fit_calibration, score_columns
from engine.profiles.stats import (
    FREQUENCY_WINDOW,
    IMPULSE_WINDOW_SECONDS,
    activity_flags,
    compute_stats,
)
from engine.profiles.tracking import track
from engine.timeutil import resolve_as_of

SECTION = "profiles"
FULL_CUSTOMERS = 100_000
QUICK_CUSTOMERS = 10_000
BASELINE_CUSTOMERS = 2_000
TRACK_EVENTS = 1_000
RECOVERY_CUSTOMERS = 5_000


def _seed(url: str, customers: int, truth: Path | None = None) -> None:
    """Build a store with ``personalize seed`` in a child process (its memory is its own)."""
    command = [
        sys.executable,
        "-m",
        "dashboard.cli",
        "seed",
        "--customers",
        str(customers),
        "--products",
        "1000",
        "--days",
        "365",
        "--seed",
        "7",
        "--reset",
    ]
    if truth is not None:
        command += ["--truth", str(truth)]
    # The URL goes by environment, never argv: a password on a command line shows in `ps`.
    env = {**os.environ, "PERSONALIZE_DATABASE_URL": url}
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"seeding failed: {proc.stderr.strip().splitlines()[-1:]}")


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def _orm_profile(
    session: Any, customer_id: str, as_of: datetime, calibration: Calibration
) -> dict[str, Any]:
    """The baseline: one customer's scores through ORM objects and Python counting."""
    stats: dict[str, Any] = dict.fromkeys(
        [
            "orders",
            "orders_365",
            "lines",
            "disc_lines",
            "views",
            "searches",
            "activity",
            "weekend",
            "night",
            "mobile",
            "viewed_lines",
            "quick_lines",
        ],
        0,
    )
    stats["spend"] = 0.0
    orders = session.scalars(
        select(Order).where(Order.customer_id == customer_id, Order.ordered_at < as_of)
    ).all()
    brands: dict[str, int] = {}
    first_view: dict[str, datetime] = {}
    anonymous = session.scalars(
        select(IdentityLink.anonymous_id).where(IdentityLink.customer_id == customer_id)
    ).all()
    events = list(
        session.scalars(
            select(Event).where(Event.customer_id == customer_id, Event.occurred_at < as_of)
        )
    )
    if anonymous:
        events += session.scalars(
            select(Event).where(
                Event.customer_id.is_(None),
                Event.anonymous_id.in_(anonymous),
                Event.occurred_at < as_of,
            )
        ).all()
    for event in events:
        if event.event_type == "product_view" and event.product_id:
            stats["views"] += 1
            seen = first_view.get(event.product_id)
            first_view[event.product_id] = (
                min(seen, event.occurred_at) if seen else event.occurred_at
            )
        elif event.event_type == "search":
            stats["searches"] += 1
        if event.event_type != "purchase":
            stats["activity"] += 1
            for name, flag in activity_flags(
                event.occurred_at, event.channel, event.device
            ).items():
                stats[name] += flag
    for order in orders:
        stats["orders"] += 1
        stats["activity"] += 1
        stats["orders_365"] += int(order.ordered_at >= as_of - FREQUENCY_WINDOW)
        for name, flag in activity_flags(order.ordered_at, order.channel, order.device).items():
            stats[name] += flag
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.order_id))
        for line in lines:
            product = session.get(Product, line.product_id)
            stats["lines"] += 1
            stats["spend"] += line.quantity * line.unit_price
            if line.discount > 0 or (
                product.list_price is not None and line.unit_price < product.list_price
            ):
                stats["disc_lines"] += 1
            if product.brand:
                brands[product.brand] = brands.get(product.brand, 0) + 1
            seen = first_view.get(line.product_id)
            if seen is not None and seen <= order.ordered_at:
                stats["viewed_lines"] += 1
                gap = (order.ordered_at - seen).total_seconds()
                stats["quick_lines"] += int(gap <= IMPULSE_WINDOW_SECONDS)
    counts = sorted(brands.values(), reverse=True)
    stats["branded_lines"], stats["top2_lines"] = sum(counts), sum(counts[:2])
    reviews = session.scalars(
        select(Review).where(Review.customer_id == customer_id, Review.reviewed_at < as_of)
    ).all()
    stats["reviews"] = len(reviews)
    scores = score_columns(stats, calibration)
    session.merge(
        Profile(
            customer_id=customer_id,
            as_of=as_of,
            computed_at=as_of,
            emotional_state="unknown",
            **{k: float(v) for k, v in scores.items()},
        )
    )
    return stats


def _baseline_seconds(engine: Engine, n: int) -> float:
    with session_scope(engine) as session:
        as_of = resolve_as_of(session, None)
        latest = latest_calibration(session)
        calibration = Calibration.from_dict(latest.reference if latest else None)
        ids = session.scalars(
            select(Customer.customer_id).order_by(Customer.customer_id).limit(n)
        ).all()
    connection = engine.connect()
    transaction = connection.begin()
    from sqlalchemy.orm import Session

    try:
        with Session(bind=connection) as session, stopwatch() as elapsed:
            for customer_id in ids:
                _orm_profile(session, customer_id, as_of, calibration)
                session.flush()
            seconds = elapsed()
    finally:
        transaction.rollback()  # the baseline must not replace the batch's rows
        connection.close()
    return seconds


def _track_latencies(engine: Engine, n: int, rng: np.random.Generator) -> np.ndarray:
    with session_scope(engine) as session:
        as_of = resolve_as_of(session, None)
        customers = session.scalars(select(Customer.customer_id)).all()
        products = session.scalars(select(Product.product_id)).all()
    kinds = rng.choice(
        ["product_view", "search", "cart_add", "purchase", "review"],
        size=n,
        p=[0.55, 0.15, 0.1, 0.12, 0.08],
    )
    who = rng.choice(len(customers), size=n)
    what = rng.choice(len(products), size=n)
    latencies = np.empty(n)
    run = int(rng.integers(1 << 30))  # distinct event ids per run (ids are idempotent)
    for i in range(n):
        event = {
            "event_id": f"bench-{run}-{i}",
            "event_type": str(kinds[i]),
            "customer_id": customers[who[i]],
            "product_id": products[what[i]],
            "occurred_at": (as_of + timedelta(seconds=i)).isoformat(),
            "channel": "ios" if i % 3 == 0 else "web",
            "query": "sale",
            "rating": int(rng.integers(1, 6)),
        }
        if event["event_type"] == "search":
            event.pop("product_id")
        start = time.perf_counter()
        with session_scope(engine) as session:
            track(session, event)
        latencies[i] = time.perf_counter() - start
    return latencies


def _postgres_db(admin_url: str, name: str, drop_only: bool = False) -> str:
    admin = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def run(options: BenchOptions) -> list[Metric]:
    """Run the section (see the module docstring)."""
    n = QUICK_CUSTOMERS if options.quick else FULL_CUSTOMERS
    full = not options.quick
    metrics: list[Metric] = []
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with stopwatch() as elapsed:
            _seed(url, n)
        engine = open_store(url)
        events = _count(engine, Event)
        metrics += [
            Metric(
                SECTION,
                "store: customers",
                float(_count(engine, Customer)),
                "rows",
                note=f"seeded in {elapsed():.0f} s (child process)",
            ),
            Metric(
                SECTION,
                "store: events",
                float(events),
                "rows",
                target=5_000_000 if full else None,
                lower_is_better=False,
            ),
        ]
        with stopwatch() as elapsed, session_scope(engine) as session:
            report = score_store(session)
        batch_s = elapsed()
        metrics.append(
            Metric(
                SECTION,
                "batch score (SQLite)",
                batch_s,
                "s",
                target=60.0 if full else None,
                note=f"{report.customers:,} profiles, {report.memberships:,} memberships written",
            )
        )
        baseline_s = _baseline_seconds(engine, BASELINE_CUSTOMERS)
        per_customer = baseline_s / BASELINE_CUSTOMERS
        extrapolated = per_customer * report.customers
        metrics += [
            Metric(
                SECTION,
                f"ORM loop, {BASELINE_CUSTOMERS:,} customers",
                baseline_s,
                "s",
                note=f"baseline: {per_customer * 1000:.1f} ms/customer, "
                f"{extrapolated:.0f} s extrapolated to the store",
            ),
            Metric(
                SECTION,
                "batch speed-up over ORM loop",
                extrapolated / batch_s,
                "x",
                target=50.0 if full else None,
                lower_is_better=False,
            ),
        ]
        latencies = _track_latencies(engine, TRACK_EVENTS, rng) * 1000.0
        metrics += [
            Metric(SECTION, "track() latency p50", float(np.percentile(latencies, 50)), "ms"),
            Metric(
                SECTION,
                "track() latency p99",
                float(np.percentile(latencies, 99)),
                "ms",
                target=10.0,
                note=f"{TRACK_EVENTS:,} events, one transaction each",
            ),
        ]
        engine.dispose()

        if options.postgres_url:
            name = "personalize_bench_profiles"
            pg_url = _postgres_db(options.postgres_url, name)
            try:
                _seed(pg_url, n)
                pg = open_store(pg_url)
                with stopwatch() as elapsed, session_scope(pg) as session:
                    score_store(session)
                metrics.append(
                    Metric(
                        SECTION,
                        "batch score (PostgreSQL)",
                        elapsed(),
                        "s",
                        note=f"{_count(pg, Event):,} events",
                    )
                )
                pg.dispose()
            finally:
                _postgres_db(options.postgres_url, name, drop_only=True)

        from engine.profiles import stats_parallel as stats_module

        main_mib, worker_mib = peak_rss_mib(), stats_module.worker_peak_mib
        metrics.append(
            Metric(
                SECTION,
                "peak memory (scoring, all processes)",
                main_mib + worker_mib,
                "MiB",
                target=2048.0,
                note=f"this process {main_mib:.0f} MiB + largest batch worker {worker_mib:.0f} MiB",
            )
        )

        truth_path = Path(tmp) / "truth.csv"
        small = f"sqlite:///{Path(tmp) / 'default.db'}"
        _seed(small, RECOVERY_CUSTOMERS, truth_path)
        engine = open_store(small)
        with session_scope(engine) as session:
            profiles = compute_profiles(session)
        engine.dispose()
        truth = read_truth(truth_path)
        for score, row in score_recovery(truth, profiles).iterrows():
            metrics.append(
                Metric(
                    SECTION,
                    f"recovery {score} Spearman",
                    float(row["spearman"]),
                    "rho",
                    target=0.8,
                    lower_is_better=False,
                    note=f"{int(row['customers'])} customers with the score, "
                    f"{row['given_share']:.0%} of buyers",
                )
            )
        # Segments on overlapping scores cannot coincide with planted traits: reported only.
        for segment, row in recovery(truth, profiles).iterrows():
            for measure in ("precision", "recall"):
                metrics.append(
                    Metric(
                        SECTION,
                        f"recovery {segment} {measure}",
                        float(row[measure]),
                        "ratio",
                        note=f"planted {int(row['planted'])}, found {int(row['found'])}",
                    )
                )
    return metrics


def stats_only(url: str) -> float:  # pragma: no cover - a helper for profiling by hand
    """Seconds to compute the statistics alone on the store at ``url``."""
    engine = open_store(url)
    with stopwatch() as elapsed, session_scope(engine) as session:
        fit_calibration(compute_stats(session, as_of=resolve_as_of(session, None)))
    engine.dispose()
    return elapsed()

"""Benchmark section "writers": tracked events per second with 1, 2 and 4 concurrent
writer processes, on SQLite and (when a server is given) PostgreSQL.

Each writer is a :mod:`benchmarks.track_worker` process recording events one
transaction each, over 50 customers (10 of them new) of a small seeded store. The
baseline, measured in the same run on the same store: one writer with a plain
session (no write lock, no retry), which is all a lone writer needs. The target:
the safe path keeps at least half of that throughput, alone and in total with 2 and
4 writers (writers of one store take turns at the lock, so more writers do not mean
more throughput; they must not mean much less).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from benchmarks.harness import BenchOptions, Metric
from engine.db import open_store, session_scope
from engine.models import Product, Profile
from engine.timeutil import resolve_as_of

SECTION = "writers"
KINDS = ("product_view", "product_view", "search", "cart_add", "wishlist_add", "purchase")
ROOT = Path(__file__).resolve().parents[1]
WRITERS = (1, 2, 4)
ROUNDS = 2


def event_files(
    url: str,
    directory: Path,
    *,
    workers: int,
    each: int,
    customers: int = 50,
    new: int = 10,
    prefix: str = "w",
    seed: int = 11,
) -> tuple[list[Path], list[str]]:
    """``workers`` files of ``each`` events over ``customers`` customers (``new`` of them
    not yet in the store), stamped after the store's newest data and interleaved in time
    across the files; event ids ``<prefix><worker>-<i>``. Returns the files and the
    customers."""
    engine = open_store(url)
    with session_scope(engine) as session:
        start = resolve_as_of(session, None)
        products = sorted(session.scalars(select(Product.product_id)))
        known = sorted(session.scalars(select(Profile.customer_id)))
    engine.dispose()
    rng = random.Random(seed)
    chosen = rng.sample(known, customers - new) + [f"{prefix}new-{i}" for i in range(new)]
    files = []
    for worker in range(workers):
        path = directory / f"{prefix}events-{worker}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for i in range(each):
                kind = rng.choice(KINDS)
                event = {
                    "event_id": f"{prefix}{worker}-{i}",
                    "event_type": kind,
                    "customer_id": rng.choice(chosen),
                    "channel": "web",
                    "occurred_at": (start + timedelta(seconds=workers * i + worker)).isoformat(),
                    "device": rng.choice(["desktop", "mobile"]),
                }
                if kind == "search":
                    event["query"] = "rain jacket"
                else:
                    event["product_id"] = rng.choice(products)
                out.write(json.dumps(event) + "\n")
        files.append(path)
    return files, chosen


def start_writers(
    url: str, files: list[Path], *, at: float = 0.0, plain: bool = False, batch: int = 0
) -> list[subprocess.Popen[str]]:
    """One :mod:`benchmarks.track_worker` process per file, all starting at ``at``
    (``batch``: that many events per transaction, through ``track_many``)."""
    extra = (["--plain"] if plain else []) + (["--batch", str(batch)] if batch else [])
    return [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.track_worker", url, str(path), str(at), *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]


def _throughput(
    url: str, directory: Path, writers: int, each: int, plain: bool, round_: int
) -> float:
    files, _ = event_files(
        url,
        directory,
        workers=writers,
        each=each,
        prefix=f"{'p' if plain else 's'}{writers}r{round_}-",
    )
    runs = start_writers(url, files, at=time.time() + 3.0, plain=plain)
    spans = []
    for run in runs:
        out, err = run.communicate(timeout=900)
        if run.returncode != 0:
            raise RuntimeError(f"a writer failed: {err.strip()[-500:]}")
        spans.append(json.loads(out))
    elapsed = max(s["ended"] for s in spans) - min(s["began"] for s in spans)
    return sum(s["events"] for s in spans) / elapsed


def _seeded(url: str) -> None:
    from engine.profiles import score_store
    from seed.market import MarketConfig, generate_market
    from seed.writer import write_market

    engine = open_store(url)
    try:
        write_market(
            engine, generate_market(MarketConfig(customers=300, products=80, days=60, seed=5))
        )
        with session_scope(engine) as session:
            score_store(session)
    finally:
        engine.dispose()


def _backend(label: str, url: str, directory: Path, each: int) -> list[Metric]:
    _seeded(url)
    # best of ROUNDS, the rounds of every configuration interleaved: on a shared machine
    # the best round is the one least disturbed, and the store grows evenly for all
    best: dict[tuple[int, bool], float] = {}
    for round_ in range(ROUNDS):
        for writers, plain in ((1, True), *((w, False) for w in WRITERS)):
            rate = _throughput(url, directory, writers, each, plain, round_)
            best[writers, plain] = max(best.get((writers, plain), 0.0), rate)
    baseline = best[1, True]
    metrics = [
        Metric(
            SECTION,
            f"{label}: 1 writer, plain session (baseline)",
            baseline,
            "ev/s",
            lower_is_better=False,
            note=f"{each} events, best of {ROUNDS}",
        )
    ]
    for writers in WRITERS:
        rate = best[writers, False]
        metrics.append(
            Metric(
                SECTION,
                f"{label}: {writers} writer{'s' if writers > 1 else ''}, safe",
                rate,
                "ev/s",
                target=0.5 * baseline,
                lower_is_better=False,
                note=f"{rate / baseline:.2f}x the baseline; {writers} x {each} events, "
                f"best of {ROUNDS}",
            )
        )
    return metrics


def run(options: BenchOptions) -> list[Metric]:
    """Run the section (see the module docstring)."""
    each = 100 if options.quick else 300
    metrics: list[Metric] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        metrics += _backend("sqlite", f"sqlite:///{directory / 'writers.db'}", directory, each)
        if options.postgres_url:
            name = f"bench_writers_{uuid.uuid4().hex[:8]}"
            admin_url = make_url(options.postgres_url).set(drivername="postgresql+psycopg")
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                metrics += _backend("postgresql", url, directory, each)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
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

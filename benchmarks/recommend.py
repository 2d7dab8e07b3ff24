"""Benchmark section for recommendations (``personalize bench``, spec
``benchmarks.recommend:run``).

Figures (targets from the issue):

* fitting every recommender (the blend) on the default seeded store, 5,000
  customers [< 10 s], with a popularity fit in the same run as the baseline;
* one ``recommend()`` with context on a store of 100,000 customers and 5,000
  products, p50 and p95 [p95 < 50 ms];
* ``recommend --all`` (``BlendRecommender.recommend_all``) for 10,000 customers [< 60 s];
* ``recommend --all`` as the command runs it (load the store, fit the blend, rank every
  active customer) against EASE fitting and ranking the same customers in the same run,
  as a ratio [<= 5x], on the default seeded store.

The large store is synthesised here with numpy (Zipf-popular products, repeat
purchases, events, tags, weather and devices) because generating a 100,000
customer persona market would take longer than everything it measures.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import BenchOptions, Metric, peak_rss_mib, stopwatch
from engine.db import open_store, session_scope
from engine.recommend.base import StoreData, top_k
from engine.recommend.blend import BlendRecommender
from engine.recommend.context import DEVICES, TIMES_OF_DAY, WEATHERS, Context
from engine.recommend.ease import EASERecommender
from engine.recommend.popularity import PopularityRecommender

SECTION = "recommend"
TAGS = ("rain", "cold", "hot", "sunny", "snow", "morning", "evening", "night")
CITIES = ("Seattle", "Portland", "Austin", "Boston", "Denver", "Miami", "Chicago", "Phoenix")


def synthetic_store(
    customers: int,
    products: int,
    *,
    lines_per_customer: float = 12.0,
    events_per_customer: float = 20.0,
    days: int = 365,
    seed: int = 0,
) -> StoreData:
    """A random store of the given size (vectorised; a few seconds for 100k customers)."""
    rng = np.random.default_rng(seed)
    end = datetime(2026, 1, 1)
    pid = np.array([f"P{i:06d}" for i in range(products)], dtype=object)
    cid = np.array([f"C{i:07d}" for i in range(customers)], dtype=object)
    cat = rng.integers(0, 40, products)
    tag_pick = rng.integers(-len(TAGS), len(TAGS), products)
    prods = pd.DataFrame(
        {
            "product_id": pid,
            "name": [f"Item {i} of kind {c}" for i, c in enumerate(cat)],
            "category": np.char.add("Cat", cat.astype(str)).astype(object),
            "brand": np.char.add("Brand", rng.integers(0, 300, products).astype(str)).astype(
                object
            ),
            "price": np.round(rng.lognormal(3, 1, products), 2),
            "tags": pd.Series(np.array(TAGS, dtype=object)[np.maximum(tag_pick, 0)]).where(
                tag_pick >= 0, None
            ),
            "in_stock": rng.random(products) > 0.03,
        }
    )
    custs = pd.DataFrame(
        {
            "customer_id": cid,
            "city": np.array(CITIES, dtype=object)[rng.integers(0, len(CITIES), customers)],
        }
    )
    popularity = 1.0 / np.arange(1, products + 1) ** 0.9
    popularity = rng.permutation(popularity / popularity.sum())
    n_lines = int(customers * lines_per_customer)
    who = rng.integers(0, customers, n_lines)
    # Half the lines repeat one of the customer's own "staples" (grocery-like rebuys).
    staple = (who * 7919 + rng.integers(0, 5, n_lines)) % products
    what = np.where(rng.random(n_lines) < 0.5, staple, rng.choice(products, n_lines, p=popularity))
    when = end - pd.to_timedelta(rng.random(n_lines) * days, unit="D")
    lines = pd.DataFrame(
        {
            "order_id": np.char.add("O", np.arange(n_lines).astype(str)).astype(object),
            "line_no": 0,
            "customer_id": cid[who],
            "product_id": pid[what],
            "ordered_at": when,
            "quantity": 1.0,
            "unit_price": prods["price"].to_numpy()[what],
            "discount": 0.0,
            "weather": np.array(WEATHERS, dtype=object)[rng.integers(0, len(WEATHERS), n_lines)],
            "device": np.array(DEVICES, dtype=object)[rng.integers(0, len(DEVICES), n_lines)],
            "location": custs["city"].to_numpy()[who],
        }
    )
    n_events = int(customers * events_per_customer)
    ev_who = rng.integers(0, customers, n_events)
    events = pd.DataFrame(
        {
            "id": np.arange(n_events),
            "customer_id": cid[ev_who],
            "event_type": np.array(["product_view", "cart_add", "wishlist_add"], dtype=object)[
                rng.choice(3, n_events, p=[0.8, 0.15, 0.05])
            ],
            "product_id": pid[rng.choice(products, n_events, p=popularity)],
            "occurred_at": end - pd.to_timedelta(rng.random(n_events) * days, unit="D"),
        }
    )
    return StoreData.from_frames(
        as_of=end + timedelta(seconds=1),
        products=prods,
        order_lines=lines,
        events=events,
        customers=custs,
    )


def _seeded_default_store(customers: int, directory: Path) -> tuple[StoreData, float]:
    """The default seeded store, built by ``personalize seed`` in a child process (the
    engine does not import the seed package), then loaded; returns the load seconds."""
    url = f"sqlite:///{directory / 'store.db'}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "seed",
            "--db",
            url,
            "--customers",
            str(customers),
            "--products",
            "1000",
            "--days",
            "365",
            "--seed",
            "7",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"seeding failed: {proc.stderr.strip().splitlines()[-1:]}")
    engine = open_store(url)
    try:
        with stopwatch() as elapsed, session_scope(engine) as session:
            data = StoreData.load(session)
        return data, elapsed()
    finally:
        engine.dispose()


def _ease_fit_and_rank(data: StoreData, k: int = 20, batch_size: int = 512) -> float:
    """Seconds for EASE (the evaluation's default settings) to fit and rank every active
    customer's top ``k``: the yardstick of ``recommend --all``."""
    rows = np.flatnonzero(data.activity > 0)
    with stopwatch() as elapsed:
        ease = EASERecommender().fit(data)
        for start in range(0, len(rows), batch_size):
            top_k(ease.score_rows(rows[start : start + batch_size]), k)
    return elapsed()


def _recommend_all(url: str, k: int = 20) -> tuple[float, int]:
    """Seconds for what ``recommend --all`` does: load, fit the blend, rank everyone."""
    engine = open_store(url)
    try:
        with stopwatch() as elapsed:
            with session_scope(engine) as session:
                data = StoreData.load(session)
            blend = BlendRecommender()
            blend.fit(data)
            frame = blend.recommend_all(k=k)
        return elapsed(), len(frame)
    finally:
        engine.dispose()


def _warm(data: StoreData) -> None:
    """Build the shared matrices (done once per StoreData, before any fit)."""
    _ = data.interactions, data.purchase_counts, data.activity, data.customer_places


def run(options: BenchOptions) -> list[Metric]:
    """The section: fit time, request latency, batch export time."""
    quick = options.quick
    metrics: list[Metric] = []

    default_n = 1000 if quick else 5000
    with tempfile.TemporaryDirectory() as tmp:
        data, load_s = _seeded_default_store(default_n, Path(tmp))
        ease_s = _ease_fit_and_rank(data)
        all_s, n_rows = _recommend_all(f"sqlite:///{Path(tmp) / 'store.db'}")
    metrics.append(Metric(SECTION, f"EASE fit + rank all ({default_n:,} customers)", ease_s, "s"))
    metrics.append(
        Metric(
            SECTION,
            f"recommend --all: load, fit, rank ({default_n:,})",
            all_s,
            "s",
            note=f"{n_rows:,} rows",
        )
    )
    metrics.append(
        Metric(
            SECTION,
            "recommend --all / EASE fit + rank",
            all_s / ease_s,
            "x",
            target=5.0,
            note="same store, same run",
        )
    )
    metrics.append(
        Metric(SECTION, f"load frames from SQLite ({default_n:,} customers)", load_s, "s")
    )
    with stopwatch() as elapsed:
        _warm(data)
    metrics.append(
        Metric(SECTION, f"build shared matrices ({default_n:,} customers)", elapsed(), "s")
    )
    with stopwatch() as elapsed:
        PopularityRecommender().fit(data)
    baseline = elapsed()
    with stopwatch() as elapsed:
        BlendRecommender().fit(data)
    fit_s = elapsed()
    metrics.append(
        Metric(
            SECTION,
            f"fit all recommenders ({default_n:,} customers)",
            fit_s,
            "s",
            target=10.0,
            note=f"popularity alone {baseline:.3f} s",
        )
    )

    big_customers, big_products = (20_000, 2_000) if quick else (100_000, 5_000)
    big = synthetic_store(big_customers, big_products)
    _warm(big)
    blend = BlendRecommender()
    with stopwatch() as elapsed:
        blend.fit(big)
    metrics.append(
        Metric(SECTION, f"fit all ({big_customers:,} x {big_products:,})", elapsed(), "s")
    )
    rng = np.random.default_rng(1)
    ids = big.customer_ids[rng.integers(0, big.n_customers, 200)]
    latencies = []
    pop = PopularityRecommender().fit(big)
    pop_lat = []
    for i, cid in enumerate(ids):
        ctx = Context(
            weather=WEATHERS[i % len(WEATHERS)],
            time_of_day=TIMES_OF_DAY[i % len(TIMES_OF_DAY)],
            location=CITIES[i % len(CITIES)],
            device=DEVICES[i % len(DEVICES)],
        )
        with stopwatch() as elapsed:
            blend.recommend(str(cid), ctx, k=20)
        latencies.append(elapsed() * 1000)
        with stopwatch() as elapsed:
            pop.recommend(str(cid), ctx, k=20)
        pop_lat.append(elapsed() * 1000)
    p50, p95 = np.percentile(latencies, [50, 95])
    metrics.append(
        Metric(
            SECTION,
            "recommend() with context p50",
            float(p50),
            "ms",
            note=f"{big_customers:,} customers, {big_products:,} products",
        )
    )
    metrics.append(
        Metric(
            SECTION,
            "recommend() with context p95",
            float(p95),
            "ms",
            target=50.0,
            note=f"popularity p95 {np.percentile(pop_lat, 95):.2f} ms",
        )
    )

    n_all = 2_000 if quick else 10_000
    with stopwatch() as elapsed:
        frame = blend.recommend_all(big.customer_ids[:n_all], k=20)
    metrics.append(
        Metric(
            SECTION,
            f"recommend --all ({n_all:,} customers, k=20)",
            elapsed(),
            "s",
            target=60.0,
            note=f"{len(frame):,} rows",
        )
    )
    metrics.append(Metric(SECTION, "peak memory", peak_rss_mib(), "MiB"))
    return metrics

"""Benchmark section "serve": the storefront API (``personalize serve``) driven over
loopback with a bounded load, against the same calls made in-process.

On the default seeded store (``personalize seed`` then ``score``; ``--quick``: 1,000
customers), with one ``admin`` key, the service is started on a free loopback port
with its models fitted before it answers, and measured with ``CLIENTS`` concurrent
clients (:mod:`benchmarks.load`):

* ``GET /customers/{id}/recommendations`` in a random context (weather, time of day,
  device; k = 10) at a steady 50 requests/s, p50 and p95 from when each request was
  due [p95 < 50 ms];
* ``POST /events`` in batches of 100, back to back [>= 1,000 events/s];
* ``POST /events`` one event at a time, back to back [>= 200 events/s].

The baselines, measured in the same run on the same store: the engine calls behind
each route made in this process (fit the served models, ``parse_context`` and the
blend's ``recommend``; ``track`` in one ``run_write`` transaction per batch or per
event), so the figures show what HTTP, auth and the service add. The two modes take
turns in ``ROUNDS`` rounds, each a slice of every workload, so that both meet the same
load of this shared machine.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from benchmarks.harness import BenchOptions, Metric, stop_server, stopwatch
from engine.db import open_store, run_write, session_scope
from engine.models import Profile
from engine.recommend.context import TIMES_OF_DAY, parse_context
from engine.vocabulary import DEVICES, WEATHERS

if TYPE_CHECKING:
    from engine.api.service import FittedModels

from . import load
from .writers import event_files

SECTION = "serve"
ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 4
RATE = 50.0
BATCH = 100
K = 10
READY_TIMEOUT_S = 900.0
ROUNDS = 4


@dataclass(frozen=True)
class Sizes:
    """How much load (fixed counts: the run is bounded)."""

    customers: int | None  # None: the default market
    recommendations: int
    batches: int
    singles: int

    @classmethod
    def of(cls, options: BenchOptions) -> Sizes:
        if options.quick:
            return cls(customers=1000, recommendations=200, batches=4, singles=200)
        return cls(customers=None, recommendations=1000, batches=20, singles=1000)


def _cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args, "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"personalize {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _store(directory: Path, sizes: Sizes) -> str:
    """A seeded, scored store, as an operator would prepare one; its URL."""
    url = f"sqlite:///{directory / 'store.db'}"
    size = [] if sizes.customers is None else ["--customers", str(sizes.customers)]
    _cli(url, "seed", *size)
    _cli(url, "score")
    return url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _served(url: str, log_path: Path) -> Iterator[tuple[str, float]]:
    """``personalize serve`` on a free loopback port, once its models are fitted:
    (base URL, seconds from launch to ready)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dashboard.cli",
                "serve",
                "--db",
                url,
                "--port",
                str(port),
                "--fit",
                "blocking",
                "--refit-every",
                "0",
            ],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            with stopwatch() as elapsed:
                _wait_ready(base, server, log_path)
            yield base, elapsed()
        finally:
            stop_server(server)


def _wait_ready(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(encoding="utf-8").strip()[-500:]
            raise RuntimeError(f"personalize serve exited ({server.returncode}): {tail}")
        try:
            if httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok":
                return
        except httpx.HTTPError:
            pass  # not listening yet: fitting before it answers
        time.sleep(0.5)
    raise RuntimeError(f"personalize serve was not ready within {READY_TIMEOUT_S:.0f} s")


@dataclass(frozen=True)
class Workload:
    """The requests of one mode (HTTP or in-process), drawn once for both: the same
    recommendation asks, and alternate events of one stream (distinct ids, same mix)."""

    asks: list[tuple[str, dict[str, str]]]  # (customer, context) per recommendation
    batches: list[list[dict[str, Any]]]
    singles: list[dict[str, Any]]

    @classmethod
    def draw(cls, url: str, directory: Path, sizes: Sizes) -> tuple[Workload, Workload]:
        """(over HTTP, in-process)."""
        engine = open_store(url)
        with session_scope(engine) as session:
            customers = sorted(session.scalars(select(Profile.customer_id)))
        engine.dispose()
        rng = random.Random(SECTION)
        asks = [
            (
                rng.choice(customers),
                {
                    "weather": rng.choice(WEATHERS),
                    "time_of_day": rng.choice(TIMES_OF_DAY),
                    "device": rng.choice(DEVICES),
                },
            )
            for _ in range(sizes.recommendations)
        ]
        each = sizes.batches * BATCH + sizes.singles
        files, _ = event_files(
            url, directory, workers=2, each=each, customers=500, new=50, prefix="serve-"
        )
        modes = []
        for path in files:
            with path.open(encoding="utf-8") as lines:
                events = [json.loads(line) for line in lines]
            batched = events[: sizes.batches * BATCH]
            modes.append(
                cls(
                    asks,
                    [batched[i : i + BATCH] for i in range(0, len(batched), BATCH)],
                    events[sizes.batches * BATCH :],
                )
            )
        return modes[0], modes[1]

    def round(self, index: int) -> Workload:
        """The ``index``-th of :data:`ROUNDS` slices."""

        def part(items: list[Any]) -> list[Any]:
            return items[index::ROUNDS]

        return Workload(part(self.asks), part(self.batches), part(self.singles))


@dataclass
class Tally:
    """What one mode measured over the rounds."""

    recs: list[float] = field(default_factory=list)
    recs_wall: float = 0.0
    batched_events: int = 0
    batched_s: float = 0.0
    single_events: int = 0
    single_s: float = 0.0

    @property
    def run(self) -> load.Run:
        return load.Run(self.recs, self.recs_wall)


def _http_round(base: str, token: str, work: Workload, tally: Tally) -> None:
    asks: list[load.Request] = [
        ("GET", f"/customers/{customer}/recommendations", {"params": {**context, "k": K}})
        for customer, context in work.asks
    ]
    recs = load.steady(base, token, asks, rate=RATE, clients=CLIENTS)
    tally.recs += recs.seconds
    tally.recs_wall += recs.wall
    batched = load.flat_out(
        base, token, [("POST", "/events", {"json": b}) for b in work.batches], clients=CLIENTS
    )
    tally.batched_events += sum(len(b) for b in work.batches)
    tally.batched_s += batched.wall
    single = load.flat_out(
        base, token, [("POST", "/events", {"json": e}) for e in work.singles], clients=CLIENTS
    )
    tally.single_events += len(work.singles)
    tally.single_s += single.wall


def _recorder(events: list[dict[str, Any]]) -> Callable[[Session], None]:
    from engine.profiles import track

    def record(session: Session) -> None:
        for event in events:
            track(session, event)

    return record


def _local_round(engine: Engine, fitted: FittedModels, work: Workload, tally: Tally) -> None:
    for customer, context in work.asks:
        with stopwatch() as elapsed:
            chosen = parse_context(**context, location=None, known_locations=fitted.known_locations)
            fitted.blend.recommend(customer, chosen, k=K, allow_unknown=True)
        tally.recs.append(elapsed())
        tally.recs_wall += elapsed()
    with stopwatch() as batched:
        for batch in work.batches:
            run_write(engine, _recorder(batch))
    tally.batched_events += sum(len(b) for b in work.batches)
    tally.batched_s += batched()
    with stopwatch() as single:
        for event in work.singles:
            run_write(engine, _recorder([event]))
    tally.single_events += len(work.singles)
    tally.single_s += single()


def run(options: BenchOptions) -> list[Metric]:
    """Run the section (see the module docstring)."""
    from engine.api.service import fit_models

    sizes = Sizes.of(options)
    http, local = Tally(), Tally()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = _store(directory, sizes)
        token = json.loads(
            _cli(url, "apikey", "create", "--scope", "admin", "--name", "bench", "--json")
        )["key"]
        served_work, local_work = Workload.draw(url, directory, sizes)
        with _served(url, directory / "serve.log") as (base, ready_s):
            engine = open_store(url)
            try:
                with stopwatch() as fit_elapsed:
                    fitted = fit_models(engine)
                # rounds alternate the modes, so both see the same (shared, noisy) machine
                for index in range(ROUNDS):
                    _http_round(base, token, served_work.round(index), http)
                    _local_round(engine, fitted, local_work.round(index), local)
            finally:
                engine.dispose()
    return _metrics(sizes, ready_s, fit_elapsed(), http, local)


def _metrics(sizes: Sizes, ready_s: float, fit_s: float, http: Tally, local: Tally) -> list[Metric]:
    store = "default store" if sizes.customers is None else f"{sizes.customers:,} customers"
    recs, base = http.run, local.run
    load_note = (
        f"{len(recs.seconds)} requests at {RATE:g}/s over {CLIENTS} clients "
        f"(achieved {len(recs.seconds) / recs.wall:.1f}/s), from when each was due; "
        f"{store}"
    )
    rates = {
        name: (t.batched_events / t.batched_s, t.single_events / t.single_s)
        for name, t in (("http", http), ("local", local))
    }
    ms = 1000.0
    rounds = f"{ROUNDS} rounds alternating with the in-process calls"
    return [
        Metric(
            SECTION,
            "serve: start to ready (models fitted)",
            ready_s,
            "s",
            note=f"in-process fit {fit_s:.1f} s in the same run",
        ),
        Metric(
            SECTION, "recommendations over HTTP p50", recs.percentile(50) * ms, "ms", note=load_note
        ),
        Metric(
            SECTION,
            "recommendations over HTTP p95",
            recs.percentile(95) * ms,
            "ms",
            target=50.0,
            note=f"in-process p95 {base.percentile(95) * ms:.1f} ms; {rounds}",
        ),
        Metric(
            SECTION,
            "recommendations in-process p50 (baseline)",
            base.percentile(50) * ms,
            "ms",
            note="parse_context + BlendRecommender.recommend, same requests",
        ),
        Metric(
            SECTION, "recommendations in-process p95 (baseline)", base.percentile(95) * ms, "ms"
        ),
        Metric(
            SECTION,
            f"events over HTTP, batches of {BATCH}",
            rates["http"][0],
            "ev/s",
            target=1000.0,
            lower_is_better=False,
            note=f"{sizes.batches} batches over {CLIENTS} clients; in-process "
            f"{rates['local'][0]:.0f} ev/s",
        ),
        Metric(
            SECTION,
            f"events in-process, batches of {BATCH} (baseline)",
            rates["local"][0],
            "ev/s",
            lower_is_better=False,
            note="track() in one run_write per batch",
        ),
        Metric(
            SECTION,
            "events over HTTP, one at a time",
            rates["http"][1],
            "ev/s",
            target=200.0,
            lower_is_better=False,
            note=f"{sizes.singles} requests over {CLIENTS} clients; in-process "
            f"{rates['local'][1]:.0f} ev/s",
        ),
        Metric(
            SECTION,
            "events in-process, one at a time (baseline)",
            rates["local"][1],
            "ev/s",
            lower_is_better=False,
            note="track() in one run_write per event",
        ),
    ]

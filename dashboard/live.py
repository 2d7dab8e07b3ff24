"""A live run: the simulated market (:mod:`seed.live`) written through ``track()`` as it
happens, at a chosen speed, with one followed customer watched as their events arrive.

:class:`LiveRun` owns one background thread (or runs in the caller's, for the CLI).
Each event is its own :func:`engine.db.run_write` transaction, exactly as a storefront
tracks one, so stopping at any moment (a button, Ctrl-C, the minutes elapsed, the
browser session gone) leaves the store consistent: every event recorded is recorded
whole, with its profile, statistics and segments, and the next batch ``score`` agrees.

Speed is *simulated seconds per real second*: at 3600 an hour of the market passes
every second. The simulated clock never runs past the wall clock (a store whose
history ends today continues in real time), and when ``track()`` cannot keep up the
run falls behind rather than skipping events (:attr:`LiveState.behind_s`).
No Streamlit here: the page (:mod:`pages.live`) and ``personalize simulate`` share it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from dashboard.live_follow import Look, Recommendations, changes, look
from engine.db import run_write, session_scope
from engine.errors import UserError, ValidationError
from engine.models import Customer, Product
from engine.profiles import track
from engine.timeutil import resolve_as_of
from seed.live import INJECTABLE, Simulation
from seed.live_store import market_of_store

FEED_SIZE = 40
"""Latest events kept for the stream."""
RATE_WINDOW_S = 5.0
"""Events per second are counted over this many real seconds."""
FOLLOW_EVERY_S = 4.0
"""The followed customer visits about once per this many real seconds (their own kind
of visit, only more often, so an audience sees them change)."""
MAX_SPEED = 1_000_000.0
LATENCIES_KEPT = 100_000


def check_speed(speed: float) -> float:
    """``speed`` if it is a valid number of simulated seconds per real second."""
    if not 1.0 <= speed <= MAX_SPEED:
        raise UserError(
            f"invalid speed {speed:g}: expected simulated seconds per real second, "
            f"1 to {MAX_SPEED:,.0f} (e.g. 3600: an hour of the market per second)"
        )
    return speed


@dataclass
class Followed:
    """The followed customer: their latest look, and what changed with their events."""

    look: Look
    history: list[tuple[str, list[str]]] = field(default_factory=list)
    """(event summary, changes), newest first."""
    previous: Look | None = None
    """The look before their latest event (None before their first)."""


@dataclass
class LiveState:
    """A copy of what a run has done so far (see :meth:`LiveRun.state`)."""

    running: bool = False
    message: str = ""
    events: int = 0
    purchases: int = 0
    refused: int = 0
    customers: int = 0
    per_second: float = 0.0
    clock: datetime | None = None
    behind_s: float = 0.0
    feed: list[dict[str, Any]] = field(default_factory=list)
    followed: Followed | None = None
    latencies_ms: list[float] = field(default_factory=list)


class LiveRun:
    """One live run on one store (see the module docstring).

    Args:
        engine: the store.
        speed: simulated seconds per real second (:func:`check_speed`).
        seed: seeds the simulation (same store, seed and speed: the same events).
        follow: the followed customer's id, if any.
        minutes: stop after this many real minutes (None: until stopped).
        blend: a fitted blend for the followed customer's recommendations (optional).
        alive: called between events; the run stops when it returns False (the
            dashboard's session has ended).
        on_change: called with (event, changes) when the followed customer changes.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        speed: float,
        seed: int = 0,
        follow: str | None = None,
        minutes: float | None = None,
        blend: Any = None,
        alive: Callable[[], bool] | None = None,
        on_change: Callable[[dict[str, Any], list[str]], None] | None = None,
    ) -> None:
        self.engine, self.speed, self.seed = engine, check_speed(speed), seed
        if minutes is not None and not minutes > 0:
            raise UserError(f"invalid minutes {minutes:g}: expected a positive number")
        self.minutes, self.blend, self.alive, self.on_change = minutes, blend, alive, on_change
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._injections: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.error: Exception | None = None
        """What stopped the run, if an error did (the page shows it, the CLI raises it)."""
        self._state = LiveState()
        self._touched: set[str] = set()
        self._recent: deque[float] = deque()
        self._bought: set[str] = set()
        self._first_view: dict[str, datetime] = {}
        self._began = time.monotonic()
        with session_scope(engine) as session:
            self.start_at = resolve_as_of(session, None)
            if self.start_at.year <= 1970:
                raise UserError("the store is empty: seed or import a store first")
            try:
                shoppers, catalogue = market_of_store(session)
            except ValueError as exc:
                raise UserError(str(exc)) from exc
            self.names: dict[str, str] = {
                pid: name or pid
                for pid, name in session.execute(select(Product.product_id, Product.name)).all()
            }
            self.sim = Simulation(shoppers, catalogue, start=self.start_at, seed=seed)
            self.source = shoppers.source
            self.follow_id: str | None = None
            if follow is not None:
                self._set_follow(session, follow)

    # ----------------------------------------------------------------- control

    def start(self) -> None:
        """Run in a background thread (one per run; a second call is refused)."""
        if self._thread is not None:
            raise UserError("this live run has already been started")
        self._thread = threading.Thread(target=self.run, name="personalize-live", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop after the event being written (never in the middle of one)."""
        self._stop.set()
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._state.running

    def inject(self, kind: str) -> None:
        """Queue a chosen event for the followed customer (written by the run's thread)."""
        if kind not in INJECTABLE:
            raise UserError(f"invalid event {kind!r}; valid values: {', '.join(INJECTABLE)}")
        if self.follow_id is None:
            raise UserError("follow a customer first: events are injected for them")
        self._injections.put(kind)

    def follow(self, customer_id: str | None) -> None:
        """Follow another customer (None: nobody)."""
        with session_scope(self.engine) as session:
            self._set_follow(session, customer_id)

    def state(self) -> LiveState:
        with self._lock:
            return replace(
                self._state,
                feed=list(self._state.feed),
                latencies_ms=list(self._state.latencies_ms),
            )

    # ----------------------------------------------------------------- the loop

    def run(self) -> LiveState:
        """Run in this thread until stopped, out of minutes, or the session has gone."""
        began = self._began = time.monotonic()
        with self._lock:
            self._state.running, self._state.message = True, "running"
        try:
            while not self._stop.is_set():
                if self.alive is not None and not self.alive():
                    self._finish("stopped: the dashboard session ended")
                    break
                elapsed = time.monotonic() - began
                if self.minutes is not None and elapsed >= self.minutes * 60:
                    self._finish(f"stopped after {self.minutes:g} minute(s)")
                    break
                now = datetime.now(UTC).replace(tzinfo=None)
                target = min(self.start_at + timedelta(seconds=self.speed * elapsed), now)
                self._write_injections(target)
                due = self.sim.until(target)
                for event in due:
                    if self._stop.is_set():
                        break
                    # a presenter's event goes in at once, even while a backlog is written
                    self._write_injections(datetime.fromisoformat(event["occurred_at"]))
                    self.write(event)
                    self._state.behind_s = max(
                        (target - datetime.fromisoformat(event["occurred_at"])).total_seconds(), 0.0
                    )
                with self._lock:
                    self._state.clock = target
                    if not due:
                        self._state.behind_s = 0.0
                if not due:
                    self._stop.wait(0.05)
            else:
                self._finish("stopped")
        except Exception as exc:  # noqa: BLE001 - kept for the caller; the store is consistent
            self.error = exc
            self._finish(f"stopped by an error: {exc}")
        return self.state()

    def _write_injections(self, at: datetime) -> None:
        while not self._injections.empty() and not self._stop.is_set():
            self.write(self._injected(self._injections.get(), at))

    def _finish(self, message: str) -> None:
        with self._lock:
            self._state.running, self._state.message = False, message

    def _injected(self, kind: str, at: datetime) -> dict[str, Any]:
        assert self.follow_id is not None
        followed = self._state.followed
        product = followed.look.last_purchase if followed and kind == "review_1_star" else None
        return self.sim.inject(kind, self.follow_id, at, product_id=product) | {"injected": True}

    def write(self, event: dict[str, Any]) -> None:
        """Record one event through ``track()`` in its own transaction (and refresh the
        followed customer when it is theirs); a refused event is counted, not raised."""
        injected = bool(event.pop("injected", False))
        began = time.perf_counter()
        try:
            run_write(self.engine, lambda session: track(session, event))
        except ValidationError:
            with self._lock:
                self._state.refused += 1
            return
        latency = (time.perf_counter() - began) * 1000.0
        customer = event.get("customer_id")
        kind = event["event_type"]
        at = datetime.fromisoformat(event["occurred_at"])
        if kind == "product_view" and customer == self.follow_id:
            self._first_view.setdefault(event["product_id"], at)
        summary = self._summary(event)
        found: list[str] | None = None
        if customer is not None and customer == self.follow_id:
            if kind == "purchase":
                self._bought.add(event["product_id"])
            found = self._refresh(event, summary)
        now = time.monotonic()
        with self._lock:
            s = self._state
            s.events += 1
            s.purchases += kind == "purchase"
            if customer:
                self._touched.add(customer)
            s.customers = len(self._touched)
            self._recent.append(now)
            while self._recent and self._recent[0] < now - RATE_WINDOW_S:
                self._recent.popleft()
            window = min(RATE_WINDOW_S, max(now - self._began, 1e-3))
            s.per_second = len(self._recent) / window
            s.latencies_ms.append(latency)
            del s.latencies_ms[:-LATENCIES_KEPT]
            s.feed.insert(
                0, {**summary, "followed": customer == self.follow_id, "injected": injected}
            )
            del s.feed[FEED_SIZE:]
        if found and self.on_change is not None:
            self.on_change(event, found)

    def _summary(self, event: dict[str, Any]) -> dict[str, Any]:
        product = event.get("product_id")
        what = (
            event.get("query")
            if event["event_type"] == "search"
            else self.names.get(str(product), product)
        )
        if event["event_type"] == "review":
            what = f"{what}: {event['rating']} star(s)"
        return {
            "at": event["occurred_at"][:19].replace("T", " "),
            "customer": event.get("customer_id"),
            "event": event["event_type"],
            "what": what,
            "device": event.get("device"),
        }

    # ----------------------------------------------------------------- following

    def _set_follow(self, session: Any, customer_id: str | None) -> None:
        if customer_id is not None and session.get(Customer, customer_id) is None:
            raise UserError(f"unknown customer {customer_id!r}")
        self.follow_id = customer_id
        self._first_view, self._bought = {}, set()
        rate = 86_400.0 / (FOLLOW_EVERY_S * self.speed)
        self.sim.follow(customer_id, visits_per_day=rate)
        self._recommender = (
            Recommendations(self.blend, self.names) if self.blend is not None else None
        )
        seen = (
            look(session, customer_id, recommender=self._recommender)
            if customer_id is not None
            else None
        )
        with self._lock:
            self._state.followed = Followed(seen) if seen is not None else None

    def _refresh(self, event: dict[str, Any], summary: dict[str, Any]) -> list[str]:
        before = self._state.followed.look if self._state.followed else None
        with session_scope(self.engine) as session:
            after = look(
                session,
                str(event["customer_id"]),
                recommender=self._recommender,
                event=event,
                exclude=self._bought,
            )
        first = self._first_view.get(event.get("product_id") or "")
        found = changes(before, after, event, first_view=first)
        with self._lock:
            history = self._state.followed.history if self._state.followed else []
            text = f"{summary['at']} {summary['event']} {summary['what'] or ''}".strip()
            self._state.followed = Followed(
                after, ([(text, found)] + history)[:FEED_SIZE], previous=before
            )
        return found


__all__ = ["FOLLOW_EVERY_S", "Followed", "LiveRun", "LiveState", "check_speed"]

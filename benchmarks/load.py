"""Bounded HTTP load for the "serve" section: a fixed number of requests from a few
concurrent clients, either at a steady rate (latency) or back to back (throughput).

Each client is a thread with its own keep-alive :class:`httpx.Client`, as a storefront's
app servers would hold one connection each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

Request = tuple[str, str, dict[str, Any]]
"""(method, path, keyword arguments of :meth:`httpx.Client.request`)."""


@dataclass(frozen=True)
class Run:
    """What a load run measured: per-request seconds (in request order) and wall time."""

    seconds: list[float]
    wall: float

    def percentile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.wall


def _clients(base_url: str, token: str, count: int) -> list[httpx.Client]:
    return [
        httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0)
        for _ in range(count)
    ]


def _drive(count: int, work: Callable[[int], list[float]]) -> tuple[list[list[float]], float]:
    """Run ``work(client_index)`` in ``count`` threads started together; their results
    and the wall time from the start to the last one's end."""
    results: list[list[float]] = [[] for _ in range(count)]
    failures: list[BaseException] = []
    start = threading.Barrier(count + 1)

    def body(index: int) -> None:
        start.wait()
        try:
            results[index] = work(index)
        except BaseException as exc:  # reported by the caller, not lost in a thread
            failures.append(exc)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise failures[0]
    return results, wall


def _send(client: httpx.Client, request: Request) -> None:
    method, path, kwargs = request
    response = client.request(method, path, **kwargs)
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")


def steady(
    base_url: str, token: str, requests: Sequence[Request], *, rate: float, clients: int
) -> Run:
    """Send ``requests`` at ``rate`` per second in all, request ``i`` by client ``i %
    clients`` at ``i / rate`` seconds from the start.

    A request's latency counts from when it was due, not when it left: a client held up
    by a slow answer makes the requests behind it late, and that lateness is counted
    (no coordinated omission).
    """
    pool = _clients(base_url, token, clients)
    t0 = time.perf_counter() + 0.2  # all threads started by then
    ended = [t0] * clients

    def work(index: int) -> list[float]:
        client, out = pool[index], []
        for i in range(index, len(requests), clients):
            due = t0 + i / rate
            time.sleep(max(due - time.perf_counter(), 0.0))
            _send(client, requests[i])
            out.append(time.perf_counter() - due)
        ended[index] = time.perf_counter()
        return out

    try:
        per_client, _ = _drive(clients, work)
    finally:
        for client in pool:
            client.close()
    seconds = [0.0] * len(requests)
    for index, values in enumerate(per_client):
        seconds[index::clients] = values
    return Run(seconds, max(ended) - t0)


def flat_out(base_url: str, token: str, requests: Sequence[Request], *, clients: int) -> Run:
    """Send ``requests`` as fast as the service answers, split among ``clients`` in
    turn, each client waiting for an answer before its next request."""
    pool = _clients(base_url, token, clients)

    def work(index: int) -> list[float]:
        client, out = pool[index], []
        for i in range(index, len(requests), clients):
            began = time.perf_counter()
            _send(client, requests[i])
            out.append(time.perf_counter() - began)
        return out

    try:
        per_client, wall = _drive(clients, work)
    finally:
        for client in pool:
            client.close()
    return Run([s for values in per_client for s in values], wall)

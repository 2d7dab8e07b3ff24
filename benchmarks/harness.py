"""The benchmark harness behind ``personalize bench``.

A *section* is a function ``(options: BenchOptions) -> list[Metric]`` named by
``"module:function"``. Each section runs in its own Python process so its peak
memory is its own, and every figure that has a target is compared with a
baseline measured in the same run (this machine is shared and noisy, so
absolute seconds alone prove little).
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Metric:
    """One reported figure.

    ``target`` is the bound the figure should meet (``<=`` for ``lower_is_better``,
    else ``>=``); ``ok`` is filled in from it.
    """

    section: str
    name: str
    value: float
    unit: str
    target: float | None = None
    lower_is_better: bool = True
    note: str = ""
    ok: bool | None = None

    def __post_init__(self) -> None:
        if self.target is not None and self.ok is None:
            self.ok = (
                self.value <= self.target if self.lower_is_better else self.value >= self.target
            )


@dataclass
class BenchOptions:
    """What a section may be asked to vary (smaller sizes for a quick run)."""

    quick: bool = False
    postgres_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...; elapsed()`` gives seconds (wall clock)."""
    start = time.perf_counter()
    end: list[float] = []
    try:
        yield lambda: (end[0] if end else time.perf_counter()) - start
    finally:
        end.append(time.perf_counter())


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load(spec: str) -> Callable[[BenchOptions], list[Metric]]:
    module_name, function_name = spec.split(":")
    return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]


def run_section_inline(spec: str, options: BenchOptions) -> list[Metric]:
    """Run one section in this process (used by the child process)."""
    return _load(spec)(options)


def run_section(spec: str, options: BenchOptions, *, timeout: float = 3600) -> list[Metric]:
    """Run one section in a fresh Python process and collect its metrics."""
    payload = json.dumps({"spec": spec, "options": asdict(options)})
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.harness_child"],
        input=payload,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        return [
            Metric(
                spec.split(":")[0],
                "failed",
                float(proc.returncode),
                "exit code",
                note=" | ".join(tail),
            )
        ]
    return [Metric(**row) for row in json.loads(proc.stdout)]


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop a server a section started: politely, then for good after 30 s."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()

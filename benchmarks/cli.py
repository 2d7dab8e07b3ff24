"""How fast the command line answers: ``personalize --help`` and ``personalize info``
against ``python -c pass`` measured in the same run (the interpreter's own start)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import BenchOptions, Metric, stopwatch

SECTION = "cli"
# Seconds a command may take on top of starting Python itself.
TARGET_SECONDS = 1.0


def _median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with stopwatch() as elapsed:
            subprocess.run(command, check=True, capture_output=True)
        times.append(elapsed())
    return statistics.median(times)


def run(options: BenchOptions) -> list[Metric]:
    repeats = 3 if options.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        cli = [sys.executable, "-m", "dashboard.cli"]
        subprocess.run([*cli, "info", "--db", url], check=True, capture_output=True)
        baseline = _median_seconds([sys.executable, "-c", "pass"], repeats)
        help_s = _median_seconds([*cli, "--help"], repeats)
        info_s = _median_seconds([*cli, "info", "--db", url], repeats)
    note = f"median of {repeats}; python -c pass took {baseline:.3f} s in the same run"
    return [
        Metric(SECTION, "python -c pass (baseline)", baseline, "s", note=f"median of {repeats}"),
        Metric(SECTION, "personalize --help", help_s, "s", target=TARGET_SECONDS, note=note),
        Metric(SECTION, "personalize info", info_s, "s", target=TARGET_SECONDS, note=note),
        Metric(
            SECTION,
            "personalize info over the baseline",
            info_s - baseline,
            "s",
            target=TARGET_SECONDS,
        ),
    ]

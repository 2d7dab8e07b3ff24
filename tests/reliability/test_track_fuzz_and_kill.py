"""Property: any event either is recorded (exit 0) or refused in one line (exit 2) with
the store left byte-identical, never a traceback; and a ``score`` killed midway leaves
the store as a rerun can complete: the rerun equals an uninterrupted run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.cli import main
from engine.db import open_store

HOSTILE = [
    None,
    "",
    " ",
    "c1",
    "c2",
    "p1",
    "nope",
    "\x00",
    "\x07bell",
    "'; DROP TABLE events;--",
    "![x](http://evil.example/x.png)",
    "𝔘",
    "2024-01-03T10:00:00",
    "2024-01-03",
    "2300-01-01",
    "0001-01-01",
    "2024-02-30",
    "1e308",
    "NaN",
    0,
    -1,
    3,
    6,
    1e308,
    float("inf"),
    True,
    [],
    {"a": 1},
    "Web",
    "MOBILE",
    "rainy",
    "tablet",
    "x" * 300,
]
FIELDS = [
    "event_type",
    "customer_id",
    "anonymous_id",
    "product_id",
    "occurred_at",
    "channel",
    "device",
    "weather",
    "rating",
    "query",
    "event_id",
    "location",
]
KINDS = ["product_view", "search", "cart_add", "wishlist_add", "purchase", "review", "click"]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=10), st.integers(-5, 10))
events = st.fixed_dictionaries(
    {"event_type": st.sampled_from(KINDS), "occurred_at": st.sampled_from(HOSTILE[12:18])},
    optional={name: values for name in FIELDS if name not in ("event_type", "occurred_at")},
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small scored store, copied for every example."""
    folder = tmp_path_factory.mktemp("track-fuzz")
    orders = folder / "o.csv"
    orders.write_text(
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        "c1,o1,p1,1,2,2024-01-01\nc2,o2,p2,2,3,2024-01-02T10:00:00Z\n"
    )
    store = folder / "base.db"
    url = f"sqlite:///{store}"
    assert main(["import", "--db", url, "--orders", str(orders)]) == 0
    assert main(["score", "--db", url]) == 0
    open_store(url).dispose()  # checkpointed: the file alone is the store
    return store


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=events)
def test_any_event_is_recorded_or_refused_leaving_the_store_as_it_was(
    base_store, tmp_path, capsys, event
):
    store = tmp_path / "store.db"
    shutil.copy(base_store, store)
    capsys.readouterr()
    text = json.dumps(event, allow_nan=True)
    code = main(["track", "--db", f"sqlite:///{store}", "--event", text])
    captured = capsys.readouterr()
    assert code in (0, 2), captured.err
    assert "Traceback" not in captured.err
    if code == 2:
        assert len(captured.err.strip().splitlines()) == 1, captured.err
        open_store(f"sqlite:///{store}").dispose()
        assert _digest(store) == _digest(base_store), f"refused but changed: {text}"
    else:
        assert captured.out.split()[0] in ("recorded", "duplicate", "anonymous"), captured.out


@pytest.mark.slow
def test_a_score_killed_midway_leaves_a_store_a_rerun_completes(tmp_path):
    from seed.market import MarketConfig, generate_market
    from seed.writer import write_market

    killed, whole = tmp_path / "killed.db", tmp_path / "whole.db"
    engine = open_store(f"sqlite:///{killed}")
    write_market(
        engine, generate_market(MarketConfig(customers=1500, products=100, days=120, seed=9))
    )
    engine.dispose()
    score = [sys.executable, "-m", "dashboard.cli", "score", "--as-of", "2026-11-01"]
    # Scored once (profiles exist to be overwritten), then copied: both start the same.
    subprocess.run([*score, "--db", f"sqlite:///{killed}"], check=True, capture_output=True)
    open_store(f"sqlite:///{killed}").dispose()  # checkpointed: the file alone is the store
    shutil.copy(killed, whole)
    run = subprocess.Popen(
        [*score, "--db", f"sqlite:///{killed}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    run.stderr.readline()  # "score: computing every profile ...": it has started
    time.sleep(1.0)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    # The rerun of the killed store and the uninterrupted run, side by side (two files).
    reruns = [
        subprocess.Popen(
            [*score, "--db", f"sqlite:///{store}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for store in (killed, whole)
    ]
    results = [(r.communicate(timeout=600)[1], r.returncode) for r in reruns]
    assert [code for _, code in results] == [0, 0], results
    outputs = [
        subprocess.run(
            [*score, "--db", f"sqlite:///{store}", "--format", "csv"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for store in (killed, whole)
    ]
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) > 1000

"""Property: any CSV either imports (exit 0) or is refused in one line (exit 2) with the
store left byte-identical; never a traceback."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.cli import main
from engine.db import open_store, session_scope
from engine.store import store_summary

COLUMNS = [
    "customer_id",
    "order_id",
    "product_id",
    "quantity",
    "unit_price",
    "ordered_at",
    "discount",
    "channel",
    "device",
    "location",
    "Customer_ID",
    "",
    "extra",
]
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1e308",
    "nan",
    "inf",
    "2024-01-01",
    "2300-01-01",
    "0001-01-01",
    "2024-02-30",
    "10:00",
    "c1",
    "o1",
    "p1",
    "Web",
    "phone",
    "\x00",
    "'; DROP TABLE orders;--",
    "![x](http://evil.example/x.png)",
    "é",
    "𝔘",
    '"quoted, comma"',
    "a\nb",
    "C536379",
    "2024-01-01T10:00:00+02:00",
    "1,5",
    "NULL",
    "\ufeff",
]
REQUIRED = {
    "orders": ["customer_id", "order_id", "product_id", "quantity", "unit_price", "ordered_at"],
    "products": ["product_id"],
    "customers": ["customer_id"],
    "reviews": ["customer_id", "product_id", "rating", "reviewed_at"],
    "events": ["event_type", "occurred_at", "customer_id"],
}
cells = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
rows = st.lists(st.lists(cells, min_size=0, max_size=9), max_size=6)
headers = st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=9)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv(header: list[str], body: list[list[str]], sep: str) -> str:
    def quote(value: str) -> str:
        if any(ch in value for ch in (sep, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "\n".join(sep.join(quote(v) for v in row) for row in [header, *body]) + "\n"


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small store with data in it, copied for every example."""
    folder = tmp_path_factory.mktemp("fuzz")
    orders = folder / "o.csv"
    orders.write_text(
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        "c1,o1,p1,1,2,2024-01-01\nc2,o2,p2,2,3,2024-01-02T10:00:00Z\n"
    )
    store = folder / "base.db"
    assert main(["import", "--db", f"sqlite:///{store}", "--orders", str(orders)]) == 0
    return store


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=headers,
    body=rows,
    sep=st.sampled_from([",", ";"]),
    full=st.booleans(),
    kind=st.sampled_from(["orders", "products", "customers", "reviews", "events"]),
)
def test_any_csv_imports_or_is_refused_leaving_the_store_as_it_was(
    base_store, tmp_path_factory, capsys, header, body, sep, full, kind
):
    if full:  # the required columns first, so rows reach the cell-by-cell checks
        header = [*REQUIRED[kind], *header[:2]]
    folder = tmp_path_factory.mktemp("case")
    store = folder / "s.db"
    store.write_bytes(base_store.read_bytes())
    data = folder / f"{kind}.csv"
    data.write_text(_csv(header, body, sep), encoding="utf-8")
    before = _digest(store)
    code = main(["import", "--db", f"sqlite:///{store}", f"--{kind}", str(data)])
    captured = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
        assert _digest(store) == before
    else:
        engine = open_store(f"sqlite:///{store}")
        with session_scope(engine) as session:
            assert store_summary(session).orders >= 2  # nothing already there was lost
        engine.dispose()


@pytest.mark.slow
def test_an_import_killed_midway_leaves_nothing_and_a_rerun_completes_it(tmp_path):
    lines = ["customer_id,order_id,product_id,quantity,unit_price,ordered_at"]
    lines += [
        f"c{i % 3000},o{i},p{i % 900},1,2.5,2024-01-{1 + i % 28:02d}T10:00:00"
        for i in range(150_000)
    ]
    orders = tmp_path / "o.csv"
    orders.write_text("\n".join(lines) + "\n")
    killed, whole = tmp_path / "killed.db", tmp_path / "whole.db"
    for store in (killed, whole):
        open_store(f"sqlite:///{store}").dispose()
    command = [sys.executable, "-m", "dashboard.cli", "import", "--orders", str(orders)]
    run = subprocess.Popen(
        [*command, "--db", f"sqlite:///{killed}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Kill it once it is writing (its progress reaches stderr), not before it starts.
    deadline = time.monotonic() + 120
    assert run.stderr is not None
    for line in run.stderr:
        if "placeholder" in line or time.monotonic() > deadline:
            break
    os.kill(run.pid, signal.SIGKILL)
    run.wait()

    def counts(store: Path) -> dict[str, int]:
        engine = open_store(f"sqlite:///{store}")
        with session_scope(engine) as session:
            summary = store_summary(session).as_dict()
        engine.dispose()
        return {k: v for k, v in summary.items() if isinstance(v, int)}

    assert counts(killed)["orders"] in (0, 150_000)  # one transaction: all or nothing
    # The rerun of the killed store and the uninterrupted import, side by side (two files).
    reruns = [
        subprocess.Popen(
            [*command, "--db", f"sqlite:///{store}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for store in (killed, whole)
    ]
    results = [(r.communicate(timeout=600)[1], r.returncode) for r in reruns]
    assert [code for _, code in results] == [0, 0], results
    assert counts(killed) == counts(whole)
    assert counts(whole)["orders"] == 150_000

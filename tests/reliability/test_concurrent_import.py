"""Two imports at once: both succeed and the store holds each row once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db import open_store, session_scope
from engine.models import Customer, Order, OrderLine, Product

ROWS = 3_000


def _orders(path: Path, start: int) -> Path:
    # Overlapping halves: the same customers, products and orders appear in both files.
    lines = ["customer_id,order_id,product_id,quantity,unit_price,ordered_at"]
    for i in range(start, start + ROWS):
        lines.append(f"c{i % 400},o{i},p{i % 250},1,2.5,2024-01-{1 + i % 28:02d}T10:00:00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_two_imports_at_once_both_succeed_and_store_each_row_once(db_url, tmp_path):
    open_store(db_url).dispose()
    first = _orders(tmp_path / "a.csv", 0)
    second = _orders(tmp_path / "b.csv", ROWS // 2)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "import", "--db", db_url, "--orders", str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in (first, second)
    ]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    engine = open_store(db_url)
    with session_scope(engine) as session:
        count = {
            m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Customer, Product, Order, OrderLine)
        }
    engine.dispose()
    total = ROWS + ROWS // 2
    assert count == {"Customer": 400, "Product": 250, "Order": total, "OrderLine": total}

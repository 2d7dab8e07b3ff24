""" "As of T" is strict: a store holding the whole history and one holding only the rows
before T give identical answers to every ``--as-of T`` command (``../shared/CONTRACT.md``).

Each case builds both stores on each backend, runs ``score``, ``segments --members``,
``recommend --all``, ``predict --all`` and ``evaluate`` through the CLI, and compares
their output byte for byte (``evaluate`` without its timings, which are measured).

* Real samples from ``../shared/data`` (a slice of their customers and of the catalogue,
  to stay quick):
  dunnhumby with each line of an order stamped a minute after the previous one, as
  tills do, and T inside one such order, so an order is cut in two; CDNOW with its
  leading-zero ids.
* The seeded market, whose events carry anonymous ids stitched to customers by
  identity links, so links made after T must not count.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dashboard.cli import main
from engine.db import open_store

pytestmark = pytest.mark.slow

COMMANDS: dict[str, list[str]] = {
    "score": ["score", "--format", "csv"],
    "segments": ["segments", "--members", "--format", "csv"],
    "recommend": ["recommend", "--all", "--k", "5", "--format", "csv"],
    "predict": ["predict", "--all", "--format", "csv"],
    "evaluate": ["evaluate", "--json"],
}


def _without_timings(value: Any) -> Any:
    """A JSON document minus what is measured rather than computed (seconds, timings)."""
    if isinstance(value, dict):
        return {
            k: _without_timings(v)
            for k, v in value.items()
            if not any(word in k for word in ("second", "timing", "elapsed"))
        }
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _answers(url: str, as_of: datetime, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    capsys.readouterr()
    for name, command in COMMANDS.items():
        code = main([*command, "--db", url, "--as-of", as_of.isoformat()])
        out = capsys.readouterr().out
        assert code == 0, f"{name} failed on {url}"
        answers[name] = _without_timings(json.loads(out)) if name == "evaluate" else out
    return answers


def _assert_identical(full: dict[str, Any], cut: dict[str, Any]) -> None:
    for name in COMMANDS:
        if name == "evaluate":
            assert full[name] == cut[name], name
            continue
        left, right = full[name].splitlines(), cut[name].splitlines()
        assert len(left) > 1, f"{name} answered nothing"
        differing = [(a, b) for a, b in zip(left, right, strict=False) if a != b]
        assert len(left) == len(right) and not differing, (
            f"{name}: {len(left)} vs {len(right)} lines; first differences {differing[:3]}"
        )


@pytest.fixture
def cut_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest):
    """A second fresh database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'cut.db'}"
        return
    from tests.conftest import _fresh_postgres_database, postgres_admin_url

    admin = postgres_admin_url()
    assert admin is not None
    yield from _fresh_postgres_database(admin)


def _slice(orders: pd.DataFrame, customers: int) -> pd.DataFrame:
    chosen = sorted(orders["customer_id"].unique())[:customers]
    return orders[orders["customer_id"].isin(chosen)].copy()


def _import(
    url: str,
    directory: Path,
    orders: pd.DataFrame,
    products: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory.mkdir()
    path = directory / "orders.csv"
    orders.to_csv(path, index=False)
    assert main(["import", "--db", url, "--orders", str(path), "--products", str(products)]) == 0
    capsys.readouterr()


def _catalogue(products: Path, orders: pd.DataFrame, directory: Path, unsold: int = 200) -> Path:
    """The catalogue cut to what ``orders`` bought plus ``unsold`` products nobody did (a
    smaller store: the question is "as of", not the size of the catalogue)."""
    frame = pd.read_csv(products, dtype=str)
    bought = frame["product_id"].isin(orders["product_id"])
    kept = pd.concat([frame[bought], frame[~bought].head(unsold)])
    directory.mkdir()
    path = directory / "products.csv"
    kept.to_csv(path, index=False)
    return path


def _stamp_lines(orders: pd.DataFrame) -> pd.DataFrame:
    """Each line of an order one minute after the previous one (a till's stamps)."""
    at = pd.to_datetime(orders["ordered_at"])
    step = orders.groupby("order_id").cumcount()
    out = orders.copy()
    out["ordered_at"] = (at + pd.to_timedelta(step, unit="min")).dt.strftime("%Y-%m-%dT%H:%M:%S")
    return out


def _run_real(
    orders: pd.DataFrame,
    products: Path,
    as_of: datetime,
    db_url: str,
    cut_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = orders[pd.to_datetime(orders["ordered_at"]) < pd.Timestamp(as_of)]
    assert 0 < len(before) < len(orders)
    _import(db_url, tmp_path / "full", orders, products, capsys)
    _import(cut_url, tmp_path / "cut", before, products, capsys)
    _assert_identical(_answers(db_url, as_of, capsys), _answers(cut_url, as_of, capsys))


def test_dunnhumby_full_history_and_rows_before_t_agree(
    shared_data, db_url, cut_url, tmp_path, capsys
):
    source = shared_data / "dunnhumby"
    orders = _stamp_lines(_slice(pd.read_csv(source / "orders.csv", dtype=str), 120))
    # T one minute into a multi-line order: its first lines are before T, the rest after.
    sizes = orders.groupby("order_id")["product_id"].transform("size")
    at = pd.to_datetime(orders["ordered_at"])
    middle = at[(sizes >= 3) & (at > at.quantile(0.6))].min()
    as_of = (middle + timedelta(seconds=30)).to_pydatetime()
    products = _catalogue(source / "products.csv", orders, tmp_path / "catalogue")
    _run_real(orders, products, as_of, db_url, cut_url, tmp_path, capsys)


def test_cdnow_full_history_and_rows_before_t_agree(shared_data, db_url, cut_url, tmp_path, capsys):
    source = shared_data / "cdnow"
    orders = _slice(pd.read_csv(source / "orders.csv", dtype=str), 200)
    assert orders["customer_id"].str.startswith("0").all()
    _run_real(
        orders, source / "products.csv", datetime(1997, 10, 1), db_url, cut_url, tmp_path, capsys
    )


def _market_before(market: Any, as_of: datetime) -> Any:
    """The market's rows stamped before ``as_of`` (customers: signed up or seen by then)."""
    from dataclasses import replace

    t = pd.Timestamp(as_of)
    orders = market.orders[market.orders["ordered_at"] < t]
    lines = market.order_lines[market.order_lines["order_id"].isin(orders["order_id"])]
    events = market.events[market.events["occurred_at"] < t]
    reviews = market.reviews[market.reviews["reviewed_at"] < t]
    seen = pd.concat([orders["customer_id"], events["customer_id"], reviews["customer_id"]])
    customers = market.customers[
        (market.customers["signup_at"] < t) | market.customers["customer_id"].isin(seen.dropna())
    ]
    weather = market.daily_weather[pd.to_datetime(market.daily_weather["day"]) < t]
    return replace(
        market,
        customers=customers,
        orders=orders,
        order_lines=lines,
        events=events,
        reviews=reviews,
        daily_weather=weather,
    )


def test_seeded_full_history_and_rows_before_t_agree(db_url, cut_url, capsys):
    from seed.market import MarketConfig, generate_market
    from seed.writer import write_market

    market = generate_market(MarketConfig(customers=150, products=60, days=150, seed=3))
    start = market.orders["ordered_at"].min()
    as_of = (start + timedelta(days=100, hours=13, minutes=7)).to_pydatetime()
    for url, frames in ((db_url, market), (cut_url, _market_before(market, as_of))):
        engine = open_store(url)
        try:
            write_market(engine, frames)
        finally:
            engine.dispose()
    _assert_identical(_answers(db_url, as_of, capsys), _answers(cut_url, as_of, capsys))

"""``personalize predict`` on the shared seeded store (read-only)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from dashboard.cli import main
from engine.predict import OUTPUT_COLUMNS


def test_predict_all_csv_has_exactly_the_contract_columns(
    seeded_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["predict", "--all", "--db", seeded_db_url, "--as-of", "2026-10-01", "--format", "csv"]
        )
        == 0
    )
    out = capsys.readouterr().out
    frame = pd.read_csv(io.StringIO(out), dtype={"customer_id": str})
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert frame["customer_id"].is_unique and len(frame) > 100
    assert frame.notna().drop(columns="likely_categories").all().all()
    assert frame["confidence"].between(0, 100).all() and frame["p_active"].between(0, 1).all()
    dates = pd.to_datetime(frame["predicted_date"], format="%Y-%m-%d")
    assert (dates >= pd.Timestamp("2026-10-01")).all()
    assert frame["likely_categories"].str.split(";").str.len().max() == 3


def test_predict_one_customer_json(seeded_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["predict", "--all", "--db", seeded_db_url, "--format", "csv"])
    first = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"customer_id": str})[
        "customer_id"
    ][0]
    assert main(["predict", first, "--db", seeded_db_url, "--as-of", "2026-09-01", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["customer_id"] == first and record["as_of"].startswith("2026-09-01")
    assert 0 <= record["confidence"] <= 100 and 0 <= record["p_active"] <= 1
    assert record["predicted_date"] >= "2026-09-01"


def test_unknown_customer_exits_2(seeded_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", "no-such-customer", "--db", seeded_db_url]) == 2
    err = capsys.readouterr().err
    assert "unknown customer 'no-such-customer'" in err and err.count("\n") == 1


def test_a_customer_who_does_not_exist_yet_is_refused(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As of T, a customer whose first data is later is not listed and cannot be asked for."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    orders = tmp_path / "orders.csv"
    rows = [f"early,e{i},p{i % 3},1,5.0,2024-0{1 + i % 5}-0{1 + i}T10:00:00" for i in range(8)]
    orders.write_text(
        "customer_id,order_id,product_id,quantity,unit_price,ordered_at\n"
        + "\n".join([*rows, "late,l1,p1,1,5.0,2024-07-01T10:00:00"])
        + "\n"
    )
    assert main(["import", "--db", url, "--orders", str(orders)]) == 0
    capsys.readouterr()
    assert main(["predict", "--all", "--db", url, "--as-of", "2024-06-01", "--format", "csv"]) == 0
    listed = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"customer_id": str})
    assert listed["customer_id"].tolist() == ["early"]
    assert main(["predict", "late", "--db", url, "--as-of", "2024-06-01"]) == 2
    err = capsys.readouterr().err
    assert "customer 'late' does not exist as of 2024-06-01" in err and err.count("\n") == 1
    assert main(["predict", "late", "--db", url, "--json"]) == 0


def test_customer_and_all_together_is_refused(
    seeded_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", "x", "--all", "--db", seeded_db_url]) == 2
    assert "either one CUSTOMER or --all" in capsys.readouterr().err


def test_evaluate_store_for_personalize_evaluate(
    seeded_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli.output import emit_json
    from engine.db import open_store, session_scope
    from engine.predict.service import evaluate_store, evaluation_rows

    engine = open_store(seeded_db_url)
    try:
        with session_scope(engine) as session:
            result = evaluate_store(session)
    finally:
        engine.dispose()
    assert result["horizon_days"] == 90 and result["customers"] > 100
    rows = evaluation_rows(result)
    assert [name for name, _, _ in rows][0] == "next purchase: median abs error (days)"
    assert all(model is not None for _, model, _ in rows)
    emit_json(result)  # JSON-ready, dates included
    assert json.loads(capsys.readouterr().out)["horizon_days"] == 90

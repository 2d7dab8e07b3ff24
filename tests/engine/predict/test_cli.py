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

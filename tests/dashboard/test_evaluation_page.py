"""The Evaluation page under AppTest, checked against the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.sidebar import AS_OF_KEY, as_of_for
from engine.db import open_store, session_scope
from engine.predict.service import evaluate_store
from engine.recommend.evaluation import BASELINES, evaluate

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
EVALUATION = str(Path("..") / "pages" / "evaluation.py")


def _open(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=300).run()
    at.switch_page(EVALUATION).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_runs_on_request_and_shows_every_model_in_both_protocols(seeded_db_url, monkeypatch):
    at = _open(seeded_db_url, monkeypatch)
    assert not at.dataframe  # nothing runs before the button
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    as_of = as_of_for(at.session_state[AS_OF_KEY])
    engine = open_store(seeded_db_url)
    try:
        with session_scope(engine) as session:
            report = evaluate(session, as_of=as_of, k=10)["recommendations"]
    finally:
        engine.dispose()
    for i, protocol in enumerate(("repeat", "new")):
        table = at.dataframe[i].value.set_index("label")
        assert {"Blend", "Popularity (baseline)", "EASE (baseline)", "TIFU-KNN (baseline)"} <= set(
            table.index
        )
        assert len(table) == len(BASELINES) + 6
        models = report["protocols"][protocol]["models"]
        # The table shows percentages, and the same figures as the engine.
        assert table.loc["Blend", "ndcg"] == pytest.approx(100 * models["blend"]["ndcg"])
        assert table.loc["Personal frequency (baseline)", "past_share"] == pytest.approx(
            100 * models["frequency"]["past_share"]
        )
        assert (table["fit_seconds"] >= 0).all() and (table["rank_seconds"] >= 0).all()
    assert (at.dataframe[1].value["past_share"] == 0).all()  # new items only
    assert len(at.get("plotly_chart")) == 1
    # and the purchase predictions: every method in its own row, the same figures as the
    # engine's evaluation ending at the same As of, then the calibration and other figures
    assert len(at.dataframe) == 5
    methods = at.dataframe[2].value.set_index("method")
    with session_scope(engine := open_store(seeded_db_url)) as session:
        expected = evaluate_store(session, as_of=as_of)["methods"]
    engine.dispose()
    assert len(methods) == 4
    assert methods.loc["BG/NBD (plain)", "brier"] == pytest.approx(expected["bgnbd"]["brier"])
    assert methods.loc["constant base rate", "brier"] == pytest.approx(
        expected["base_rate"]["brier"]
    )
    assert set(at.dataframe[3].value.columns) == {"bin", "customers", "stated", "observed"}


def test_too_early_says_why(seeded_db_url, monkeypatch):
    at = _open(seeded_db_url, monkeypatch)
    first_day = at.sidebar.date_input[0].min
    at.sidebar.date_input[0].set_value(first_day).run()
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Cannot evaluate" in info.value for info in at.info)

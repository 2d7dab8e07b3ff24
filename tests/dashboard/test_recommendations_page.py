"""The Recommendations page under AppTest, checked against the engine."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import recommendations as rec
from dashboard.sidebar import AS_OF_KEY, as_of_for
from engine.db import open_store, session_scope
from engine.models import Product
from engine.recommend import BlendRecommender, Context, StoreData, compare_contexts

from .factories import build_small_store

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGE = str(Path("..") / "pages" / "recommendations.py")


def _open(url: str, monkeypatch: pytest.MonkeyPatch, page: str = PAGE) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> pd.DataFrame:
    """The ranked list (the page's first table)."""
    return at.dataframe[0].value


def _traces(at: AppTest) -> list[str]:
    """Trace names of the contribution chart (the page's first chart)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [trace["name"] for trace in spec["data"]]


@pytest.fixture(scope="module")
def fitted(seeded_db_url: str) -> BlendRecommender:
    """The blend fitted as the page fits it: on the store as of the end of its newest day."""
    engine = open_store(seeded_db_url)
    try:
        with session_scope(engine) as session:
            newest = StoreData.load(session).as_of - timedelta(microseconds=1)
            data = StoreData.load(session, as_of=as_of_for(newest.date()))
    finally:
        engine.dispose()
    return BlendRecommender().fit(data)


def test_the_list_is_the_engines_for_the_chosen_customer(seeded_db_url, monkeypatch, fitted):
    at = _open(seeded_db_url, monkeypatch)
    assert not at.error and not at.warning
    assert fitted.as_of_ == as_of_for(at.session_state[AS_OF_KEY])
    customer = at.selectbox(key="recommendations_customer").value
    assert customer == rec.customer_choices(fitted)[1]  # the most active customer
    expected = fitted.recommend(customer, Context(), k=20)
    shown = _shown(at)
    assert shown["product_id"].tolist() == [s.product_id for s in expected]
    assert shown["score"].tolist() == [s.score for s in expected]
    assert shown["reason"].tolist() == [s.reason for s in expected]
    assert shown["rank"].tolist() == list(range(1, 21))


def test_rain_changes_the_list(seeded_db_url, monkeypatch, fitted):
    at = _open(seeded_db_url, monkeypatch)
    customer = at.selectbox(key="recommendations_customer").value
    at.selectbox(key="recommendations_ctx_weather").set_value("sunny").run()
    sunny = _shown(at)["product_id"].tolist()
    at.selectbox(key="recommendations_ctx_weather").set_value("rainy").run()
    assert not at.exception
    rainy = _shown(at)["product_id"].tolist()
    assert rainy != sunny
    expected = fitted.recommend(customer, Context(weather="rainy"), k=20)
    assert rainy == [s.product_id for s in expected]


def test_a_weight_at_zero_removes_that_recommenders_points(seeded_db_url, monkeypatch, fitted):
    at = _open(seeded_db_url, monkeypatch)
    assert "Collaborative" in _traces(at)
    at.slider(key="recommendations_weight_collaborative").set_value(0.0).run()
    assert not at.exception
    assert "Collaborative" not in _traces(at)
    customer = at.selectbox(key="recommendations_customer").value
    expected = fitted.recommend(customer, Context(), k=20, weights={"collaborative": 0.0})
    assert _shown(at)["product_id"].tolist() == [s.product_id for s in expected]
    assert all("collaborative" not in s.contributions for s in expected)


def test_anonymous_gets_contextual_and_trending_only(seeded_db_url, monkeypatch, fitted):
    at = _open(seeded_db_url, monkeypatch)
    at.selectbox(key="recommendations_customer").set_value(rec.ANONYMOUS).run()
    assert not at.exception and not at.warning
    expected = fitted.recommend(None, Context(), k=20)
    assert _shown(at)["product_id"].tolist() == [s.product_id for s in expected]
    assert set(_traces(at)) <= {"Contextual", "Trending"}


def test_the_comparison_is_sunny_morning_against_rainy_evening(seeded_db_url, monkeypatch, fitted):
    at = _open(seeded_db_url, monkeypatch)
    customer = at.selectbox(key="recommendations_customer").value
    both = compare_contexts(
        fitted, customer, Context("sunny", "morning"), Context("rainy", "evening"), k=20
    )
    first, second = at.dataframe[1].value, at.dataframe[2].value
    assert (
        first["name"].tolist()
        == both.dropna(subset=["rank_first"]).sort_values("rank_first")["name"].tolist()
    )
    # Every product of the second list says how it moved; the first list's leavers leave.
    for row in both.itertuples():
        if pd.isna(row.rank_first):
            want = "new"
        elif pd.isna(row.rank_second):
            want = "leaves"
        else:
            step = int(row.rank_first - row.rank_second)
            want = "=" if step == 0 else f"{'▲' if step > 0 else '▼'} {abs(step)}"
        side = second if not pd.isna(row.rank_second) else first
        assert side.loc[side["name"] == row.name, "change"].tolist()[0] == want
    assert len(at.get("plotly_chart")) == 2


def test_an_unknown_typed_customer_is_a_warning_not_a_traceback(seeded_db_url, monkeypatch):
    at = _open(seeded_db_url, monkeypatch)
    at.text_input(key="recommendations_customer_search").set_value("NOBODY").run()
    assert not at.exception
    assert "No customer id or name contains 'NOBODY'" in at.warning[0].value


def test_a_store_too_thin_to_fit_says_what_is_needed(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    engine = open_store(url)
    with session_scope(engine) as session:
        session.add(Product(product_id="p1", category="shoes"))
    engine.dispose()
    at = _open(url, monkeypatch)
    assert "no orders or events" in at.info[0].value
    assert not at.dataframe


def test_a_tiny_store_renders(tmp_path, monkeypatch):
    url = build_small_store(f"sqlite:///{tmp_path / 'small.db'}")
    at = _open(url, monkeypatch)
    assert not at.error


def test_k_sets_the_list_length(seeded_db_url, monkeypatch):
    at = _open(seeded_db_url, monkeypatch)
    at.number_input(key="recommendations_k").set_value(5).run()
    assert not at.exception
    assert _shown(at)["rank"].tolist() == [1, 2, 3, 4, 5]
    assert len(at.dataframe[2].value) == 5  # the comparison follows k too

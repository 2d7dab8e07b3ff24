"""The Audiences page under AppTest: live size and share, what-ifs, bad rules, save/delete."""

from __future__ import annotations

import io
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import audiences as aud
from dashboard.sidebar import AS_OF_KEY, as_of_for
from engine.audiences import audience_members, compile_rule, load_audience_data, render
from engine.db import open_store, session_scope
from engine.profiles import save_rules

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGE = str(Path("..") / "pages" / "audiences.py")
RULE = "(night_owl OR mobile_first) AND lifetime_value >= 50"


@pytest.fixture
def store_copy(seeded_db_url, tmp_path) -> str:
    """A writable copy of the seeded store (saving writes)."""
    shutil.copy(seeded_db_url.removeprefix("sqlite:///"), tmp_path / "store.db")
    return f"sqlite:///{tmp_path / 'store.db'}"


def _page(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _expected(url: str, at: AppTest, rule: str) -> tuple[int, int]:
    """The audience's size and the number of customers, computed by the engine directly."""
    engine = open_store(url)
    with session_scope(engine) as session:
        data = load_audience_data(session, as_of=as_of_for(at.session_state[AS_OF_KEY]))
        size = len(audience_members(compile_rule(rule, data.segments), data))
    engine.dispose()
    return size, len(data.customers)


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _slider(at: AppTest, label: str):
    return next(s for s in at.slider if s.label == label)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_size_share_and_what_if_follow_the_engine(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, monkeypatch)
    assert at.text_area(key=aud.RULE_KEY).value == RULE
    size, customers = _expected(seeded_db_url, at, RULE)
    assert _metrics(at) == {
        "Customers in the audience": f"{size:,}",
        "Share of customers": f"{size / customers:.1%}",
    }
    assert len(at.get("plotly_chart")) == 3  # by segment, category, channel
    assert [s.label for s in at.slider] == [
        "night_owl: night_shopping above",
        "mobile_first: mobile_usage above",
        "lifetime_value >= 50",
    ]

    _slider(at, "lifetime_value >= 50").set_value(70.0).run()
    moved = RULE.replace("50", "70")
    size, _ = _expected(seeded_db_url, at, moved)
    assert _metrics(at)["Customers in the audience"] == f"{size:,}"
    assert f"Rule in effect: `{moved}`" in [i.value for i in at.info]
    members = at.dataframe[0].value
    assert len(members) == size and (members["lifetime_value"] >= 70).all()
    assert members["name"].notna().all()


def test_a_segment_threshold_what_if_writes_the_segment_out_as_its_score(
    seeded_db_url, monkeypatch
):
    at = _page(seeded_db_url, monkeypatch)
    _slider(at, "night_owl: night_shopping above").set_value(20.0).run()
    moved = "(night_shopping > 20 OR mobile_first) AND lifetime_value >= 50"
    assert f"Rule in effect: `{moved}`" in [i.value for i in at.info]
    size, _ = _expected(seeded_db_url, at, moved)
    before, _ = _expected(seeded_db_url, at, RULE)
    assert _metrics(at)["Customers in the audience"] == f"{size:,}"
    assert size > before  # a lower bar lets more night shoppers in


def test_segment_thresholds_saved_elsewhere_show_at_the_next_rerun(store_copy, monkeypatch):
    at = _page(store_copy, monkeypatch)
    before = _metrics(at)["Customers in the audience"]
    engine = open_store(store_copy)
    with session_scope(engine) as session:  # as the Segments page's "Save thresholds" does
        save_rules(session, {"night_owl": 20.0}, updated_at=datetime(2026, 1, 1))
    engine.dispose()
    at.run()
    size, _ = _expected(store_copy, at, RULE)
    assert _metrics(at)["Customers in the audience"] == f"{size:,}" != before
    assert _slider(at, "night_owl: night_shopping above").value == 20.0
    assert not at.info  # the stored thresholds are no what-if


def test_a_bad_rule_names_the_problem_and_the_valid_choices(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, monkeypatch)
    for rule, expected in [
        ("night_owl AND (", "expected a segment, a field or"),
        ("nigth_owl", "unknown segment 'nigth_owl'; valid segments: high_value, frequent_buyer"),
        ("lifetime > 3", "unknown field 'lifetime'; valid fields: lifetime_value"),
    ]:
        at.text_area(key=aud.RULE_KEY).set_value(rule).run()
        assert not at.exception
        errors = [e.value.replace("\\", "") for e in at.error]  # shown escaped (ui.md)
        assert len(errors) == 1 and expected in errors[0], errors
        assert not at.metric


def test_helpers_build_the_rule_and_predicted_fields_evaluate(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, monkeypatch)
    at.text_area(key=aud.RULE_KEY).set_value("night_owl").run()
    at.selectbox(key=aud.SEGMENT_KEY).set_value("mobile_first")
    at.radio(key="audiences_segment_combiner").set_value("OR")
    _button(at, "Add segment").click().run()
    at.selectbox(key="audiences_field").set_value("p_active").run()
    at.number_input(key=aud.LOW_KEY).set_value(0.9)
    at.number_input(key=aud.HIGH_KEY).set_value(1.0)
    _button(at, "Add range").click().run()
    rule = "(night_owl OR mobile_first) AND p_active between 0.9 and 1"
    assert at.text_area(key=aud.RULE_KEY).value == rule
    assert not at.exception
    members = at.dataframe[0].value
    assert (members["p_active"] >= 0.9).all() and len(members) > 0


def test_saving_keeps_the_what_ifs_and_delete_removes_it(store_copy, monkeypatch):
    at = _page(store_copy, monkeypatch)
    _slider(at, "lifetime_value >= 50").set_value(60.0).run()
    at.text_input(key=aud.NAME_KEY).set_value("owls").run()
    _button(at, "Save audience").click().run()
    saved = RULE.replace("50", "60")
    assert at.text_area(key=aud.RULE_KEY).value == saved
    assert at.selectbox(key=aud.PICK_KEY).options == [aud.NEW, "owls"]
    engine = open_store(store_copy)
    with session_scope(engine) as session:
        from engine.audiences import get_audience

        assert get_audience(session, "owls").rule == saved
    engine.dispose()
    _button(at, "Delete audience").click().run()
    assert at.selectbox(key=aud.PICK_KEY).options == [aud.NEW]
    at.text_input(key=aud.NAME_KEY).set_value("; bad").run()
    _button(at, "Save audience").click().run()
    assert "invalid audience name" in at.error[0].value


def test_size_over_time_is_one_toggle_away(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, monkeypatch)
    at.toggle(key="audiences_history").set_value(True).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4


def test_export_is_the_members_with_contacts_and_scores_used(seeded_db_url):
    engine = open_store(seeded_db_url)
    with session_scope(engine) as session:
        data = load_audience_data(session)
        node = compile_rule(RULE, data.segments)
    engine.dispose()
    chosen = aud.members(node, data)
    exported = pd.read_csv(io.BytesIO(aud.export_bytes(node, chosen)))
    assert exported["customer_id"].tolist() == chosen["customer_id"].tolist()
    assert list(exported.columns) == [
        "customer_id",
        "name",
        "email",
        "city",
        "lifetime_value",
        "night_shopping",
        "mobile_usage",
    ]
    assert render(node) == RULE
    assert aud.appended(RULE, "OR NOT", "high_value") == f"{RULE} OR NOT high_value"
    assert aud.appended("a OR b", "AND", "c") == "(a OR b) AND c"
    assert aud.appended("", "AND NOT", "c") == "NOT c"

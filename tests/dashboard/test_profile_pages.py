"""The "Customer profile" and "Segments" pages under AppTest, on the seeded store."""

from __future__ import annotations

import io
import re
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import make_url
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import ui
from dashboard.profiles import (
    SCORE_LABELS,
    find_customers,
    member_table,
    members_csv,
    overlap_matrix,
    size_comparison,
)
from dashboard.sidebar import AS_OF_KEY, as_of_for
from engine.db import open_store, session_scope
from engine.models import Product
from engine.profiles import (
    DEFAULT_RULES,
    SCORES,
    Rule,
    assign_segments,
    compute_profiles,
    get_profile,
    load_rules,
)
from engine.profiles.scoring import MIN_EVIDENCE
from engine.profiles.segments import load_min_evidence

from .factories import build_small_store

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PROFILE = str(Path("..") / "pages" / "customer_profile.py")
SEGMENTS = str(Path("..") / "pages" / "segments.py")


def _page(url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    return at


def _as_of(at: AppTest) -> datetime:
    return as_of_for(at.session_state[AS_OF_KEY])


def _engine(url: str):  # type: ignore[no-untyped-def]
    return open_store(url)


def _copy(seeded_db_url: str, tmp_path: Path) -> str:
    source = Path(make_url(seeded_db_url).database or "")
    return f"sqlite:///{shutil.copy(source, tmp_path / 'store.db')}"


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _slider(at: AppTest, segment: str):  # type: ignore[no-untyped-def]
    return next(s for s in at.slider if s.key == f"segments_threshold_{segment}")


# --- Customer profile ------------------------------------------------------------------


def test_the_profile_page_shows_the_engines_scores_for_the_most_active_customer(
    seeded_db_url, monkeypatch
):
    at = _page(seeded_db_url, PROFILE, monkeypatch)
    engine = _engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            profiles = compute_profiles(session, as_of=_as_of(at))
            most_active = profiles.sort_values(
                ["activity", "orders", "customer_id"], ascending=[False, False, True]
            ).iloc[0]
            expected = get_profile(session, most_active["customer_id"], as_of=_as_of(at))
    finally:
        engine.dispose()
    assert at.selectbox[0].value == most_active["customer_id"]
    table = at.dataframe[0].value
    assert table["score"].tolist() == [SCORE_LABELS[s] for s in SCORES]
    assert table["value"].round(6).tolist() == [round(expected.scores[s].value, 6) for s in SCORES]
    # the batch frame and the one-customer profile agree
    assert table["value"].round(6).tolist() == [round(float(most_active[s]), 6) for s in SCORES]
    assert table["n"].tolist() == [expected.scores[s].n for s in SCORES]
    assert table["explanation"].tolist() == [expected.scores[s].explanation for s in SCORES]
    page_text = " ".join(m.value for m in at.markdown)
    for segment in expected.segments:
        assert f":blue-badge[{ui.md(ui.segment_name(segment))}]" in page_text
    assert expected.tone in page_text
    assert _metric(at, "Emotional state") == expected.emotional_state.replace("_", " ")
    # the scores, then one chart of the habits tabs at a time (weekday x hour first)
    assert len(at.get("plotly_chart")) == 2
    assert "When they are active" in at.get("plotly_chart")[1].proto.spec
    for tab, title in (
        ("Channels", "Activity per channel"),
        ("Categories", "Category interest"),
        ("Brands", "Brand interest"),
    ):
        at.session_state["profile_habits_tab"] = tab  # what a click on that tab does
        charts = at.run().get("plotly_chart")
        assert not at.exception and len(charts) == 2 and title in charts[1].proto.spec
    assert len(at.dataframe) == 2  # the scores and the open tab of the recent history
    at.session_state["profile_history_tab"] = "Purchases"
    assert len(at.run().dataframe[1].value) == len(expected.purchases)


def test_the_profile_honours_an_earlier_as_of_date(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, PROFILE, monkeypatch)
    earlier = at.session_state[AS_OF_KEY] - pd.Timedelta(days=60)
    at.sidebar.date_input[0].set_value(earlier).run()
    assert not at.exception, [e.value for e in at.exception]
    customer = at.selectbox[0].value
    engine = _engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            expected = get_profile(session, customer, as_of=as_of_for(earlier))
    finally:
        engine.dispose()
    shown = at.dataframe[0].value["value"]
    assert [None if pd.isna(v) else round(v, 6) for v in shown] == [
        None if expected.scores[s].value is None else round(expected.scores[s].value, 6)
        for s in SCORES
    ]
    assert f"Before {as_of_for(earlier):%Y-%m-%d} 00:00 UTC" in at.main.caption[1].value


def test_a_score_without_enough_data_says_so_and_is_not_ranked(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, PROFILE, monkeypatch)
    engine = _engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            profiles = compute_profiles(session, as_of=_as_of(at))
    finally:
        engine.dispose()
    # A buyer with a few orders but too few branded products for brand loyalty.
    thin = profiles.loc[profiles["brand_loyalty"].isna() & (profiles["orders"] > 0)]
    customer = str(thin.sort_values("customer_id")["customer_id"].iloc[0])
    at.text_input[0].set_value(customer).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox[0].value == customer
    table = at.dataframe[0].value.set_index("score")
    row = table.loc[SCORE_LABELS["brand_loyalty"]]
    assert pd.isna(row["value"]) and pd.isna(row["percentile"])
    assert re.fullmatch(r"not enough data \(\d+ of 8 branded products\)", row["evidence"])
    assert (table.loc[table["value"].notna(), "evidence"] == "given").all()
    assert "brand_loyal" not in " ".join(m.value for m in at.markdown)
    chart = at.get("plotly_chart")[0].proto.spec
    assert row["evidence"] in chart


def test_searching_by_id_narrows_the_picker_and_switches_customer(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, PROFILE, monkeypatch)
    other = at.selectbox[0].options[3].split(" · ")[0]
    at.text_input[0].set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox[0].options[0].split(" · ")[0] == other
    assert at.selectbox[0].value == other
    at.text_input[0].set_value("no such customer anywhere").run()
    assert "No customer id or name contains" in at.warning[0].value


def test_find_customers_matches_id_or_name_in_any_case():
    frame = pd.DataFrame({"customer_id": ["c1", "c2", "x3"], "name": ["Ann Lee", None, "Bo C"]})
    assert find_customers(frame, "") == ["c1", "c2", "x3"]
    assert find_customers(frame, " C ") == ["c1", "c2", "x3"]  # x3 by its name
    assert find_customers(frame, "lee") == ["c1"]
    assert find_customers(frame, "X3") == ["x3"]
    assert find_customers(frame, "c", limit=1) == ["c1"]
    exact = pd.DataFrame({"customer_id": ["c10", "c1"], "name": ["", ""]})
    assert find_customers(exact, "C1") == ["c1", "c10"]  # the exact id first


# --- Segments ----------------------------------------------------------------------------


def test_the_segments_page_shows_the_sizes_of_the_stored_rules(seeded_db_url, monkeypatch):
    at = _page(seeded_db_url, SEGMENTS, monkeypatch)
    engine = _engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            profiles = compute_profiles(session, as_of=_as_of(at))
    finally:
        engine.dispose()
    members = assign_segments(profiles, DEFAULT_RULES)
    sizes = members.groupby("segment").size()
    assert _metric(at, "High-value customers size") == f"{sizes.get('high_value', 0):,}"
    assert _metric(at, "Night owls size") == f"{sizes.get('night_owl', 0):,}"
    # sizes, overlaps, score by segment
    assert len(at.get("plotly_chart")) == 3
    assert next(b for b in at.button if b.label == "Save thresholds").disabled  # nothing moved


def test_a_slider_previews_sizes_and_only_save_writes_the_rules(
    seeded_db_url, tmp_path, monkeypatch
):
    url = _copy(seeded_db_url, tmp_path)
    at = _page(url, SEGMENTS, monkeypatch)
    before = _metric(at, "High-value customers size")
    _slider(at, "high_value").set_value(40.0).run()
    assert not at.exception, [e.value for e in at.exception]
    after = _metric(at, "High-value customers size")
    assert int(after.replace(",", "")) > int(before.replace(",", ""))
    delta = next(m for m in at.metric if m.label == "High-value customers size").delta
    assert delta == f"{int(after.replace(',', '')) - int(before.replace(',', '')):+,}"

    engine = _engine(url)
    try:
        with session_scope(engine) as session:
            assert load_rules(session)["high_value"] == Rule("lifetime_value", 80.0)
        save = next(b for b in at.button if b.label == "Save thresholds")
        assert not save.disabled
        save.click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert "Thresholds saved" in at.success[0].value
        with session_scope(engine) as session:
            rules = load_rules(session)
    finally:
        engine.dispose()
    assert rules["high_value"] == Rule("lifetime_value", 40.0)
    assert rules["night_owl"] == DEFAULT_RULES["night_owl"]
    # after saving, the saved size is the previewed one: no delta left
    assert _metric(at, "High-value customers size") == after
    assert not next(m for m in at.metric if m.label == "High-value customers size").delta


def test_minimum_evidence_is_edited_beside_the_rules(seeded_db_url, tmp_path, monkeypatch):
    url = _copy(seeded_db_url, tmp_path)
    at = _page(url, SEGMENTS, monkeypatch)
    assert int(_metric(at, "Brand loyalists size").replace(",", "")) > 0
    box = next(n for n in at.number_input if n.key == "segments_min_evidence_brand_loyalty")
    assert box.value == MIN_EVIDENCE["brand_loyalty"]
    save = next(b for b in at.button if b.label == "Save minimums")
    assert save.disabled
    box.set_value(10_000).run()
    next(b for b in at.button if b.label == "Save minimums").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Minimum evidence saved" in at.success[0].value
    engine = _engine(url)
    try:
        with session_scope(engine) as session:
            assert load_min_evidence(session)["brand_loyalty"] == 10_000
            assert load_min_evidence(session)["night_shopping"] == MIN_EVIDENCE["night_shopping"]
    finally:
        engine.dispose()
    # Nobody has that much evidence: nobody is brand loyal any more.
    assert _metric(at, "Brand loyalists size") == "0"


def test_the_csv_download_holds_exactly_the_segments_members(seeded_db_url, monkeypatch):
    downloads: list[tuple[bytes, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        downloads.append((path_or_data, filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at = _page(seeded_db_url, SEGMENTS, monkeypatch)
    segment = at.selectbox[1].value
    engine = _engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            profiles = compute_profiles(session, as_of=_as_of(at))
    finally:
        engine.dispose()
    expected = sorted(
        profiles.loc[profiles["segments"].str.split(";").map(lambda s: segment in s), "customer_id"]
    )
    assert expected
    ((csv, _),) = [d for d in downloads if d[1] == f"{segment}_members.csv"]
    frame = pd.read_csv(io.BytesIO(csv), dtype={"customer_id": str})
    assert list(frame.columns) == ["customer_id", "segment", *SCORES]
    assert frame["customer_id"].tolist() == expected
    assert set(frame["segment"]) == {segment}


def test_an_empty_store_shows_the_guidance(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).dispose()
    for page in (PROFILE, SEGMENTS):
        at = _page(url, page, monkeypatch)
        assert "The store is empty" in " ".join(info.value for info in at.info)
        assert not at.slider and not at.metric


def test_both_pages_render_on_the_small_hand_made_store(tmp_path, monkeypatch):
    url = build_small_store(f"sqlite:///{tmp_path / 'small.db'}")
    for page in (PROFILE, SEGMENTS):
        _page(url, page, monkeypatch)  # asserts no exception and no error box


def test_a_store_without_customers_says_so(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    engine = open_store(url)
    with session_scope(engine) as session:
        session.add(Product(product_id="p1", category="shoes"))
    engine.dispose()
    for page in (PROFILE, SEGMENTS):
        at = _page(url, page, monkeypatch)
        assert "No customer has an order, event or review" in at.info[0].value
        assert not at.slider and not at.get("plotly_chart")


# --- helpers, with hand-worked answers ---------------------------------------------------


def _toy_profiles() -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"]})
    for score in SCORES:
        frame[score] = 10.0
    frame["lifetime_value"] = [95.0, 85.0, 75.0, 10.0]
    frame["night_shopping"] = [90.0, 10.0, 70.0, 10.0]
    frame["top_category"] = None
    frame["category_share"] = 0.0
    frame["interest_events"] = 0
    return frame


def test_size_comparison_counts_now_and_preview():
    rules = dict(DEFAULT_RULES)
    sizes = size_comparison(_toy_profiles(), rules, {"high_value": 70.0}).set_index("segment")
    assert sizes.loc["high_value"].tolist() == [2, 3, 1]  # a, b now; a, b, c with 70
    assert sizes.loc["night_owl"].tolist() == [2, 2, 0]
    assert sizes.loc["researcher"].tolist() == [0, 0, 0]


def test_overlap_matrix_and_member_csv():
    profiles = _toy_profiles()
    members = assign_segments(profiles, DEFAULT_RULES)
    matrix = overlap_matrix(members)
    assert matrix.loc["high_value", "night_owl"] == matrix.loc["night_owl", "high_value"] == 1
    assert matrix.loc["high_value", "high_value"] == 2
    assert matrix.loc["night_owl", "night_owl"] == 2
    csv = members_csv(member_table(profiles, members, "night_owl")).decode().splitlines()
    assert csv[0] == "customer_id,segment," + ",".join(SCORES)
    assert [line.split(",")[:3] for line in csv[1:]] == [
        ["a", "night_owl", "95.0"],
        ["c", "night_owl", "75.0"],
    ]


def test_store_strings_are_literal_in_markdown():
    hostile = "![x](http://evil.example/x.png) :red[big] $x$ <img src=x>"
    shown = ui.md(hostile)
    # Every character Markdown or Streamlit would act on is escaped.
    assert re.findall(r"(?<!\\)[!\[\]()<>:$]", shown) == []
    # Backslash escapes and invisible word joiners (no autolink) only: the reader still
    # sees every character.
    assert shown.replace("\\", "").replace("\u2060", "") == hostile
    assert "http\u2060" in shown and "@\u2060" in ui.md("a@b.c")

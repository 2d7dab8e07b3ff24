"""Start here: the first page, five steps, each a link with the example's choices; links
and reloads carry the followed customer into every page (``?customer=``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.sidebar import SHARE_KEY

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"


def _app(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    return AppTest.from_file(str(APP), default_timeout=120)


def _links(at: AppTest) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [
        (Path(e.proto.page).stem, e.proto.label, parse_qs(e.proto.query_string))
        for e in at.get("page_link")
    ]


def test_the_tour_is_the_first_page_and_every_step_links_with_its_choices(
    seeded_db_url, monkeypatch
):
    at = _app(seeded_db_url, monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Start here"
    headings = " ".join(m.value for m in at.markdown)
    for step in (
        "1 · The store at a glance",
        "2 · Meet three customers",
        "3 · What each is shown",
        "4 · Who is about to buy",
        "5 · A campaign audience",
    ):
        assert step in headings
    links = _links(at)
    profiles = [q["customer"][0] for page, _, q in links if page == "customer_profile"]
    assert len(set(profiles)) == 3  # three different customers
    compared = [q for page, _, q in links if page == "recommendations"]
    assert [q["customer"][0] for q in compared] == profiles
    assert all(
        (q["weather_a"], q["time_a"], q["weather_b"], q["time_b"])
        == (["rainy"], ["evening"], ["sunny"], ["morning"])
        for q in compared
    )
    assert len([1 for page, _, q in links if page == "predictions" and "customer" in q]) == 2
    audience = [q for page, _, q in links if page == "audiences"]
    assert audience and "p_buy_30d" in audience[0]["rule"][0]


def test_a_linked_customer_and_contexts_are_picked_up_by_the_pages(seeded_db_url, monkeypatch):
    at = _app(seeded_db_url, monkeypatch).run()
    customer = next(q["customer"][0] for page, _, q in _links(at) if page == "recommendations")
    at.query_params.update(
        {
            "customer": customer,
            "weather_a": "rainy",
            "time_a": "evening",
            "weather_b": "sunny",
            "time_b": "morning",
        }
    )
    at.switch_page("../pages/recommendations.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="recommendations_customer").value == customer
    assert at.selectbox(key="recommendations_first_weather").value == "rainy"
    assert at.selectbox(key="recommendations_first_time_of_day").value == "evening"
    assert at.selectbox(key="recommendations_second_weather").value == "sunny"
    # The same customer follows to the other pages (the address is cleared on a switch).
    for page, key in (
        ("customer_profile", "profile_customer"),
        ("predictions", "predictions_customer"),
    ):
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.selectbox(key=key).value == customer
        assert at.query_params["customer"] in (customer, [customer])  # and in the address


def test_pickers_search_names_and_ids_in_any_case(seeded_db_url, monkeypatch):
    at = _app(seeded_db_url, monkeypatch).run()
    at.switch_page("../pages/customer_profile.py").run()
    picker = at.selectbox(key="profile_customer")
    chosen = picker.options[3]  # "c00042 · Jane Doe"
    customer_id, _, name = chosen.partition(" · ")
    for text in (customer_id.upper(), name.lower().split()[-1] if name else customer_id):
        at.text_input(key="profile_customer_search").set_value(text).run()
        assert not at.exception
        assert any(customer_id in option for option in at.selectbox(key="profile_customer").options)


def test_a_link_to_an_unknown_customer_says_so_and_shows_another(seeded_db_url, monkeypatch):
    at = _app(seeded_db_url, monkeypatch)
    at.query_params["customer"] = "NOBODY-42"
    at.run()
    at.switch_page("../pages/customer_profile.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("NOBODY-42" in c.value and "showing another" in c.value for c in at.caption)
    assert at.selectbox(key="profile_customer").value != "NOBODY-42"


def test_the_sidebar_shares_a_link_to_the_current_view(seeded_db_url, monkeypatch):
    at = _app(seeded_db_url, monkeypatch).run()
    at.switch_page("../pages/customer_profile.py").run()
    customer = at.selectbox(key="profile_customer").options[2].split(" · ")[0]
    at.text_input(key="profile_customer_search").set_value(customer.lower()).run()
    assert at.selectbox(key="profile_customer").value == customer
    assert not at.sidebar.code  # drawn only while the panel is open
    at.session_state[SHARE_KEY] = True  # what opening "Share this view" does
    link = at.run().sidebar.code[0].value
    query = parse_qs(link.partition("?")[2])
    assert query["customer"] == [customer] and len(query["as_of"][0]) == 10


@pytest.mark.slow
def test_the_tour_works_on_an_imported_real_store(imported_sample, tmp_path, monkeypatch):
    _, imported = imported_sample("dunnhumby")  # its orders and products, imported once
    copy = shutil.copy(imported, tmp_path / "store.db")  # the app may write its settings
    at = _app(f"sqlite:///{copy}", monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    links = _links(at)
    assert len({q["customer"][0] for page, _, q in links if page == "customer_profile"}) == 3
    assert [page for page, _, _ in links].count("recommendations") == 3


def test_the_campaign_step_opens_audiences_with_its_rule(seeded_db_url, monkeypatch):
    at = _app(seeded_db_url, monkeypatch).run()
    rule = next(q["rule"][0] for page, _, q in _links(at) if page == "audiences")
    at.query_params["rule"] = rule
    at.switch_page("../pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_area(key="audiences_rule").value == rule
    assert not at.error

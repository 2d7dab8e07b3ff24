"""Every page of the dashboard runs under AppTest: on a seeded store, an empty one, a broken URL."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import ui
from dashboard.sidebar import AS_OF_KEY
from engine.db import open_store, session_scope
from engine.models import Product
from engine.overview import overview_kpis

from .factories import build_small_store, orders_before_end_of

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGE_FILES = sorted(p for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py")


def _app(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", url)
    return AppTest.from_file(str(APP), default_timeout=60)


def _overview(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app opened on the Store overview (the first page is the tour)."""
    at = _app(url, monkeypatch).run()
    return at.switch_page("../pages/overview.py").run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


@pytest.fixture
def small_url(tmp_path: Path) -> str:
    return build_small_store(f"sqlite:///{tmp_path / 'small.db'}")


@pytest.fixture
def seeded_url(request: pytest.FixtureRequest, small_url: str) -> str:
    """The seed's small market where the seed package provides it, else the hand-made store."""
    try:
        return request.getfixturevalue("seeded_db_url")
    except pytest.FixtureLookupError:
        return small_url


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.stem)
def test_every_page_renders_on_a_seeded_store(seeded_url, monkeypatch, page):
    at = _app(seeded_url, monkeypatch).run()
    at.switch_page(str(Path("..") / "pages" / page.name)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.stem)
def test_every_page_renders_on_an_empty_store(tmp_path, monkeypatch, page):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).dispose()
    at = _app(url, monkeypatch).run()
    at.switch_page(str(Path("..") / "pages" / page.name)).run()
    assert not at.exception, [e.value for e in at.exception]
    guidance = " ".join(info.value for info in at.info)
    assert "The store is empty" in guidance and "demo market" in guidance
    assert "personalize " not in guidance and "`" not in guidance  # no command line
    assert not at.metric


def test_overview_kpis_are_the_engines(seeded_url, monkeypatch):
    at = _overview(seeded_url, monkeypatch)
    assert not at.exception
    chosen = at.session_state[AS_OF_KEY]
    engine = open_store(seeded_url)
    try:
        with session_scope(engine) as session:
            # "As of" day D means: strictly before the next midnight.
            kpis = overview_kpis(
                session, as_of=datetime.combine(chosen + timedelta(days=1), time())
            )
    finally:
        engine.dispose()
    assert _metrics(at) == {
        "Active customers": ui.fmt_count(kpis.customers),
        "Products": ui.fmt_count(kpis.products),
        "Orders": ui.fmt_count(kpis.orders),
        "Revenue": ui.fmt_money(kpis.revenue),
        "Avg order value": ui.fmt_money(kpis.average_order_value),
        "Events": ui.fmt_count(kpis.events),
    }
    titles = _chart_titles(at)
    assert [t.split(" per ")[0] for t in titles] == [
        "Orders and revenue",
        "Events",
        "Channel mix",
        "Top categories by revenue",
    ]


def _chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_overview_tabs_draw_only_the_open_chart(seeded_url, monkeypatch):
    at = _overview(seeded_url, monkeypatch)
    drawn = set(_chart_titles(at))
    for key, label, title in (
        ("overview_mix_tab", "Devices", "Device mix"),
        ("overview_mix_tab", "Weather", "Orders by weather"),
        ("overview_sellers_tab", "Top brands", "Top brands by revenue"),
    ):
        at.session_state[key] = label  # what a click on that tab does
        titles = _chart_titles(at.run())
        assert not at.exception and len(titles) == 4 and title in titles
        drawn |= set(titles)
    assert len(drawn) == 7  # every chart of the page, one tab at a time


def test_sidebar_shows_the_store_and_defaults_to_its_newest_day(small_url, monkeypatch):
    at = _overview(small_url, monkeypatch)
    sidebar_text = " ".join(c.value for c in at.sidebar.caption)
    assert "SQLite file small.db" in sidebar_text and "sqlite:" not in sidebar_text
    assert "2024-03-01 to 2024-03-10" in sidebar_text
    assert at.sidebar.date_input[0].value == date(2024, 3, 10)
    orders, revenue = orders_before_end_of(9)
    assert _metrics(at)["Orders"] == str(orders) == "10"
    assert _metrics(at)["Revenue"] == ui.fmt_money(revenue) == "$550.00"


def test_changing_the_as_of_date_changes_the_kpis(small_url, monkeypatch):
    at = _overview(small_url, monkeypatch)
    at.sidebar.date_input[0].set_value(date(2024, 3, 3)).run()
    assert not at.exception
    # As of the end of 2024-03-03: the orders of days 0, 1, 2 (1 + 2 + 3 units at 10.00).
    orders, revenue = orders_before_end_of(2)
    metrics = _metrics(at)
    assert (metrics["Orders"], metrics["Revenue"]) == (str(orders), ui.fmt_money(revenue))
    assert (metrics["Orders"], metrics["Revenue"], metrics["Events"]) == ("3", "$60.00", "3")
    assert metrics["Avg order value"] == "$20.00"


def test_a_store_that_cannot_be_opened_is_an_error_message(monkeypatch):
    at = _app("postgresql+psycopg://nobody@127.0.0.1:1/nothing", monkeypatch).run()
    assert not at.exception
    assert "Cannot open the store" in at.error[0].value


def test_a_catalogue_without_orders_shows_empty_charts_not_errors(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    engine = open_store(url)
    with session_scope(engine) as session:
        session.add(Product(product_id="p1", category="shoes"))
    engine.dispose()
    at = _overview(url, monkeypatch)
    assert not at.exception
    assert _metrics(at)["Products"] == "1" and _metrics(at)["Orders"] == "0"
    assert "No orders yet." in [caption.value for caption in at.caption]
    assert not at.get("plotly_chart")

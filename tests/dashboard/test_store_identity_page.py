"""The dashboard wears the store's identity: tab title, page headers, money, sidebar."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from dashboard.sidebar import backend_label
from engine.db import make_engine
from engine.store_settings import save_identity

from .factories import build_small_store

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def named_url(tmp_path: Path) -> str:
    url = build_small_store(f"sqlite:///{tmp_path / 'corner.db'}")
    engine = make_engine(url)
    save_identity(engine, name="Corner shop", currency="EUR", timezone="Europe/Paris")
    engine.dispose()
    return url


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_tab_header_money_and_sidebar_use_the_store_identity(named_url, monkeypatch):
    titles: list[str] = []
    original = streamlit.set_page_config

    def recording(*args, **kwargs):
        if kwargs.get("page_title"):
            titles.append(kwargs["page_title"])
        return original(*args, **kwargs)

    monkeypatch.setattr(streamlit, "set_page_config", recording)
    monkeypatch.setenv("PERSONALIZE_DATABASE_URL", named_url)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("../pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert titles[-1] == "Corner shop"  # the browser tab
    assert "Corner shop" in _texts(at.main.caption)  # the page header
    revenue = next(m for m in at.metric if m.label.lower().startswith("revenue"))
    assert revenue.value.startswith("€"), revenue.value
    sidebar = (
        _texts(at.sidebar.subheader) + _texts(at.sidebar.caption) + _texts(at.sidebar.markdown)
    )
    assert "Corner shop" in sidebar and "SQLite file corner.db" in sidebar
    assert "sqlite:" not in sidebar and str(Path(named_url[10:]).parent) not in sidebar


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("sqlite:////srv/shop/store.db", "SQLite file store.db"),
        ("sqlite://", "SQLite in memory"),
        ("postgresql+psycopg://ana:s3cret@db.example:5432/shop", "PostgreSQL on db.example/shop"),
        ("postgresql://ana:s3cret@/shop?host=/run/pg", "PostgreSQL on shop"),
        ("not a url", "unknown database"),
    ],
)
def test_the_backend_is_named_without_paths_users_or_passwords(url, label):
    assert backend_label(url) == label
    assert "s3cret" not in backend_label(url) and "ana" not in backend_label(url)

"""The settings follow the environment at every call, though they are built once per
environment, and each call's object is the caller's own."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.config import get_settings


def test_a_changed_variable_takes_effect_at_the_next_call(monkeypatch, tmp_path):
    monkeypatch.setenv("PERSONALIZE_FUTURE_TOLERANCE_DAYS", "2")
    assert get_settings().future_tolerance_days == 2
    monkeypatch.setenv("PERSONALIZE_FUTURE_TOLERANCE_DAYS", "5")
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    settings = get_settings()
    assert settings.future_tolerance_days == 5 and settings.data_dir == tmp_path
    monkeypatch.delenv("PERSONALIZE_FUTURE_TOLERANCE_DAYS")
    assert get_settings().future_tolerance_days == 1.0


def test_each_call_gives_an_object_of_its_own(monkeypatch):
    monkeypatch.setenv("PERSONALIZE_SEED", "3")
    mine = get_settings()
    mine.seed = 99
    assert get_settings().seed == 3


def test_a_variable_in_lower_case_counts_too(monkeypatch):
    # pydantic-settings matches names case-insensitively; the cache must follow it.
    assert get_settings().future_tolerance_days == 1.0
    monkeypatch.setenv("personalize_future_tolerance_days", "4")
    assert get_settings().future_tolerance_days == 4


def test_the_quick_paths_read_what_the_settings_object_would(monkeypatch, tmp_path):
    """``personalize info`` reads the store's URL and the plausible window without
    pydantic while the environment sets none of them: the answers are the same."""
    from engine.db import resolve_url
    from engine.timeutil import plausible_window

    now = datetime(2030, 1, 1)

    def settings_window() -> tuple[datetime, datetime]:
        settings = get_settings()
        return settings.earliest_date, now + timedelta(days=settings.future_tolerance_days)

    monkeypatch.delenv("PERSONALIZE_DATA_DIR", raising=False)
    assert resolve_url() == get_settings().resolved_database_url
    assert resolve_url().endswith("/personalize/store.db")
    assert (
        plausible_window(now) == settings_window() == (datetime(1970, 1, 1), datetime(2030, 1, 2))
    )
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    assert (
        resolve_url()
        == get_settings().resolved_database_url
        == (f"sqlite:///{tmp_path / 'store.db'}")
    )
    monkeypatch.setenv("Personalize_Earliest_Date", "2001-02-03")
    monkeypatch.setenv("PERSONALIZE_FUTURE_TOLERANCE_DAYS", "3")
    assert (
        plausible_window(now) == settings_window() == (datetime(2001, 2, 3), datetime(2030, 1, 4))
    )


def test_a_bad_window_variable_is_still_refused(monkeypatch):
    from pydantic import ValidationError

    from engine.timeutil import plausible_window

    monkeypatch.setenv("PERSONALIZE_FUTURE_TOLERANCE_DAYS", "-1")
    with pytest.raises(ValidationError):
        plausible_window()

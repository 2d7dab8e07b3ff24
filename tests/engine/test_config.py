"""The settings follow the environment at every call, though they are built once per
environment, and each call's object is the caller's own."""

from __future__ import annotations

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

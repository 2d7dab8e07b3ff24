"""The store's identity: defaults, validation, one row written, seeded name, migration."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.currency import format_money, validate_currency
from engine.db import make_engine, session_scope, upgrade_schema
from engine.errors import UserError
from engine.store_settings import (
    DEFAULT_IDENTITY,
    StoreSettings,
    read_identity,
    save_identity,
    validate_timezone,
)


def test_a_new_store_reads_the_defaults(store):
    with session_scope(store) as session:
        identity = read_identity(session)
    assert identity == DEFAULT_IDENTITY and identity.is_default
    assert (identity.currency, identity.timezone) == ("USD", "UTC")


def test_saving_merges_fields_into_one_row(store):
    save_identity(store, name="Corner shop", currency="gbp")
    saved = save_identity(store, timezone="europe/london", description="  Fresh\nbread  ")
    with session_scope(store) as session:
        assert session.scalar(select(func.count()).select_from(StoreSettings)) == 1
        identity = read_identity(session)
    assert identity == saved
    assert (identity.name, identity.currency, identity.timezone, identity.description) == (
        "Corner shop",
        "GBP",
        "Europe/London",
        "Fresh bread",
    )
    assert not identity.is_default


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("currency", "usx", ["invalid currency 'usx'", "USD", "such as USD, EUR, GBP"]),
        ("currency", "", ["invalid currency"]),
        ("timezone", "Europe/Londn", ["invalid time zone", "Europe/London", "IANA"]),
        ("name", "   ", ["invalid store name", "empty"]),
        ("name", "x" * 101, ["at most 100"]),
        ("name", "bad\x00name", ["control characters"]),
    ],
)
def test_a_bad_value_is_one_line_naming_what_is_valid_and_writes_nothing(
    sqlite_store, field, value, words
):
    with pytest.raises(UserError) as caught:
        save_identity(sqlite_store, **{field: value})
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    with session_scope(sqlite_store) as session:
        assert read_identity(session).is_default


def test_validators_normalise_spelling():
    assert validate_currency(" eur ") == "EUR"
    assert validate_timezone("asia/tokyo") == "Asia/Tokyo"
    assert validate_timezone("UTC") == "UTC"


@pytest.mark.parametrize(
    ("value", "currency", "short", "text"),
    [
        (1234.5, "USD", False, "$1,234.50"),
        (-3.2, "EUR", False, "-€3.20"),
        (1234.4, "JPY", False, "¥1,234"),
        (1234.5, "CHF", False, "1,234.50 CHF"),
        (1.5, "KWD", False, "1.500 KWD"),
        (434495.1, "GBP", True, "£434.5k"),
        (3623456, "USD", True, "$3.62M"),
        (None, "USD", False, "-"),
    ],
)
def test_money_is_written_in_the_store_currency(value, currency, short, text):
    assert format_money(value, currency, short=short) == text


def test_the_seed_names_the_store(seeded_db_url):
    engine = make_engine(seeded_db_url)
    try:
        with session_scope(engine) as session:
            identity = read_identity(session)
    finally:
        engine.dispose()
    assert identity.name == "The Final Market"
    assert identity.currency == "USD" and identity.description
    assert not identity.is_default


def test_0007_upgrades_an_old_store_to_defaults(tmp_path):
    from alembic import command
    from alembic.config import Config

    from engine.db import MIGRATIONS_DIR

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0006")
    with session_scope(engine) as session:
        assert read_identity(session) == DEFAULT_IDENTITY  # no table yet: still the defaults
    upgrade_schema(engine)
    save_identity(engine, name="Upgraded")
    with session_scope(engine) as session:
        assert read_identity(session).name == "Upgraded"
    engine.dispose()

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from engine.db import mask_url, open_store, session_scope, upgrade_schema
from engine.errors import UserError
from engine.models import Customer
from engine.store import store_summary


def test_open_store_creates_every_table(store):
    tables = set(inspect(store).get_table_names())
    assert {
        "customers",
        "products",
        "orders",
        "order_lines",
        "events",
        "reviews",
        "profiles",
        "segment_memberships",
        "alembic_version",
    } <= tables
    assert "recommendations" not in tables  # dropped by revision 0006: nothing used it


def test_upgrade_is_idempotent_and_keeps_rows(store):
    with session_scope(store) as session:
        session.add(Customer(customer_id="c1", name="Ada"))
    upgrade_schema(store)
    with session_scope(store) as session:
        assert session.scalars(select(Customer.customer_id)).all() == ["c1"]


def test_empty_store_summary(store):
    with session_scope(store) as session:
        summary = store_summary(session)
    assert summary.is_empty
    assert summary.first_activity is None


def test_session_scope_rolls_back_on_error(store):
    with pytest.raises(RuntimeError), session_scope(store) as session:
        session.add(Customer(customer_id="c1"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(store) as session:
        assert session.scalar(select(Customer.customer_id)) is None


def test_mask_url_hides_password():
    assert mask_url("postgresql+psycopg://alice:s3cret@db/store") == (
        "postgresql+psycopg://alice:***@db/store"
    )


@pytest.mark.parametrize("url", ["nonsense", "mysql+nodriver://x/y"])
def test_bad_url_is_a_user_error(url):
    with pytest.raises(UserError):
        open_store(url)


def test_the_head_revision_read_from_files_is_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from engine.db import MIGRATIONS_DIR, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()

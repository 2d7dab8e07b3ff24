"""Alembic environment: runs on the connection handed over by ``engine.db.upgrade_schema``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import engine.store_settings  # noqa: F401 - registers store_settings on the metadata
from engine.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # the `alembic` command line, e.g. for `revision --autogenerate`
        from engine.db import resolve_url

        url = context.config.get_main_option("sqlalchemy.url") or resolve_url()
        with create_engine(url).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

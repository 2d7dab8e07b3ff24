"""activity flags, covering indexes, profile statistics and score calibrations

* ``events`` and ``orders`` gain generated 0/1 columns ``at_weekend``, ``at_night``
  and ``on_mobile`` (computed once when a row is written) and covering indexes
  that batch scoring reads in customer order;
* ``profile_stats`` holds each profile's sufficient statistics as typed columns,
  ``score_calibrations`` the store-level values of each scoring run; both used to
  live in the free-form ``profiles.details`` document, which is converted and dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 08:30:00
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from alembic import op

from engine.models import activity_flag

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FLAGS = (("at_weekend", "weekend"), ("at_night", "night"), ("on_mobile", "mobile"))
_COUNTS = (
    "orders",
    "orders_365",
    "lines",
    "disc_lines",
    "branded_lines",
    "top2_lines",
    "viewed_lines",
    "quick_lines",
    "views",
    "searches",
    "activity",
    "weekend",
    "night",
    "mobile",
    "reviews",
    "interest_events",
)
_FLOATS = ("spend", "rating_wsum", "rating_w", "interest_total", "top_interest")


def _flag_columns(timestamp: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(
            name, sa.SmallInteger(), sa.Computed(activity_flag(flag, timestamp), persisted=True)
        )
        for name, flag in _FLAGS
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite cannot ADD a stored generated column: the batch copies the table, with
    # foreign keys off while the copy takes the old table's name (the procedure SQLite
    # documents for ALTER; a no-op inside a transaction, where the tables are empty).
    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    if sqlite:
        op.execute("PRAGMA foreign_keys = OFF")
    try:
        _upgrade(recreate)
    finally:
        if sqlite:
            op.execute("PRAGMA foreign_keys = ON")


_COVERING = {
    "events": (
        "occurred_at",
        "ix_events_customer_time",
        "ix_events_customer_activity",
        [
            "customer_id",
            "product_id",
            "event_type",
            "occurred_at",
            "at_weekend",
            "at_night",
            "on_mobile",
        ],
    ),
    "orders": (
        "ordered_at",
        "ix_orders_customer_time",
        "ix_orders_customer_activity",
        ["customer_id", "ordered_at", "at_weekend", "at_night", "on_mobile", "order_id"],
    ),
}
"""Per table: its timestamp, the index replaced, the covering index and its columns."""


def _upgrade(recreate: Literal["always", "auto"]) -> None:
    for table, (timestamp, old_index, new_index, columns) in _COVERING.items():
        with op.batch_alter_table(table, recreate=recreate) as batch_op:
            for column in _flag_columns(timestamp):
                batch_op.add_column(column)
            batch_op.drop_index(old_index)
            batch_op.create_index(new_index, columns, unique=False)

    op.create_table(
        "score_calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_calibrations")),
    )
    op.create_table(
        "profile_stats",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        *(sa.Column(name, sa.Float(), nullable=False) for name in _FLOATS),
        sa.Column("top_category", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_profile_stats_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_profile_stats")),
    )
    details = _read_details()
    with op.batch_alter_table("profiles") as batch_op:
        batch_op.add_column(sa.Column("calibration_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_profiles_calibration_id_score_calibrations"),
            "score_calibrations",
            ["calibration_id"],
            ["id"],
        )
        batch_op.drop_column("details")
    _convert(details)


def _read_details() -> list[tuple[str, datetime, datetime, Any]]:
    rows = (
        op.get_bind()
        .execute(sa.text("SELECT customer_id, as_of, computed_at, details FROM profiles"))
        .all()
    )
    return [(r[0], r[1], r[2], json.loads(r[3]) if isinstance(r[3], str) else r[3]) for r in rows]


def _convert(rows: list[tuple[str, datetime, datetime, Any]]) -> None:
    """Move each stored profile's statistics and calibration out of ``details``."""
    usable = [r for r in rows if isinstance(r[3], dict) and "stats" in r[3]]
    if not usable:
        return
    bind = op.get_bind()
    newest = max(usable, key=lambda r: r[2])
    calibrations = sa.table(
        "score_calibrations",
        sa.column("as_of"),
        sa.column("computed_at"),
        sa.column("reference", sa.JSON()),
    )
    bind.execute(
        calibrations.insert().values(
            as_of=newest[1], computed_at=newest[2], reference=newest[3].get("calibration") or {}
        )
    )
    calibration_id = bind.execute(sa.text("SELECT max(id) FROM score_calibrations")).scalar()
    bind.execute(sa.text("UPDATE profiles SET calibration_id = :id"), {"id": calibration_id})
    stats = sa.table(
        "profile_stats",
        *(sa.column(c) for c in ("customer_id", "as_of", *_COUNTS, *_FLOATS, "top_category")),
    )
    bind.execute(
        stats.insert(),
        [
            {
                "customer_id": cid,
                "as_of": as_of,
                "top_category": doc["stats"].get("top_category"),
                **{c: int(doc["stats"].get(c, 0)) for c in _COUNTS},
                **{c: float(doc["stats"].get(c, 0.0)) for c in _FLOATS},
            }
            for cid, as_of, _, doc in usable
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_profiles_calibration_id_score_calibrations"), type_="foreignkey"
        )
        batch_op.drop_column("calibration_id")
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    op.drop_table("profile_stats")
    op.drop_table("score_calibrations")
    sqlite = op.get_bind().dialect.name == "sqlite"
    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    if sqlite:
        op.execute("PRAGMA foreign_keys = OFF")
    for table, (timestamp, old_index, new_index, _) in _COVERING.items():
        with op.batch_alter_table(table, recreate=recreate) as batch_op:
            batch_op.drop_index(new_index)
            batch_op.create_index(old_index, ["customer_id", timestamp], unique=False)
            for name, _ in _FLAGS:
                batch_op.drop_column(name)
    if sqlite:
        op.execute("PRAGMA foreign_keys = ON")

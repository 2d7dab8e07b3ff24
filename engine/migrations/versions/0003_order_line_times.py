"""order lines keep their own time

Real exports stamp each scanned line of one invoice at its own moment (a till
prints lines minutes apart). ``order_lines.ordered_at`` holds a line's own time;
NULL means "the order's time" (rows written before this revision, the seeded
market and tracked purchases, whose lines share one time). The order's
``ordered_at`` is its earliest line.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("ordered_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("ordered_at")

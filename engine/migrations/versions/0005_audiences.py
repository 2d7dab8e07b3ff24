"""Saved audiences

``audiences`` holds one row per audience saved by ``personalize audience define`` or the
dashboard's "Audiences" page: its name, its rule as text (re-evaluated at any "as of",
never stored as members) and when it was created and last changed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audiences")),
    )


def downgrade() -> None:
    op.drop_table("audiences")

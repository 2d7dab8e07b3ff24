"""Drop the unused ``recommendations`` table

Recommendations are computed when asked for (the CLI, the dashboard and the API fit
the blend and answer from it); nothing ever wrote or read stored ones.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("recommendations")


def downgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("context", sa.String(length=120), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_recommendations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.product_id"],
            name=op.f("fk_recommendations_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("customer_id", "context", "rank", name=op.f("pk_recommendations")),
    )

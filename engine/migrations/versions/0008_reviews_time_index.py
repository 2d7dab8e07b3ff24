"""Reviews by time

An index on ``reviews.reviewed_at``: the store's newest moment (the newest order, event or
review, read whenever tracking meets a new customer and by every "as of now") is then
three index look-ups; without it the newest review was a scan of every review.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reviews_reviewed_at", "reviews", ["reviewed_at"])


def downgrade() -> None:
    op.drop_index("ix_reviews_reviewed_at", table_name="reviews")

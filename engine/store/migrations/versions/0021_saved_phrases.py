"""saved_phrases: each user's 常用意见 (saved opinion phrases), capped in engine/people/phrases.py

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_phrases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "text", name="uq_saved_phrases_user_text"),
    )
    op.create_index("ix_saved_phrases_user_id", "saved_phrases", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_phrases_user_id", table_name="saved_phrases")
    op.drop_table("saved_phrases")

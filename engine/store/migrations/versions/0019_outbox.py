"""outbox: a step that leaves its automatic steps to a worker writes a row in its own transaction; the sweep
re-drives the rows whose job was lost

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redriven", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    op.create_index("ix_outbox_claimed_until", "outbox", ["claimed_until"])


def downgrade() -> None:
    op.drop_index("ix_outbox_claimed_until", table_name="outbox")
    op.drop_table("outbox")

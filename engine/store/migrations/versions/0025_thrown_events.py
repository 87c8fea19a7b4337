"""Messages and signals between cases: the thrown_events table, and signal waits beside message waits

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("message_waits") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="message"))
    op.create_table(
        "thrown_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("instance_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("element_id", sa.String(100), nullable=True),
        sa.Column("thrown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_thrown_events_instance_id", "thrown_events", ["instance_id"])
    op.create_index("ix_thrown_events_claimed_until", "thrown_events", ["claimed_until"])


def downgrade() -> None:
    op.drop_index("ix_thrown_events_claimed_until", table_name="thrown_events")
    op.drop_index("ix_thrown_events_instance_id", table_name="thrown_events")
    op.drop_table("thrown_events")
    with op.batch_alter_table("message_waits") as batch:
        batch.drop_column("kind")

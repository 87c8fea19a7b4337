"""Message correlation between cases: the message_waits table (a case's waiting message catch events and their keys)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_waits",
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("instance_id", BIG_ID, nullable=False),
        sa.Column("element_id", sa.String(100), nullable=False),
        sa.Column("message", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("task_id", "message"),
    )
    op.create_index("ix_message_waits_instance_id", "message_waits", ["instance_id"])
    op.create_index("ix_message_waits_message_key", "message_waits", ["message", "key", "instance_id"])


def downgrade() -> None:
    op.drop_index("ix_message_waits_message_key", table_name="message_waits")
    op.drop_index("ix_message_waits_instance_id", table_name="message_waits")
    op.drop_table("message_waits")

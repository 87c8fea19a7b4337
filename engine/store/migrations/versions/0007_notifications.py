"""notifications, incidents and task SLA

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SLA_OPEN = sa.text("state = 'ready' AND sla_stage < 4 AND (due_at IS NOT NULL OR warn_at IS NOT NULL)")
UNREAD = sa.text("read_at IS NULL")


def upgrade() -> None:
    # the SLA warning time of a user task (its `warnAt`), beside due_at; the SLA sweep's progress; 督办
    with op.batch_alter_table("human_tasks") as batch_op:
        batch_op.add_column(sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_stage", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sla_next_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("supervised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_tasks_sla", "human_tasks", ["sla_next_at"], postgresql_where=SLA_OPEN,
                    sqlite_where=SLA_OPEN)
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("instance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.ForeignKey("instances.id"),
                  nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("subject", "kind", "user_id", name="uq_notifications_once"),
    )
    op.create_index("ix_notifications_user", "notifications", ["user_id", "id"])
    op.create_index("ix_notifications_unread", "notifications", ["user_id", "id"], postgresql_where=UNREAD,
                    sqlite_where=UNREAD)


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_index("ix_tasks_sla", table_name="human_tasks")
    with op.batch_alter_table("human_tasks") as batch_op:
        for column in ("supervised_at", "sla_next_at", "sla_stage", "warn_at"):
            batch_op.drop_column(column)

"""task signers: co-signers added to a task (加签, before or after its holder), delegates who give it back (委派),
and the holder's submission held for the after-signers

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PROPOSED = sa.text("state = 'proposed'")


def upgrade() -> None:
    op.create_table(
        "task_signers",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("task_id", sa.String(36), sa.ForeignKey("human_tasks.id"), nullable=False),
        sa.Column("instance_id", BIG_ID, sa.ForeignKey("instances.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("opinion", sa.Text()),
        sa.Column("data", sa.JSON()),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_task_signers_task", "task_signers", ["task_id", "id"])
    op.create_index("ix_task_signers_user", "task_signers", ["user_id", "state", "task_id"])
    op.create_index("ix_task_signers_proposed", "task_signers", ["state", "id"], postgresql_where=PROPOSED,
                    sqlite_where=PROPOSED)
    op.create_table(
        "held_submissions",
        sa.Column("task_id", sa.String(36), sa.ForeignKey("human_tasks.id"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("held_submissions")
    op.drop_index("ix_task_signers_proposed", table_name="task_signers")
    op.drop_index("ix_task_signers_user", table_name="task_signers")
    op.drop_index("ix_task_signers_task", table_name="task_signers")
    op.drop_table("task_signers")

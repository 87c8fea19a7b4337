"""抄送 and 催办: the carbon_copies and urges tables, and the indexes of the 已办 and 我发起的 lists

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "carbon_copies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("instance_id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("element_id", sa.String(100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "instance_id", name="uq_carbon_copies_user_instance"),
    )
    op.create_index("ix_carbon_copies_user", "carbon_copies", ["user_id", "id"])
    op.create_index("ix_carbon_copies_instance", "carbon_copies", ["instance_id", "id"])
    op.create_table(
        "urges",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("instance_id", BIG_ID, nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("workday", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["human_tasks.id"]),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "workday", name="uq_urges_task_workday"),
    )
    op.create_index("ix_urges_at", "urges", ["at"])
    op.create_index("ix_urges_instance_id", "urges", ["instance_id"])
    op.create_index("ix_instances_started_by", "instances", ["started_by", "id"])
    op.create_index("ix_tasks_completed_by", "human_tasks", ["completed_by", "completed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_completed_by", table_name="human_tasks")
    op.drop_index("ix_instances_started_by", table_name="instances")
    op.drop_index("ix_urges_instance_id", table_name="urges")
    op.drop_index("ix_urges_at", table_name="urges")
    op.drop_table("urges")
    op.drop_index("ix_carbon_copies_instance", table_name="carbon_copies")
    op.drop_index("ix_carbon_copies_user", table_name="carbon_copies")
    op.drop_table("carbon_copies")

"""documents issued to applicants

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("instance_id", _ID, sa.ForeignKey("instances.id"), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("element_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("office", sa.String(200), nullable=False),
        sa.Column("case_number", sa.String(40), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.UniqueConstraint("instance_id", "task_id", "name", name="uq_documents_issue"),
    )
    op.create_index("ix_documents_instance", "documents", ["instance_id", "name", "seq"])


def downgrade() -> None:
    op.drop_index("ix_documents_instance", table_name="documents")
    op.drop_table("documents")

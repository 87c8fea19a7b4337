"""draft uploads: files an applicant uploads before the case exists, bound to it on start

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:  # SQLite rebuilds the table; PostgreSQL alters it
        batch.alter_column("instance_id", existing_type=_ID, nullable=True)
    op.create_index("ix_attachments_drafts", "attachments", ["uploaded_by", "id"],
                    postgresql_where=sa.text("instance_id IS NULL"), sqlite_where=sa.text("instance_id IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_attachments_drafts", table_name="attachments")
    op.execute("DELETE FROM attachments WHERE instance_id IS NULL")
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("instance_id", existing_type=_ID, nullable=False)

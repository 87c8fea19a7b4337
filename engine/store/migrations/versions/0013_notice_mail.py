"""notice mail: users' e-mail addresses; notifications carry the state of their e-mail copy (the outbox)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PENDING = sa.text("mail_state = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("mail_state", sa.String(10), nullable=True))
        batch.add_column(sa.Column("mail_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("mail_next_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_notifications_mail", "notifications", ["mail_next_at"], postgresql_where=PENDING,
                    sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_notifications_mail", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("mail_next_at")
        batch.drop_column("mail_attempts")
        batch.drop_column("mail_state")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")

"""service attempts: a timers row is a timer event or a service task's next attempt

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="timer"))


def downgrade() -> None:
    op.execute("DELETE FROM timers WHERE kind = 'service'")
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("kind")

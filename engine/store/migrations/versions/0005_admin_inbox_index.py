"""admin inbox index: ready tasks by creation time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_READY = sa.text("state = 'ready'")


def upgrade() -> None:
    op.create_index("ix_tasks_ready_created", "human_tasks", ["created_at", "id"],
                    postgresql_where=_READY, sqlite_where=_READY)


def downgrade() -> None:
    op.drop_index("ix_tasks_ready_created", table_name="human_tasks")

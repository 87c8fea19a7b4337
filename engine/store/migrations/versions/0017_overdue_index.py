"""the overdue count of the metrics (tongban_tasks_overdue): an index on the ready tasks' due times

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

READY = sa.text("state = 'ready'")


def upgrade() -> None:
    op.create_index("ix_tasks_ready_due", "human_tasks", ["due_at", "process_key"], postgresql_where=READY,
                    sqlite_where=READY)


def downgrade() -> None:
    op.drop_index("ix_tasks_ready_due", table_name="human_tasks")

"""inbox and case-list indexes for a million open tasks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

`human_tasks.process_key` (the instance's, copied) lets the process filter use an index; the
case list reads instance ids per (role, organisation) and per assignee from two new indexes;
a task-name search lists names by (role, organisation) and then reads each name's tasks; on
PostgreSQL a pg_trgm GIN index answers `q` by case-number fragment.  pg_trgm is a trusted
extension (PostgreSQL 13+): the database owner may create it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_READY = sa.text("state = 'ready'")


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("process_key", sa.String(100), nullable=True))
    op.execute("UPDATE human_tasks SET process_key = "
               "(SELECT i.process_key FROM instances i WHERE i.id = human_tasks.instance_id)")
    op.create_index("ix_tasks_inbox_process", "human_tasks", ["role", "org_id", "process_key", "created_at", "id"],
                    postgresql_where=_READY, sqlite_where=_READY)
    op.create_index("ix_tasks_ready_process", "human_tasks", ["process_key", "created_at", "id"],
                    postgresql_where=_READY, sqlite_where=_READY)
    op.create_index("ix_tasks_scope_instance", "human_tasks", ["role", "org_id", "instance_id"])
    op.create_index("ix_tasks_assignee_instance", "human_tasks", ["assignee_id", "instance_id"])
    op.create_index("ix_tasks_inbox_name", "human_tasks", ["role", "org_id", "name", "created_at", "id"],
                    postgresql_where=_READY, sqlite_where=_READY)
    op.create_index("ix_tasks_ready_name", "human_tasks", ["name", "created_at", "id"],
                    postgresql_where=_READY, sqlite_where=_READY)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_instances_case_number_trgm", "instances", ["case_number"], postgresql_using="gin",
                        postgresql_ops={"case_number": "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_instances_case_number_trgm", table_name="instances")
    for name in ("ix_tasks_ready_name", "ix_tasks_inbox_name", "ix_tasks_assignee_instance",
                 "ix_tasks_scope_instance", "ix_tasks_ready_process", "ix_tasks_inbox_process"):
        op.drop_index(name, table_name="human_tasks")
    op.drop_column("human_tasks", "process_key")

"""case outcome: what a case came to (approved, refused, not accepted, withdrawn, lapsed, revoked, closed,
terminated), beside its status — set by the `outcome` property of the element that decides

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("outcome", sa.String(20), nullable=True))
    # cases an administrator terminated are known; for the others the element that decided was not recorded
    op.execute("UPDATE instances SET outcome = 'terminated' WHERE status = 'terminated' AND id IN "
               "(SELECT instance_id FROM events WHERE kind = 'terminated')")
    op.create_index("ix_instances_outcome", "instances", ["outcome", "id"])


def downgrade() -> None:
    op.drop_index("ix_instances_outcome", table_name="instances")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("outcome")

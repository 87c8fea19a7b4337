"""federated identities: a person at the district's identity platform (OIDC issuer + subject) linked to a
tongban user, with the organisation and roles their last login mapped to

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federated_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_org", sa.String(64), nullable=True),
        sa.Column("last_roles", sa.JSON(), nullable=True),
        sa.UniqueConstraint("issuer", "subject"),
        sa.UniqueConstraint("issuer", "user_id"),
    )
    op.create_index("ix_federated_identities_user_id", "federated_identities", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_federated_identities_user_id", table_name="federated_identities")
    op.drop_table("federated_identities")

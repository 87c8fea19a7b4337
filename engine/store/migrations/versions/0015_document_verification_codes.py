"""document verification codes: each issued document carries a short unguessable code that `GET /verify/{code}`
answers with its case number, title, issuing office and date; documents issued before get one here

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# engine/case/verification.py at the time of writing (a migration must not change when that module does)
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 16
BATCH = 1000

documents = sa.table("documents", sa.column("id", sa.BigInteger()), sa.column("verification_code", sa.String(16)))


def _codes(count: int, taken: set[str]) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("verification_code", sa.String(16), nullable=True))
    conn = op.get_bind()
    taken: set[str] = set()
    while ids := list(conn.execute(sa.select(documents.c.id).where(documents.c.verification_code.is_(None))
                                   .order_by(documents.c.id).limit(BATCH)).scalars()):
        conn.execute(documents.update().where(documents.c.id == sa.bindparam("doc_id"))
                     .values(verification_code=sa.bindparam("code")),
                     [{"doc_id": i, "code": c} for i, c in zip(ids, _codes(len(ids), taken), strict=True)])
    with op.batch_alter_table("documents") as batch:
        batch.alter_column("verification_code", existing_type=sa.String(16), nullable=False)
    op.create_index("ix_documents_verification_code", "documents", ["verification_code"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_documents_verification_code", table_name="documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("verification_code")

"""audit: keyed seal (HMAC algorithm and key id) and content digests on audit entries

Revision ID: 0003_audit_seal
Revises: 0001_foundation

Adding nullable columns fires no UPDATE trigger, so the append-only audit_event keeps its triggers;
existing entries keep alg NULL (their unkeyed SHA-256 stays verifiable).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_audit_seal"
down_revision = "0001_foundation"
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("alg", sa.String(length=40), nullable=True))
    op.add_column("audit_event", sa.Column("content", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("content")
        batch_op.drop_column("alg")

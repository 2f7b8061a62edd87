"""patrols: protocol versions (city requests) and their Interior/Defence decisions

Revision ID: 0002_patrols
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

import safecities.store.types

revision = "0002_patrols"
down_revision = "0001_foundation"
branch_labels = ("patrols",)
depends_on = None

_DT = safecities.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "patrol_protocol",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("city_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.String(length=10), nullable=False),
        sa.Column("period_end", sa.String(length=10), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", _DT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_id", "version", name="uq_patrol_protocol_version"),
    )
    with op.batch_alter_table("patrol_protocol", schema=None) as batch_op:
        batch_op.create_index("ix_patrol_protocol_city_id", ["city_id"], unique=False)
        batch_op.create_index("ix_patrol_protocol_sha256", ["sha256"], unique=False)
    op.create_table(
        "patrol_protocol_decision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", _DT, nullable=False),
        sa.ForeignKeyConstraint(["protocol_id"], ["patrol_protocol.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("patrol_protocol_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patrol_protocol_decision_protocol_id", ["protocol_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("patrol_protocol_decision")
    op.drop_table("patrol_protocol")

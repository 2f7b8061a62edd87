"""api: users, sessions and login attempts

Revision ID: 0002_api
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

import safecities.store.types

revision = "0002_api"
down_revision = "0001_foundation"
branch_labels = ("api",)
depends_on = None

_DT = safecities.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("municipality_id", sa.String(length=8), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        sa.Column("expires_at", _DT, nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["api_user.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_api_session_user_id", "api_session", ["user_id"])
    op.create_table(
        "api_login_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", _DT, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_login_attempt_name_at", "api_login_attempt", ["name", "at"])
    op.create_index("ix_api_login_attempt_client_at", "api_login_attempt", ["client", "at"])


def downgrade() -> None:
    op.drop_table("api_login_attempt")
    op.drop_index("ix_api_session_user_id", table_name="api_session")
    op.drop_table("api_session")
    op.drop_table("api_user")

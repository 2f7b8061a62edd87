"""cameras: the national CCTV register (cameras, history, duplicate candidates)

Revision ID: 0002_cameras
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

import safecities.store.types
from safecities.store.ddl import append_only, drop_append_only

revision = "0002_cameras"
down_revision = "0001_foundation"
branch_labels = ("cameras",)
depends_on = None

_TS = safecities.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "camera",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("municipality_id", sa.String(8), nullable=False),
        sa.Column("controller", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("place_kind", sa.String(32), nullable=False),
        sa.Column("mobility", sa.String(32), nullable=False),
        sa.Column("intelligent", sa.Boolean(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("viewing_location", sa.String(200), nullable=True),
        sa.Column("live_viewing", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("pictogram", sa.Boolean(), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("fov_direction", sa.Float(), nullable=True),
        sa.Column("fov_angle", sa.Float(), nullable=True),
        sa.Column("fov_range_m", sa.Float(), nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("cost_installation", sa.Float(), nullable=True),
        sa.Column("cost_connection", sa.Float(), nullable=True),
        sa.Column("cost_yearly", sa.Float(), nullable=True),
        sa.Column("source", sa.String(400), nullable=True),
        sa.Column("source_ref", sa.String(120), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
    )
    op.create_index("ix_camera_municipality_status", "camera", ["municipality_id", "status"])
    op.create_table(
        "camera_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(80), nullable=False),
        sa.Column("municipality_id", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_camera_history_camera_at", "camera_history", ["camera_id", "at"])
    op.create_table(
        "camera_duplicate",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("camera_a", sa.String(80), nullable=False),
        sa.Column("camera_b", sa.String(80), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("found_at", _TS, nullable=False),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.UniqueConstraint("camera_a", "camera_b", name="uq_camera_duplicate_pair"),
    )
    append_only("camera_history")


def downgrade() -> None:
    op.drop_table("camera_duplicate")
    drop_append_only("camera_history")
    op.drop_index("ix_camera_history_camera_at", "camera_history")
    op.drop_table("camera_history")
    op.drop_index("ix_camera_municipality_status", "camera")
    op.drop_table("camera")

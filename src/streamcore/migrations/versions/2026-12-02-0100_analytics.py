"""analytics: raw player events, views, pending views, (video, hour, rendition) rollups

Revision ID: 0010_analytics
Revises: 0009_webhooks
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_analytics"
down_revision: str | None = "0009_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STARTUP_BUCKETS = 22
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _counters() -> list[sa.Column]:  # type: ignore[type-arg]
    names = [
        "views", "viewers", "watch_ms", "startup_count", "startup_ms_sum", "rebuffer_count",
        "rebuffer_ms", "failures", "exits_before_start", "bytes_served", "segment_requests",
        *(f"startup_b{i}" for i in range(STARTUP_BUCKETS)),
    ]  # fmt: skip
    return [sa.Column(n, sa.BigInteger(), server_default="0", nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("viewer_hash", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("player_time", sa.Float(), nullable=False),
        sa.Column("rendition", sa.String(length=32), nullable=False),
        sa.Column("bitrate", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    op.create_index("ix_analytics_events_video_view", "analytics_events", ["video_id", "view_id"])
    op.create_index(op.f("ix_analytics_events_received_at"), "analytics_events", ["received_at"])
    op.create_table(
        "analytics_views",
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("viewer_hash", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("startup_ms", sa.BigInteger(), nullable=True),
        sa.Column("watch_ms", sa.BigInteger(), nullable=False),
        sa.Column("rebuffer_count", sa.Integer(), nullable=False),
        sa.Column("rebuffer_ms", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("exited_before_start", sa.Boolean(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.Column("renditions", sa.JSON(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("video_id", "view_id", name="pk_analytics_views"),
    )
    op.create_index("ix_analytics_views_video_hour", "analytics_views", ["video_id", "hour"])
    op.create_index(
        "ix_analytics_views_project_day", "analytics_views", ["project_id", "day", "viewer_hash"]
    )
    op.create_table(
        "analytics_pending",
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("video_id", "view_id", name="pk_analytics_pending"),
    )
    op.create_table(
        "analytics_rollups",
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rendition", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        *_counters(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("video_id", "hour", "rendition", name="pk_analytics_rollups"),
    )
    op.create_index(
        "ix_analytics_rollups_project_hour", "analytics_rollups", ["project_id", "hour"]
    )
    op.create_index("ix_analytics_rollups_video_hour", "analytics_rollups", ["video_id", "hour"])


def downgrade() -> None:
    op.drop_table("analytics_rollups")
    op.drop_table("analytics_pending")
    op.drop_table("analytics_views")
    op.drop_table("analytics_events")

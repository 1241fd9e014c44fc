"""Analytics tables: raw player events, one row per view (its summary), views waiting
to be folded, and the (video, hour, rendition) rollups that `GET /analytics` reads.

The rollup's startup-time histogram is a fixed set of integer columns (`startup_b0` ...),
so percentiles over any range come from one SQL SUM per bucket, not from parsing JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, UTCDateTime, utcnow

# Upper bounds (ms) of the startup-time buckets; the last bucket is everything above.
STARTUP_BUCKETS_MS: tuple[int, ...] = (
    50, 100, 150, 200, 300, 400, 500, 650, 800, 1000, 1250, 1500, 2000, 2500, 3000,
    4000, 5000, 7500, 10000, 15000, 30000,
)  # fmt: skip
STARTUP_COLUMNS: tuple[str, ...] = tuple(
    f"startup_b{i}" for i in range(len(STARTUP_BUCKETS_MS) + 1)
)

# Autoincrement on both backends (SQLite only auto-increments an INTEGER primary key).
RowId = BigInteger().with_variant(Integer(), "sqlite")


class AnalyticsEvent(Base):
    """One player beacon event as received (kept raw_retention_days)."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_video_view", "video_id", "view_id"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(String(32), nullable=False)
    view_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # HMAC of the browser's viewer id (the id itself is never stored).
    viewer_hash: Mapped[int] = mapped_column(BigInteger, nullable=False)
    type: Mapped[str] = mapped_column(String(24), nullable=False)
    # The player's wall clock, epoch milliseconds.
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    player_time: Mapped[float] = mapped_column(Float, nullable=False)
    rendition: Mapped[str] = mapped_column(String(32), nullable=False)
    bitrate: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, index=True, nullable=False
    )


class AnalyticsView(Base):
    """A view (one playback) summed up from its events; rebuilt whenever new events of
    it arrive. Keyed by video too: a token of one video can never add to another's view."""

    __tablename__ = "analytics_views"
    __table_args__ = (
        PrimaryKeyConstraint("video_id", "view_id", name="pk_analytics_views"),
        Index("ix_analytics_views_video_hour", "video_id", "hour"),
        Index("ix_analytics_views_project_day", "project_id", "day", "viewer_hash"),
    )

    video_id: Mapped[str] = mapped_column(String(32), nullable=False)
    view_id: Mapped[str] = mapped_column(String(64), nullable=False)
    project_id: Mapped[str] = mapped_column(String(32), nullable=False)
    viewer_hash: Mapped[int] = mapped_column(BigInteger, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    startup_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    watch_ms: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    rebuffer_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rebuffer_ms: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    failed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    exited_before_start: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    ended: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # rendition -> [watch_ms, rebuffer_ms, rebuffer_count]
    renditions: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    events: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class AnalyticsPending(Base):
    """Views with events not folded into their summary and rollup yet."""

    __tablename__ = "analytics_pending"
    __table_args__ = (PrimaryKeyConstraint("video_id", "view_id", name="pk_analytics_pending"),)

    video_id: Mapped[str] = mapped_column(String(32), nullable=False)
    view_id: Mapped[str] = mapped_column(String(64), nullable=False)


def _rollup_columns() -> list[Column[Any]]:
    counters = [
        "views", "viewers", "watch_ms", "startup_count", "startup_ms_sum", "rebuffer_count",
        "rebuffer_ms", "failures", "exits_before_start", "bytes_served", "segment_requests",
        *STARTUP_COLUMNS,
    ]  # fmt: skip
    return [
        Column(name, BigInteger, nullable=False, default=0, server_default="0") for name in counters
    ]


# (video, hour, rendition): rendition "" holds the video's totals; the other rows the
# watch time, rebuffering and bytes at one rendition.
analytics_rollups = Table(
    "analytics_rollups",
    Base.metadata,
    Column("video_id", String(32), nullable=False),
    Column("hour", UTCDateTime(), nullable=False),
    Column("rendition", String(32), nullable=False),
    Column("project_id", String(32), nullable=False),
    Column("day", UTCDateTime(), nullable=False),
    *_rollup_columns(),
    Column("updated_at", UTCDateTime(), nullable=False, default=utcnow),
    PrimaryKeyConstraint("video_id", "hour", "rendition", name="pk_analytics_rollups"),
    Index("ix_analytics_rollups_project_hour", "project_id", "hour"),
    Index("ix_analytics_rollups_video_hour", "video_id", "hour"),
)

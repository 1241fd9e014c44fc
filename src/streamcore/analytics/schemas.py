"""Request and response bodies of the analytics API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class EventType(StrEnum):
    view_start = "view_start"
    first_frame = "first_frame"
    playing = "playing"
    pause = "pause"
    seek = "seek"
    rebuffer_start = "rebuffer_start"
    rebuffer_end = "rebuffer_end"
    rendition_change = "rendition_change"
    error = "error"
    heartbeat = "heartbeat"
    view_end = "view_end"


ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class BeaconEvent(BaseModel):
    """One player event. Times: `at` on the player's wall clock (epoch ms), `player_time`
    the position in the video (s)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="One of " + ", ".join(t.value for t in EventType))
    view_id: str = Field(pattern=ID_PATTERN, description="Random id of this playback")
    viewer_id: str = Field(
        pattern=ID_PATTERN, description="Random id kept in the browser; stored only as a hash"
    )
    at: int = Field(ge=0, description="Wall clock, epoch milliseconds")
    player_time: float = Field(
        ge=0, le=7 * 86400, allow_inf_nan=False, description="Position in the video, seconds"
    )
    # Null until the player knows which rendition plays (before the first level loads).
    rendition: str | None = Field(default=None, max_length=32)
    bitrate: int | None = Field(default=None, ge=0, le=10**10)
    duration_ms: int | None = Field(default=None, ge=0, le=86_400_000)
    error_code: str | None = Field(default=None, max_length=64)


class BeaconBatch(BaseModel):
    """`token` may instead be given as the `?token=` query parameter (sendBeacon cannot
    set headers). `video_id`, when given, must be the token's video."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(default=None, max_length=1024)
    video_id: str | None = Field(default=None, max_length=64)
    events: list[BeaconEvent]


class BeaconAccepted(BaseModel):
    accepted: int


class Interval(StrEnum):
    hour = "hour"
    day = "day"


class GroupBy(StrEnum):
    video = "video"
    rendition = "rendition"
    day = "day"


class AnalyticsMetrics(BaseModel):
    views: int
    unique_viewers: int | None = Field(
        description="Distinct viewers over the whole bucket (not a sum of hours); "
        "null for rendition groups"
    )
    watch_time_seconds: float
    startup_time_p50_ms: float | None
    startup_time_p95_ms: float | None
    startup_time_mean_ms: float | None
    rebuffer_count: int
    rebuffer_seconds: float
    rebuffer_percentage: float | None = Field(description="Rebuffer time / watch time x 100")
    failures: int
    failure_percentage: float | None = Field(description="Failed views / views x 100")
    exits_before_start: int
    bytes_served: int
    segment_requests: int


class AnalyticsPoint(AnalyticsMetrics):
    start: datetime


class AnalyticsGroup(AnalyticsMetrics):
    key: str


class AnalyticsReport(BaseModel):
    project_id: str | None
    video_id: str | None
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    interval: Interval
    group_by: GroupBy | None
    totals: AnalyticsMetrics
    series: list[AnalyticsPoint]
    groups: list[AnalyticsGroup]


class UploadCount(BaseModel):
    method: str
    outcome: str
    uploads: int
    bytes: int


class UploadFailureCount(BaseModel):
    error_class: str
    uploads: int


class UploadReport(BaseModel):
    project_id: str | None
    video_id: str | None
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    uploads: int
    bytes: int
    failures: int
    by_method: list[UploadCount]
    failures_by_class: list[UploadFailureCount]

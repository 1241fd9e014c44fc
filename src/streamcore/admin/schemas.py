from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from streamcore.models import AssetStatus, JobKind, JobStatus


class WorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    host: str
    pid: int
    bus: str
    consumers: int
    running_jobs: int
    partitions: dict[str, list[int]] = Field(description="Topic partitions its consumers hold.")
    started_at: datetime
    heartbeat_at: datetime


class TopicLag(BaseModel):
    topic: str
    partitions: dict[int, int] = Field(description="Partition -> messages not yet committed.")
    total: int


class ThroughputRead(BaseModel):
    window_seconds: int
    finished: int = Field(description="Jobs that reached a final state in the window.")
    succeeded: int
    per_minute: float


class StatsRead(BaseModel):
    bus: str
    group_id: str | None
    workers: list[WorkerRead]
    active_consumers: int
    lag: list[TopicLag]
    total_lag: int
    lag_error: str | None = Field(description="Why lag could not be read (broker down).")
    jobs: dict[str, int] = Field(description="Jobs by status.")
    throughput: ThroughputRead
    failures: dict[str, int] = Field(description="Failed and dead jobs by error class.")


class StopRead(BaseModel):
    video_id: str
    status: AssetStatus
    cancelled_jobs: list[str] = Field(description="Queued jobs cancelled at once.")
    stopping_jobs: list[str] = Field(description="Running jobs told to stop.")


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    asset_id: str
    kind: JobKind
    status: JobStatus
    attempts: int
    max_attempts: int
    # Attempts given back because our own storage, database or network was down.
    outages: int = 0
    next_attempt_at: datetime
    cancel_requested: bool
    error_class: str | None
    last_error: str | None
    # A chunk's part of its video: {"run", "index", "start", "end"} (seconds).
    params: dict[str, Any] | None = None
    progress: float = 0.0
    published_at: datetime | None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None

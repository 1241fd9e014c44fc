from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class JobKind(enum.StrEnum):
    ingest = "ingest"
    transcode = "transcode"
    transcribe = "transcribe"
    # DELETE /videos/{id}: remove every object of the asset, then its tombstone.
    purge = "purge"
    # A long source, cut at ingest: every rung of one span (params: run, index, start,
    # end), the whole audio once beside them, and the stitch when all of them are done.
    transcode_chunk = "transcode_chunk"
    transcode_audio = "transcode_audio"
    stitch = "stitch"


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    dead = "dead"


FINAL_JOB_STATUSES = frozenset(
    {JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled, JobStatus.dead}
)


class Job(IdMixin, TimestampMixin, Base):
    """The source of truth for work; a bus message only carries this row's id."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "status", "next_attempt_at"),
        Index("ix_jobs_outbox", "published_at", "status"),
    )

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[JobKind] = mapped_column(
        Enum(JobKind, native_enum=False, length=20, validate_strings=True), nullable=False
    )
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=20, validate_strings=True), nullable=False
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Attempts lost to an outage of our own infrastructure (storage, database, network
    # unreachable): given back, up to runner.MAX_OUTAGES, so a restart of a service
    # does not use up a job's tries.
    outages: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # When the running worker last proved it is alive; a stale lease is reclaimed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Class of the last error (failure statistics without parsing last_error).
    error_class: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Outbox (Kafka mode): when the relay last put this job's message on the bus; NULL
    # means a message is owed (a new or re-queued job, or a dead one's DLQ record).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What this job works on within its asset (a chunk's span) and what it leaves for
    # the jobs after it (a chunk's segments), for kinds that have them.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin, UTCDateTime


class AssetStatus(enum.StrEnum):
    awaiting_upload = "awaiting_upload"
    uploaded = "uploaded"
    ingesting = "ingesting"
    transcoding = "transcoding"
    # A job of the video failed in a way worth retrying (or its worker died): it waits
    # for its next attempt, still playable if it was.
    retrying = "retrying"
    ready = "ready"
    failed = "failed"
    cancelled = "cancelled"
    # DELETE /videos/{id}: playback stops, a purge removes the objects, then a tombstone.
    deleting = "deleting"
    deleted = "deleted"


class TranscriptStatus(enum.StrEnum):
    none = "none"
    pending = "pending"
    running = "running"
    ready = "ready"
    failed = "failed"


class AssetSource(enum.StrEnum):
    upload = "upload"
    url = "url"
    recording = "recording"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class Asset(IdMixin, TimestampMixin, Base):
    __tablename__ = "assets"
    __table_args__ = (
        # The library's keyset pagination: newest first by (created_at, id), per project
        # (API keys, a project filter) and across projects (a user's organizations).
        Index("ix_assets_project_created", "project_id", "created_at", "id"),
        Index("ix_assets_created", "created_at", "id"),
        # The customer's own id, unique per project (NULLs do not collide).
        Index("uq_assets_project_external_id", "project_id", "external_id", unique=True),
    )

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True, nullable=False
    )
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True, nullable=True
    )
    source: Mapped[AssetSource] = mapped_column(_enum(AssetSource), nullable=False)
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[AssetStatus] = mapped_column(_enum(AssetStatus), index=True, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    content_type: Mapped[str] = mapped_column(String(127), default="", nullable=False)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Key of the original upload in object storage.
    source_key: Mapped[str] = mapped_column(String(512), nullable=False)

    # Probe metadata.
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    video_codec: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audio_codec: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bitrate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    frame_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The probe saw a variable frame rate (None: not known, as for older videos).
    variable_frame_rate: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    container: Mapped[str | None] = mapped_column(String(128), nullable=True)

    # Planned and produced renditions: [{"name", "width", "height", "bitrate", ...}].
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # Storage key of the HLS master playlist once playable.
    playback_key: Mapped[str | None] = mapped_column(String(512), nullable=True)

    # Derivative files, by kind: {"mp3": key, "mp4": key, "posters": {width: key}, ...}.
    derivatives: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # A long source's chunked run: {"run": planning job id, "spans": [[start, end], ...],
    # "audio": bool}; NULL for a single-pass transcode.
    chunk_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    progress: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    eta_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_class: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Transcription has its own status: a failed transcript never fails the video.
    transcript_status: Mapped[TranscriptStatus] = mapped_column(
        _enum(TranscriptStatus),
        default=TranscriptStatus.none,
        server_default="none",
        nullable=False,
    )
    transcript_language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    transcript_error_class: Mapped[str | None] = mapped_column(String(64), nullable=True)
    transcript_error_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    # The customer's description of the video (PATCH /videos/{id}, or at creation).
    title: Mapped[str | None] = mapped_column(String(512), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Opaque to us, returned in every event (at most 255 bytes of UTF-8).
    passthrough: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # A string map of at most 16 KiB (as JSON).
    user_metadata: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}", nullable=False
    )
    # Set when the purge finished: the row stays as a tombstone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

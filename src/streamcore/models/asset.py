from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from streamcore.db.base import Base, IdMixin, TimestampMixin


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
    container: Mapped[str | None] = mapped_column(String(128), nullable=True)

    # Planned and produced renditions: [{"name", "width", "height", "bitrate", ...}].
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # Storage key of the HLS master playlist once playable.
    playback_key: Mapped[str | None] = mapped_column(String(512), nullable=True)

    # Derivative files, by kind: {"mp3": key, "mp4": key, "posters": {width: key}, ...}.
    derivatives: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)

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

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from streamcore.models import AssetSource, AssetStatus
from streamcore.transcripts.schemas import TranscriptRead


class ErrorInfo(BaseModel):
    """Why processing failed: `class` is one of ProbeFailed, UnsupportedMedia,
    DecodeFailed, LimitExceeded, TranscodeFailed, ..."""

    error_class: str = Field(serialization_alias="class")
    message: str


class ProbeInfo(BaseModel):
    duration: float | None
    width: int | None
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    bitrate: int | None
    frame_rate: float | None
    container: str | None


class RenditionRead(BaseModel):
    name: str
    width: int
    height: int
    video_kbps: int
    audio_kbps: int


class DerivativesRead(BaseModel):
    """Signed URLs of the derivative files (null until ready, or when not applicable)."""

    mp3: str | None = Field(None, description="Loudness-normalised audio (EBU R128)")
    mp4: str | None = Field(None, description="Loudness-normalised progressive video")
    posters: dict[str, str | None] = Field(
        default_factory=dict, description="Poster frames by width"
    )
    storyboard: str | None = Field(None, description="Sprite of thumbnails")
    storyboard_vtt: str | None = Field(None, description="WebVTT thumbnails track")


class VideoRead(BaseModel):
    id: str
    project_id: str
    session_id: str | None
    source: AssetSource
    status: AssetStatus
    progress: float = Field(description="0..100")
    eta_seconds: float | None = Field(description="Estimated seconds left while transcoding")
    filename: str
    size_bytes: int | None
    probe: ProbeInfo
    renditions: list[RenditionRead]
    playable: bool = Field(description="True as soon as the first segments are published")
    playback_url: str | None
    derivatives: DerivativesRead
    error: ErrorInfo | None
    transcript: TranscriptRead
    created_at: datetime
    updated_at: datetime

    model_config = {"serialize_by_alias": True}

    @staticmethod
    def rendition_list(raw: list[dict[str, Any]]) -> list[RenditionRead]:
        return [RenditionRead.model_validate(r) for r in raw]


class VideoEventType(enum.StrEnum):
    """Domain events of a video, one per committed transition."""

    created = "video.created"
    uploaded = "video.uploaded"
    processing = "video.processing"
    retrying = "video.retrying"
    playable = "video.playable"
    ready = "video.ready"
    failed = "video.failed"
    cancelled = "video.cancelled"
    updated = "video.updated"
    deleting = "video.deleting"
    deleted = "video.deleted"
    transcript_ready = "transcript.ready"
    transcript_failed = "transcript.failed"
    upload_failed = "upload.failed"


class VideoEventV1(BaseModel):
    """A domain event (version 1): written to the outbox in the transaction of the
    change it records; SSE, Socket.IO, webhooks and the Kafka events topic carry it.
    `data` is the video as `GET /videos/{id}` shows it, without signed URLs (they are
    credentials that expire: fetch the video for them)."""

    id: str = Field(description="Unique per event; receivers drop duplicates by it")
    type: VideoEventType
    version: Literal[1] = Field(1, description="Payload schema version")
    occurred_at: datetime
    project_id: str
    video_id: str
    data: VideoRead

    model_config = {"title": "VideoEventV1"}


# The current version of the event payload.
VideoEvent = VideoEventV1

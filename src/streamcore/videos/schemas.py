from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


MAX_PASSTHROUGH_BYTES = 255
MAX_METADATA_BYTES = 16 * 1024
# The names of the descriptive fields, as every upload path accepts them.
DESCRIPTION_FIELDS = ("title", "description", "external_id", "passthrough", "metadata")


class VideoDescription(BaseModel):
    """The customer's own fields of a video, accepted at creation and by PATCH."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=512)
    description: str | None = Field(None, max_length=10_000)
    external_id: str | None = Field(
        None, min_length=1, max_length=255, description="Your own id, unique per project"
    )
    passthrough: str | None = Field(
        None, description=f"Opaque, at most {MAX_PASSTHROUGH_BYTES} bytes; in every event"
    )
    metadata: dict[str, str] | None = Field(
        None, description=f"A string map of at most {MAX_METADATA_BYTES} bytes as JSON"
    )

    @field_validator("passthrough")
    @classmethod
    def _passthrough_size(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > MAX_PASSTHROUGH_BYTES:
            raise ValueError(f"passthrough holds at most {MAX_PASSTHROUGH_BYTES} bytes")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len(json.dumps(value).encode()) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata holds at most {MAX_METADATA_BYTES} bytes as JSON")
        return value

    def video_description(self) -> VideoDescription:
        """Only the description (of a request body that carries more)."""
        return VideoDescription.model_validate(self.model_dump(include=set(DESCRIPTION_FIELDS)))

    @classmethod
    def from_strings(cls, fields: dict[str, str]) -> VideoDescription:
        """From form fields or tus Upload-Metadata: plain strings, `metadata` as JSON.
        Other keys are ignored (they belong to the upload)."""
        values: dict[str, Any] = {k: v for k, v in fields.items() if k in DESCRIPTION_FIELDS}
        if "metadata" in values:
            try:
                values["metadata"] = json.loads(values["metadata"])
            except ValueError as exc:
                raise ValueError("metadata must be a JSON object of strings") from exc
        return cls.model_validate(values)


class VideoUpdate(VideoDescription):
    """PATCH /videos/{id}: the fields sent are replaced (null clears one)."""


class VideoRead(BaseModel):
    id: str
    project_id: str
    session_id: str | None
    title: str | None
    description: str | None
    external_id: str | None
    passthrough: str | None
    metadata: dict[str, str]
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
    embed_url: str | None = Field(
        None, description="The player page (`/embed/{token}`); expires like playback_url"
    )
    embed_html: str | None = Field(
        None, description="A responsive iframe of embed_url to paste into a page"
    )
    derivatives: DerivativesRead
    error: ErrorInfo | None
    transcript: TranscriptRead
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(description="Set once a deleted video is purged")

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


class VideoPage(BaseModel):
    """A page of `GET /videos`, newest first; pass `next_cursor` back for the next."""

    data: list[VideoRead]
    next_cursor: str | None = Field(description="Null on the last page")


# The current version of the event payload.
VideoEvent = VideoEventV1

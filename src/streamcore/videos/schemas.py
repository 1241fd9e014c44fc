from __future__ import annotations

from datetime import datetime
from typing import Any

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

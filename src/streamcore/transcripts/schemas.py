from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from streamcore.inputs import EntityId
from streamcore.models import Asset, TranscriptStatus


class TranscribeRequest(BaseModel):
    video_id: EntityId


class TranscriptError(BaseModel):
    """Why the transcription failed: `class` is NotTranscribable, AudioExtractionFailed,
    TranscriptionFailed, or the transient error that exhausted the retries."""

    model_config = ConfigDict(serialize_by_alias=True)

    error_class: str = Field(serialization_alias="class")
    message: str


class TranscriptRead(BaseModel):
    """Transcript status and, once ready, signed URLs of its files (they expire like
    the playback URL)."""

    model_config = ConfigDict(serialize_by_alias=True)

    status: TranscriptStatus
    language: str | None = Field(description="ISO 639-1 code, detected or configured")
    json_url: str | None = Field(description="segments and words with timestamps")
    text_url: str | None
    vtt_url: str | None
    error: TranscriptError | None

    @classmethod
    def from_asset(
        cls,
        asset: Asset,
        *,
        json_url: str | None = None,
        text_url: str | None = None,
        vtt_url: str | None = None,
    ) -> TranscriptRead:
        failed = asset.transcript_status is TranscriptStatus.failed
        return cls(
            status=asset.transcript_status,
            language=asset.transcript_language,
            json_url=json_url,
            text_url=text_url,
            vtt_url=vtt_url,
            error=(
                TranscriptError(
                    error_class=asset.transcript_error_class,
                    message=asset.transcript_error_message or "",
                )
                if failed and asset.transcript_error_class
                else None
            ),
        )


class TranscribeAccepted(BaseModel):
    video_id: str
    transcript: TranscriptRead

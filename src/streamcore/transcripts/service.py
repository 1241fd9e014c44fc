"""Transcripts: requesting them, their status on the asset, where their files live,
the public view and the `media.transcribed` event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.config import Settings, TranscribeSettings
from streamcore.errors import Conflict, ServiceUnavailable, Unprocessable
from streamcore.models import Asset, AssetStatus, Job, JobKind, OutboxEvent, TranscriptStatus
from streamcore.processing import service as processing
from streamcore.projects import service as projects
from streamcore.transcripts.repository import OutboxRepository
from streamcore.transcripts.schemas import TranscriptRead
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

TRANSCRIBED_TOPIC = "media.transcribed"

JSON_FILE = "transcript.json"
TEXT_FILE = "transcript.txt"
VTT_FILE = "transcript.vtt"
# Stream paths (relative to the asset folder, as stream tokens name them) of the files.
STREAM_DIR = layout.TRANSCRIPT


def ensure_enabled(settings: TranscribeSettings) -> None:
    if not settings.enabled:
        raise ServiceUnavailable("transcription is disabled on this server (WHISPER_ENABLED)")
    if settings.engine == "openai" and not settings.openai.api_key.get_secret_value():
        raise ServiceUnavailable("the openai transcription engine has no API key configured")


async def request_transcription(session: AsyncSession, settings: Settings, asset: Asset) -> None:
    """Queue a transcription of a ready asset (asset locked by the caller). A request
    while one is queued or running changes nothing."""
    ensure_enabled(settings.transcribe)
    if asset.status is not AssetStatus.ready:
        raise Conflict(f"the video is not ready (status: {asset.status.value})")
    if asset.audio_codec is None:
        raise Unprocessable("the video has no audio track")
    if asset.transcript_status in (TranscriptStatus.pending, TranscriptStatus.running):
        return
    await _enqueue(session, settings, asset)


async def after_transcode(session: AsyncSession, settings: Settings, asset: Asset) -> Job | None:
    """Called in the transcode's final transaction: transcribe when the project asks
    for it, or again when a new master replaced the one that carried the captions."""
    if not settings.transcribe.enabled or asset.audio_codec is None:
        return None
    project = await projects.get_project(session, asset.project_id)
    if not (project.auto_transcribe or asset.transcript_status is TranscriptStatus.ready):
        return None
    return await _enqueue(session, settings, asset)


async def _enqueue(session: AsyncSession, settings: Settings, asset: Asset) -> Job:
    lifecycle.transcript_pending(asset)
    return await processing.enqueue(
        session, asset.id, JobKind.transcribe, max_attempts=settings.worker.max_attempts
    )


async def record_failure(
    session: AsyncSession, asset_id: str, error_class: str, message: str
) -> None:
    """The job runner's final word on a transcription: the video itself is untouched."""
    asset = await videos.get_asset(session, asset_id, for_update=True)
    await lifecycle.transcript_failed(session, asset, error_class, message)


async def emit_transcribed(
    session: AsyncSession, asset: Asset, payload: dict[str, Any]
) -> OutboxEvent:
    """Record `media.transcribed` in the transaction that stores the transcript. The
    outbox relay of the Kafka bus publishes these rows after commit; the embedded bus
    has no consumers for it, so here the row is the event's record."""
    body = {"asset_id": asset.id, "project_id": asset.project_id, **payload}
    event = await OutboxRepository(session).add(TRANSCRIBED_TOPIC, asset.id, body)
    log.info("event.recorded", topic=TRANSCRIBED_TOPIC, event_id=event.id, asset_id=asset.id)
    return event


def to_read(asset: Asset, link: Callable[[str], str] | None = None) -> TranscriptRead:
    """The transcript view; link(stream path) gives a signed URL for a file."""
    if asset.transcript_status is not TranscriptStatus.ready or link is None:
        return TranscriptRead.from_asset(asset)
    return TranscriptRead.from_asset(
        asset,
        json_url=link(f"{STREAM_DIR}/{JSON_FILE}"),
        text_url=link(f"{STREAM_DIR}/{TEXT_FILE}"),
        vtt_url=link(f"{STREAM_DIR}/{VTT_FILE}"),
    )

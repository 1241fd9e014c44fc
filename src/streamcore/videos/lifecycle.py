"""The asset state machine: the only writer of `Asset.status`, of `playback_key` (what
makes a video playable) and of the transcript status.

Each transition appends one domain event to `outbox_events` in the caller's transaction
and queues its realtime push (SSE, Socket.IO) for after the commit, so listeners see
exactly the transitions that were committed, in order. Moving to the state a video is
already in is no transition: no event, only the working fields are reset.

    awaiting_upload ─► uploaded ─► ingesting ─► transcoding ─► ready
          │               │            │             │           │
          │               └── retrying (back to the job's state) │
          └───────────────┴─── failed / cancelled ◄──┘           │
    ready, failed, cancelled ─► uploaded (reprocess) or transcoding (replay)
    any state but deleted ─► deleting ─► deleted

`playable` (a published master) never goes from true to false while the rendition set
stays the same: a retried or replayed transcode re-publishes over what players have.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.base import new_id, utcnow
from streamcore.db.session import AFTER_COMMIT
from streamcore.errors import Conflict
from streamcore.infra import Infra
from streamcore.models import Asset, AssetStatus, OutboxEvent, TranscriptStatus
from streamcore.videos import layout
from streamcore.videos.events import EVENTS_TOPIC, channels, event_payload, realtime_payload
from streamcore.videos.schemas import VideoEventType

log = structlog.get_logger(__name__)

S = AssetStatus
_REDO = frozenset({S.uploaded, S.transcoding, S.deleting})
_STOP = frozenset({S.retrying, S.failed, S.cancelled, S.deleting})
TRANSITIONS: dict[AssetStatus, frozenset[AssetStatus]] = {
    S.awaiting_upload: frozenset({S.uploaded, S.failed, S.cancelled, S.deleting}),
    S.uploaded: frozenset({S.ingesting}) | _STOP,
    S.ingesting: frozenset({S.transcoding}) | _STOP,
    S.transcoding: frozenset({S.ready}) | _STOP,
    S.retrying: frozenset({S.ingesting, S.transcoding, S.failed, S.cancelled, S.deleting}),
    S.ready: _REDO,
    S.failed: _REDO,
    S.cancelled: _REDO,
    S.deleting: frozenset({S.deleted}),
    S.deleted: frozenset(),
}
WORKING_STATES = frozenset({S.uploaded, S.ingesting, S.transcoding, S.retrying})
FINAL_STATES = frozenset({S.ready, S.failed, S.cancelled})
_EVENT_OF = {
    S.uploaded: VideoEventType.uploaded,
    S.ingesting: VideoEventType.processing,
    S.transcoding: VideoEventType.processing,
    S.retrying: VideoEventType.retrying,
    S.ready: VideoEventType.ready,
    S.failed: VideoEventType.failed,
    S.cancelled: VideoEventType.cancelled,
    S.deleting: VideoEventType.deleting,
    S.deleted: VideoEventType.deleted,
}


class IllegalTransition(Conflict):
    """The video cannot move from its state to the one asked for (409)."""

    def __init__(self, current: AssetStatus, wanted: AssetStatus, hint: str = "") -> None:
        super().__init__(
            f"the video is {current.value}; {hint or f'it cannot become {wanted.value}'}"
        )
        self.current = current
        self.wanted = wanted


def can_move(current: AssetStatus, wanted: AssetStatus) -> bool:
    return wanted == current or wanted in TRANSITIONS[current]


async def emit(session: AsyncSession, asset: Asset, kind: VideoEventType) -> OutboxEvent:
    """Append one domain event of the asset as it is now; push it after commit."""
    now = utcnow()
    asset.updated_at = now
    payload = event_payload(new_id(), kind, now, asset)
    event = OutboxEvent(id=payload["id"], topic=EVENTS_TOPIC, key=asset.id, payload=payload)
    session.add(event)
    pushed = realtime_payload(asset, payload)

    async def push(infra: Infra) -> None:
        for channel in channels(asset.id, asset.project_id):
            await infra.realtime.publish(channel, pushed)

    session.info.setdefault(AFTER_COMMIT, {})[f"event:{event.id}"] = push
    log.info("video.event", type=kind.value, video_id=asset.id, status=asset.status.value)
    return event


async def _move(session: AsyncSession, asset: Asset, to: AssetStatus) -> bool:
    """The one write of Asset.status. True when the state changed (and an event went)."""
    current = asset.status
    if to == current:
        return False
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(current, to)
    asset.status = to
    kind = _EVENT_OF[to]
    if to is S.failed and current is S.awaiting_upload:
        kind = VideoEventType.upload_failed
    await emit(session, asset, kind)
    return True


async def create(session: AsyncSession, **fields: Any) -> Asset:
    """A new asset, `awaiting_upload` (video.created); added to the session."""
    now = utcnow()
    asset_id = fields.pop("id", None) or new_id()
    asset = Asset(
        id=asset_id,
        status=S.awaiting_upload,
        source_key=layout.source_key(asset_id),
        renditions=[],
        derivatives={},
        progress=0.0,
        transcript_status=TranscriptStatus.none,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(asset)
    await emit(session, asset, VideoEventType.created)
    return asset


async def mark_uploaded(session: AsyncSession, asset: Asset, size: int | None) -> None:
    """The source object is complete in storage."""
    if asset.status is not S.awaiting_upload:
        raise IllegalTransition(asset.status, S.uploaded)
    asset.size_bytes = size
    await _move(session, asset, S.uploaded)


async def start(session: AsyncSession, asset: Asset, status: AssetStatus) -> None:
    """A run (a new one, a retry or a replay) begins or goes on in a working state.
    What already plays keeps playing: the run re-publishes over it."""
    _reset_work(asset)
    await _move(session, asset, status)


async def resume(session: AsyncSession, asset: Asset) -> None:
    """One piece of a run made of many (a chunk) begins: the video is transcoding,
    and the progress the other pieces made stays."""
    asset.error_class = None
    asset.error_message = None
    await _move(session, asset, S.transcoding)


def _reset_work(asset: Asset) -> None:
    asset.error_class = None
    asset.error_message = None
    asset.progress = 0.0
    asset.eta_seconds = None


async def retrying(session: AsyncSession, asset: Asset, error_class: str, message: str) -> None:
    """A job of the video waits for its next attempt; the error says why."""
    asset.error_class = error_class[:64]
    asset.error_message = message[:2000]
    asset.eta_seconds = None
    await _move(session, asset, S.retrying)


async def reprocess(session: AsyncSession, asset: Asset) -> None:
    """A finished asset goes back to `uploaded` to be ingested again."""
    if asset.status not in FINAL_STATES:
        raise IllegalTransition(asset.status, S.uploaded, "reprocess it once it is ready or failed")
    await start(session, asset, S.uploaded)


def set_renditions(asset: Asset, renditions: list[dict[str, Any]]) -> bool:
    """The planned ladder. A different rendition set unpublishes the old one (its
    playlists would name rungs that no longer exist); True when it did."""
    if renditions == (asset.renditions or []):
        return False
    asset.renditions = renditions
    if asset.playback_key is not None:
        asset.playback_key = None
        return True
    return False


async def publish_playback(session: AsyncSession, asset: Asset, master_key: str) -> None:
    """Every rendition has its first segments out: players can start."""
    if asset.status is not S.transcoding:
        raise IllegalTransition(asset.status, S.transcoding)
    first = asset.playback_key is None
    asset.playback_key = master_key
    if first:
        await emit(session, asset, VideoEventType.playable)


async def mark_ready(
    session: AsyncSession, asset: Asset, master_key: str, derivatives: dict[str, Any]
) -> None:
    if asset.status is not S.ready and asset.playback_key is None:
        await publish_playback(session, asset, master_key)
    asset.playback_key = master_key
    asset.derivatives = derivatives
    asset.progress = 1.0
    asset.eta_seconds = None
    await _move(session, asset, S.ready)


async def fail(session: AsyncSession, asset: Asset, error_class: str, message: str) -> None:
    """Processing (or the upload) failed for good."""
    asset.playback_key = None
    asset.eta_seconds = None
    asset.error_class = error_class[:64]
    asset.error_message = message[:2000]
    await _move(session, asset, S.failed)


async def cancel(session: AsyncSession, asset: Asset) -> None:
    """Stopped: the partial outputs are removed by whoever stopped it."""
    asset.playback_key = None
    asset.eta_seconds = None
    await _move(session, asset, S.cancelled)


async def begin_delete(session: AsyncSession, asset: Asset) -> None:
    """Playback stops at once; a purge removes the objects."""
    asset.playback_key = None
    await _move(session, asset, S.deleting)


async def finish_delete(session: AsyncSession, asset: Asset) -> None:
    """Every object is gone: a tombstone with `deleted_at` (video.deleted). Its
    external_id is given back to the project after the event, which still carries it."""
    if asset.status is not S.deleted:
        asset.deleted_at = utcnow()
    await _move(session, asset, S.deleted)
    asset.external_id = None


async def record_update(session: AsyncSession, asset: Asset) -> None:
    """The video's own fields (title, metadata ...) changed: video.updated."""
    await emit(session, asset, VideoEventType.updated)


def is_playable(asset: Asset) -> bool:
    return asset.playback_key is not None


# Transcripts: a status of their own on the asset; a failed one never fails the video.


def transcript_pending(asset: Asset) -> None:
    _set_transcript(asset, TranscriptStatus.pending)


def transcript_running(asset: Asset) -> None:
    _set_transcript(asset, TranscriptStatus.running)


async def transcript_ready(session: AsyncSession, asset: Asset, language: str | None) -> None:
    _set_transcript(asset, TranscriptStatus.ready)
    asset.transcript_language = language
    await emit(session, asset, VideoEventType.transcript_ready)


async def transcript_failed(
    session: AsyncSession, asset: Asset, error_class: str, message: str
) -> None:
    _set_transcript(asset, TranscriptStatus.failed)
    asset.transcript_error_class = error_class[:64]
    asset.transcript_error_message = message[:2000]
    await emit(session, asset, VideoEventType.transcript_failed)


def _set_transcript(asset: Asset, status: TranscriptStatus) -> None:
    """The one write of Asset.transcript_status."""
    asset.transcript_status = status
    if status in (TranscriptStatus.pending, TranscriptStatus.running):
        asset.transcript_error_class = None
        asset.transcript_error_message = None

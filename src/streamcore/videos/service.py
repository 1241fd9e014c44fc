"""Assets (videos and audio): creation, status transitions, the public view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.base import new_id
from streamcore.errors import NotFound
from streamcore.models import Asset, AssetSource, AssetStatus
from streamcore.transcripts.schemas import TranscriptRead
from streamcore.videos import events as _events  # noqa: F401  (status listeners)
from streamcore.videos.repository import AssetRepository
from streamcore.videos.schemas import DerivativesRead, ErrorInfo, ProbeInfo, VideoRead

WORKING_STATES = frozenset({AssetStatus.uploaded, AssetStatus.ingesting, AssetStatus.transcoding})
FINAL_STATES = frozenset({AssetStatus.ready, AssetStatus.failed, AssetStatus.cancelled})


def asset_prefix(asset_id: str) -> str:
    return f"assets/{asset_id}"


def source_key(asset_id: str) -> str:
    return f"{asset_prefix(asset_id)}/source"


def hls_prefix(asset_id: str) -> str:
    return f"{asset_prefix(asset_id)}/hls"


async def create_asset(
    session: AsyncSession,
    *,
    project_id: str,
    source: AssetSource,
    status: AssetStatus,
    filename: str = "",
    content_type: str = "",
    size_bytes: int | None = None,
    session_id: str | None = None,
    source_url: str | None = None,
    asset_id: str | None = None,
) -> Asset:
    asset_id = asset_id or new_id()
    asset = Asset(
        id=asset_id,
        project_id=project_id,
        session_id=session_id,
        source=source,
        source_url=source_url,
        status=status,
        filename=filename[:255],
        content_type=content_type[:127],
        size_bytes=size_bytes,
        source_key=source_key(asset_id),
        renditions=[],
        progress=0.0,
    )
    await AssetRepository(session).add(asset)
    return asset


async def stale_awaiting(
    session: AsyncSession, source: AssetSource, before: datetime, limit: int
) -> Sequence[Asset]:
    return await AssetRepository(session).stale_awaiting(source, before, limit)


async def find_asset(session: AsyncSession, asset_id: str) -> Asset | None:
    return await AssetRepository(session).get(asset_id)


async def get_asset(session: AsyncSession, asset_id: str, *, for_update: bool = False) -> Asset:
    asset = await AssetRepository(session).get(asset_id, for_update=for_update)
    if asset is None:
        raise NotFound("video not found")
    return asset


async def bytes_used(session: AsyncSession, project_id: str) -> int:
    return await AssetRepository(session).bytes_used(project_id)


async def set_progress(
    session: AsyncSession, asset_id: str, progress: float, eta_seconds: float | None
) -> Asset | None:
    return await AssetRepository(session).set_progress(asset_id, progress, eta_seconds)


def mark_working(asset: Asset, status: AssetStatus) -> None:
    asset.status = status
    asset.error_class = None
    asset.error_message = None
    asset.progress = 0.0
    asset.eta_seconds = None
    # A new run replaces the outputs: nothing plays until it publishes again.
    asset.playback_key = None


def record_probe(asset: Asset, probe: dict[str, Any], renditions: list[dict[str, Any]]) -> None:
    asset.duration_seconds = probe.get("duration")
    asset.width = probe.get("width")
    asset.height = probe.get("height")
    asset.video_codec = probe.get("video_codec")
    asset.audio_codec = probe.get("audio_codec")
    asset.bitrate = probe.get("bitrate")
    asset.frame_rate = probe.get("frame_rate")
    asset.container = probe.get("container")
    asset.renditions = renditions


def mark_playable(asset: Asset, playback_key: str) -> None:
    """The first segments of every rendition are out: players can start."""
    asset.playback_key = playback_key


def mark_ready(asset: Asset, playback_key: str, derivatives: dict[str, Any]) -> None:
    asset.status = AssetStatus.ready
    asset.playback_key = playback_key
    asset.derivatives = derivatives
    asset.progress = 1.0
    asset.eta_seconds = None


def mark_failed(asset: Asset, error_class: str, message: str) -> None:
    asset.status = AssetStatus.failed
    asset.playback_key = None
    asset.eta_seconds = None
    asset.error_class = error_class
    asset.error_message = message[:2000]


def mark_cancelled(asset: Asset) -> None:
    asset.status = AssetStatus.cancelled
    asset.playback_key = None
    asset.eta_seconds = None


def to_read(
    asset: Asset,
    playback_url: str | None,
    urls: dict[str, Any] | None = None,
    transcript: TranscriptRead | None = None,
) -> VideoRead:
    return VideoRead(
        id=asset.id,
        project_id=asset.project_id,
        session_id=asset.session_id,
        source=asset.source,
        status=asset.status,
        progress=round(asset.progress * 100, 1),
        eta_seconds=asset.eta_seconds,
        filename=asset.filename,
        size_bytes=asset.size_bytes,
        probe=ProbeInfo(
            duration=asset.duration_seconds,
            width=asset.width,
            height=asset.height,
            video_codec=asset.video_codec,
            audio_codec=asset.audio_codec,
            bitrate=asset.bitrate,
            frame_rate=asset.frame_rate,
            container=asset.container,
        ),
        renditions=VideoRead.rendition_list(asset.renditions or []),
        playable=asset.playback_key is not None,
        playback_url=playback_url,
        derivatives=DerivativesRead.model_validate(urls or {}),
        error=(
            ErrorInfo(error_class=asset.error_class, message=asset.error_message or "")
            if asset.error_class
            else None
        ),
        transcript=transcript or TranscriptRead.from_asset(asset),
        created_at=asset.created_at,
        updated_at=asset.updated_at,
    )

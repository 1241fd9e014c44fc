"""Assets (videos and audio): creation, lookups, probe results and progress. Status
changes are the lifecycle's (`videos.lifecycle`), the storage keys the layout's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.errors import NotFound
from streamcore.models import Asset, AssetSource, AssetStatus
from streamcore.videos import library, lifecycle
from streamcore.videos.lifecycle import FINAL_STATES, WORKING_STATES
from streamcore.videos.repository import AssetRepository, LibraryRepository
from streamcore.videos.schemas import VideoDescription
from streamcore.videos.views import to_read

__all__ = ["FINAL_STATES", "WORKING_STATES", "create_asset", "get_asset", "to_read"]


async def create_asset(
    session: AsyncSession,
    *,
    project_id: str,
    source: AssetSource,
    filename: str = "",
    content_type: str = "",
    size_bytes: int | None = None,
    session_id: str | None = None,
    source_url: str | None = None,
    asset_id: str | None = None,
    description: VideoDescription | None = None,
) -> Asset:
    """A new asset awaiting its upload (video.created, carrying its description)."""
    fields = library.described(description)
    external_id = fields.get("external_id")
    async with library.unique_external_id(
        session, project_id, external_id if isinstance(external_id, str) else None
    ):
        asset = await lifecycle.create(
            session,
            id=asset_id,
            project_id=project_id,
            session_id=session_id,
            source=source,
            source_url=source_url,
            filename=filename[:255],
            content_type=content_type[:127],
            size_bytes=size_bytes,
            **fields,
        )
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


def record_probe(asset: Asset, probe: dict[str, Any]) -> None:
    asset.duration_seconds = probe.get("duration")
    asset.width = probe.get("width")
    asset.height = probe.get("height")
    asset.video_codec = probe.get("video_codec")
    asset.audio_codec = probe.get("audio_codec")
    asset.bitrate = probe.get("bitrate")
    asset.frame_rate = probe.get("frame_rate")
    asset.variable_frame_rate = probe.get("variable_frame_rate")
    asset.container = probe.get("container")


def is_status(asset: Asset, *statuses: AssetStatus) -> bool:
    return asset.status in statuses


async def is_servable(session: AsyncSession, asset_id: str) -> bool:
    """May the asset's files still be streamed? Not once its deletion began. An asset
    with no row at all is left to storage: rows go only after the purge emptied it."""
    status = await LibraryRepository(session).status_of(asset_id)
    return status is None or status not in library.GONE


async def live_ids_of_project(session: AsyncSession, project_id: str) -> Sequence[str]:
    """Ids of the project's videos not being deleted."""
    return await LibraryRepository(session).ids_of_project(project_id, live_only=True)


async def count_undeleted(session: AsyncSession, project_id: str) -> int:
    """Videos of the project that are not yet tombstones."""
    return await LibraryRepository(session).count_undeleted(project_id)

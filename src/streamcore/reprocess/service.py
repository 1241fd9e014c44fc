"""Reprocessing: a finished asset goes back to `uploaded` with a new ingest job, both
written in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.errors import NotFound
from streamcore.models import Asset, JobKind
from streamcore.processing import service as processing
from streamcore.videos import lifecycle
from streamcore.videos import service as videos


async def reprocess(
    session: AsyncSession, project_id: str, asset_id: str, *, max_attempts: int
) -> Asset:
    asset = await videos.get_asset(session, asset_id, for_update=True)
    if asset.project_id != project_id:
        raise NotFound("video not found")
    # What plays keeps playing: the new run re-publishes over the same renditions
    # (ingest unpublishes them when the new ladder differs).
    await lifecycle.reprocess(session, asset)
    await session.flush()
    await processing.enqueue(session, asset.id, JobKind.ingest, max_attempts=max_attempts)
    return asset

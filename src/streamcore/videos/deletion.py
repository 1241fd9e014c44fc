"""DELETE /videos/{id}: playback stops at once, running work is stopped and a purge
job (videos.tasks) removes every object; the video then stays as a tombstone."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Asset, JobKind
from streamcore.processing import service as processing
from streamcore.videos import lifecycle
from streamcore.videos import service as videos
from streamcore.videos.library import GONE

# A purge must end: it retries transient storage errors many times before it is dead.
PURGE_ATTEMPTS = 20


async def delete_video(session: AsyncSession, asset_id: str) -> Asset:
    """Move the video to `deleting` (video.deleting), cancel its queued jobs, tell the
    workers running the others to kill them, and enqueue its purge, all in the
    caller's transaction. A video already deleting or deleted is left as it is."""
    asset = await videos.get_asset(session, asset_id)
    if asset.status in GONE:
        return asset
    # Lock order as everywhere else: job rows, then the asset row.
    await processing.stop_jobs(session, asset_id)
    asset = await videos.get_asset(session, asset_id, for_update=True)
    await session.refresh(asset)
    if asset.status in GONE:
        return asset
    await lifecycle.begin_delete(session, asset)
    await processing.enqueue(session, asset_id, JobKind.purge, max_attempts=PURGE_ATTEMPTS)
    await session.flush()
    return asset

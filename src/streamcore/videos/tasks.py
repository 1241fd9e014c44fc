"""media.purge: remove every object of a deleted video, then leave its tombstone.

The job row is the truth and the storage listing the progress: each page deletes what
the last listing showed, so a purge retried after a worker crash simply lists what is
left and goes on. Unfinished uploads go first (closed in the database, so no tus PATCH
can add a chunk after the purge, then their parts and chunks deleted); the asset's
prefix is emptied page by page; the video becomes `deleted` only once a listing shows
nothing and no other job of the video still runs (a stopped transcode may still be
writing until its worker kills FFmpeg)."""

from __future__ import annotations

import asyncio
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.media.failures import TransientError
from streamcore.models import Job, JobKind
from streamcore.processing import service as processing
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.processing.specs import JobSpec
from streamcore.projects import deletion as projects
from streamcore.uploads import cleanup as uploads
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

# How long a purge waits for the stopped jobs of its video to end before it retries.
WAIT_FOR_STOPPED_SECONDS = 60.0
POLL_SECONDS = 0.5


class StillRunning(TransientError):
    """Another job of the video has not stopped yet (the purge retries)."""


async def purge(ctx: JobContext) -> None:
    await _wait_for_other_jobs(ctx)
    await uploads.abort_for_asset(ctx.infra, ctx.asset_id)
    removed = await _empty(ctx, layout.asset_prefix(ctx.asset_id))
    await _wait_for_other_jobs(ctx)
    # A job that ended meanwhile may have written a last object.
    removed += await _empty(ctx, layout.asset_prefix(ctx.asset_id))
    async with ctx.finish() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        await lifecycle.finish_delete(session, asset)
        project_id = asset.project_id
    log.info("purge.done", objects=removed)
    await _after_purge(ctx, project_id)


async def _empty(ctx: JobContext, prefix: str) -> int:
    removed = 0
    page = ctx.infra.settings.storage.purge_page_objects
    while True:
        if ctx.cancel.is_set():
            raise JobCancelled(ctx.job_id)
        count = await ctx.infra.storage.delete_page(prefix, page)
        if count == 0:
            return removed
        removed += count
        # Each page proves the lease is still ours and shows how far it got.
        async with ctx.transaction():
            pass
        log.info("purge.page", objects=count, total=removed)


async def _wait_for_other_jobs(ctx: JobContext) -> None:
    deadline = time.monotonic() + WAIT_FOR_STOPPED_SECONDS
    while True:
        async with ctx.transaction() as session:
            others = [
                j for j in await processing.active_jobs(session, ctx.asset_id) if j.id != ctx.job_id
            ]
        if not others:
            return
        if time.monotonic() > deadline:
            raise StillRunning(f"{len(others)} job(s) of the video have not stopped yet")
        await asyncio.sleep(POLL_SECONDS)


async def _after_purge(ctx: JobContext, project_id: str) -> None:
    """The last purge of a deleted project removes the project (a worker sweep does
    it too, should this process die right here)."""
    try:
        async with ctx.infra.transaction() as session:
            await projects.remove_if_purged(session, project_id)
    except Exception:
        log.warning("purge.project_removal_failed", project_id=project_id, exc_info=True)


async def _purge_failed(session: AsyncSession, job: Job, error_class: str, message: str) -> None:
    # The video stays `deleting` (playback is already off); an operator can retry
    # the dead job from the admin API.
    log.error("purge.failed", asset_id=job.asset_id, error_class=error_class, error=message)


async def _purge_cancelled(session: AsyncSession, job: Job) -> bool:
    return False


SPECS = (JobSpec(JobKind.purge, purge, on_failure=_purge_failed, on_cancel=_purge_cancelled),)

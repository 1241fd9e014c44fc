"""The specs of a chunked run's jobs: a piece that fails for good fails the video and
stops the other pieces; a stop of the video stops every piece (and removes the
outputs); progress is the chunks' progress, each weighted by its length."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.media.chunks import chunk_weight
from streamcore.models import AssetStatus, Job, JobKind, JobStatus
from streamcore.processing import chunked, stitching
from streamcore.processing import service as processing
from streamcore.processing.repository import JobRepository
from streamcore.processing.specs import JobSpec
from streamcore.processing.tasks import cancel_video, fail_video, video_progress, video_retrying
from streamcore.videos import layout
from streamcore.videos import service as videos

# Share of the progress bar the chunks take; the stitch (mp4, posters) takes the rest.
CHUNKS_SHARE = 0.95


async def fail_run(session: AsyncSession, job: Job, error_class: str, message: str) -> None:
    """Job rows first (every other piece stopped), then the asset row, as everywhere."""
    await processing.stop_jobs(session, job.asset_id)
    asset = await videos.get_asset(session, job.asset_id, for_update=True)
    if asset.status not in (AssetStatus.failed, AssetStatus.deleting, AssetStatus.deleted):
        await fail_video(session, job, error_class, message)


async def cancel_piece(session: AsyncSession, job: Job) -> bool:
    """A piece stopped: because the video failed (its outputs stay, as a failed single
    pass leaves them), or because the video was stopped (the first piece to see it
    marks it cancelled; every piece removes what is there)."""
    asset = await videos.get_asset(session, job.asset_id, for_update=True)
    if asset.status is AssetStatus.failed:
        return False
    if asset.status is AssetStatus.cancelled:
        return True
    return await cancel_video(session, job)


async def chunk_progress(
    session: AsyncSession, asset_id: str, _fraction: float, _eta: float | None
) -> None:
    asset = await videos.get_asset(session, asset_id)
    plan = asset.chunk_plan or {}
    spans = plan.get("spans") or []
    total = asset.duration_seconds or sum(b - a for a, b in spans)
    done = 0.0
    for job in await JobRepository(session).of_kinds(asset_id, [JobKind.transcode_chunk]):
        params = job.params or {}
        if params.get("run") != plan.get("run"):
            continue
        share = 1.0 if job.status is JobStatus.succeeded else job.progress
        done += chunk_weight(float(params["end"]) - float(params["start"]), total) * share
    await video_progress(session, asset_id, min(done, 1.0) * CHUNKS_SHARE, None)


async def stitch_progress(
    session: AsyncSession, asset_id: str, fraction: float, eta: float | None
) -> None:
    await video_progress(session, asset_id, max(fraction, CHUNKS_SHARE), eta)


SPECS = (
    JobSpec(
        JobKind.transcode_chunk,
        chunked.transcode_chunk,
        on_failure=fail_run,
        on_cancel=cancel_piece,
        outputs=layout.transcode_outputs,
        on_progress=chunk_progress,
        on_retry=video_retrying,
    ),
    JobSpec(
        JobKind.transcode_audio,
        chunked.transcode_audio,
        on_failure=fail_run,
        on_cancel=cancel_piece,
        outputs=layout.transcode_outputs,
        on_retry=video_retrying,
    ),
    JobSpec(
        JobKind.stitch,
        stitching.stitch,
        on_failure=fail_video,
        on_cancel=cancel_video,
        outputs=layout.transcode_outputs,
        on_progress=stitch_progress,
        on_retry=video_retrying,
    ),
)

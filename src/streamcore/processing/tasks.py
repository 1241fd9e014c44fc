"""Video jobs: media.ingest here, media.transcode in transcode.py, and their specs: a
final failure fails the video, a stop cancels it and removes the partial outputs, and
the transcode's progress shows on the video."""

from __future__ import annotations

from pathlib import Path

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.ffmpeg import ProbeError
from streamcore.adapters.storage.base import ObjectNotFound
from streamcore.db.session import AFTER_COMMIT
from streamcore.infra import Infra
from streamcore.media.failures import (
    ProbeFailed,
    SourceMissing,
    UnsupportedMedia,
)
from streamcore.media.ladder import plan_ladder
from streamcore.media.probe import (
    MediaInfo,
    interpret_probe,
    looks_like_text_playlist,
    probe_args,
    probe_reason,
)
from streamcore.models import AssetStatus, Job, JobKind
from streamcore.processing import chunked, transcode
from streamcore.processing import service as processing
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.processing.specs import JobSpec
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos
from streamcore.videos.events import asset_event, channels

log = structlog.get_logger(__name__)


async def _begin(ctx: JobContext, status: AssetStatus) -> None:
    async with ctx.transaction() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        if asset.status in (AssetStatus.cancelled, AssetStatus.deleting, AssetStatus.deleted):
            raise JobCancelled(ctx.asset_id)
        await lifecycle.start(session, asset, status)


async def ingest(ctx: JobContext) -> None:
    """Check the object, probe it, refuse what is not media, plan the ladder."""
    await _begin(ctx, AssetStatus.ingesting)
    key = layout.source_key(ctx.asset_id)
    try:
        async with ctx.infra.storage.local_copy(key) as path:
            info = await _probe(ctx, path)
    except ObjectNotFound as exc:
        raise SourceMissing("the uploaded file is not in storage") from exc
    renditions = plan_ladder(info)
    if chunked.spans_for(ctx.infra.settings, info):
        async with ctx.transaction() as session:
            playing = lifecycle.is_playable(await videos.get_asset(session, ctx.asset_id))
        if not playing:
            # Chunks of an earlier run (or a single pass) must not mix with this one's.
            for prefix in layout.transcode_outputs(ctx.asset_id):
                await ctx.infra.storage.delete_prefix(prefix)
    async with ctx.finish() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        videos.record_probe(
            asset,
            {
                "duration": info.duration,
                "width": info.width,
                "height": info.height,
                "video_codec": info.video_codec,
                "audio_codec": info.audio_codec,
                "bitrate": info.bitrate,
                "frame_rate": info.frame_rate,
                "variable_frame_rate": info.variable_frame_rate,
                "container": info.format_name,
            },
        )
        if lifecycle.set_renditions(asset, [r.to_dict() for r in renditions]):
            log.info("ingest.renditions_changed")
        await lifecycle.start(session, asset, AssetStatus.transcoding)
        asset.chunk_plan = None
        if chunked.spans_for(ctx.infra.settings, info):
            await chunked.plan(session, ctx.infra.settings, asset, info, run=ctx.job_id)
        else:
            await processing.enqueue(
                session,
                ctx.asset_id,
                JobKind.transcode,
                max_attempts=ctx.infra.settings.worker.max_attempts,
            )
    log.info("ingest.planned", rungs=[r.name for r in renditions], duration=info.duration)


async def _probe(ctx: JobContext, path: Path) -> MediaInfo:
    settings = ctx.infra.settings.media
    async with await anyio.open_file(path, "rb") as f:
        head = await f.read(64)
    if not head:
        raise ProbeFailed("the file is empty")
    if looks_like_text_playlist(head):
        raise UnsupportedMedia("playlists and file lists are not accepted as media")
    try:
        data = await ctx.infra.media.probe(
            probe_args(str(path)), timeout=settings.probe_timeout_seconds
        )
    except ProbeError as exc:
        if "not on whitelist" in exc.stderr_tail:
            # A playlist, image, subtitle or other format that is not an A/V container.
            raise UnsupportedMedia("not a supported audio/video container") from exc
        raise ProbeFailed(probe_reason(exc.stderr_tail, str(path))) from exc
    return interpret_probe(
        data,
        max_duration=settings.max_duration_seconds,
        max_width=settings.max_width,
        max_height=settings.max_height,
    )


async def fail_video(session: AsyncSession, job: Job, error_class: str, message: str) -> None:
    asset = await videos.get_asset(session, job.asset_id, for_update=True)
    await lifecycle.fail(session, asset, error_class, message)


async def cancel_video(session: AsyncSession, job: Job) -> bool:
    asset = await videos.get_asset(session, job.asset_id, for_update=True)
    if asset.status in (AssetStatus.deleting, AssetStatus.deleted):
        return False  # the purge removes everything
    await lifecycle.cancel(session, asset)
    return True


async def video_retrying(session: AsyncSession, job: Job, error_class: str, message: str) -> None:
    asset = await videos.get_asset(session, job.asset_id, for_update=True)
    if asset.status in lifecycle.WORKING_STATES:
        await lifecycle.retrying(session, asset, error_class, message)


async def video_progress(
    session: AsyncSession, asset_id: str, fraction: float, eta: float | None
) -> None:
    """Progress on the video, pushed to its listeners after commit."""
    asset = await videos.set_progress(session, asset_id, fraction, eta)
    if asset is None:
        return
    payload = asset_event(asset, "progress")

    async def push(infra: Infra) -> None:
        for channel in channels(asset.id, asset.project_id):
            await infra.realtime.publish(channel, payload)

    session.info.setdefault(AFTER_COMMIT, {})[f"progress:{asset_id}"] = push


SPECS = (
    JobSpec(
        JobKind.ingest,
        ingest,
        on_failure=fail_video,
        on_cancel=cancel_video,
        on_retry=video_retrying,
    ),
    JobSpec(
        JobKind.transcode,
        transcode.transcode,
        on_failure=fail_video,
        on_cancel=cancel_video,
        outputs=layout.transcode_outputs,
        on_progress=video_progress,
        on_retry=video_retrying,
    ),
)

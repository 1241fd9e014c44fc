"""Job handlers: media.ingest and media.transcode."""

from __future__ import annotations

import re
import time
from pathlib import Path

import anyio
import structlog

from streamcore.adapters.ffmpeg import FFmpegFailed, FFmpegStalled, FFmpegTimeout, ProbeError
from streamcore.adapters.storage.base import ObjectNotFound, upload_directory
from streamcore.models import Asset, AssetStatus, JobKind
from streamcore.processing import service as processing
from streamcore.processing.commands import MASTER_PLAYLIST, hls_ladder_args
from streamcore.processing.errors import (
    DecodeFailed,
    LimitExceeded,
    ProbeFailed,
    SourceMissing,
    TranscodeFailed,
    TransientError,
    UnsupportedMedia,
)
from streamcore.processing.ladder import Rendition, plan_ladder
from streamcore.processing.probe import (
    MediaInfo,
    interpret_probe,
    looks_like_text_playlist,
    probe_args,
)
from streamcore.processing.progress import progress_fraction
from streamcore.processing.runner import Handler, JobCancelled, JobContext
from streamcore.transcripts import service as transcripts
from streamcore.transcripts.tasks import transcribe
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

# Lines of FFmpeg's stderr that mean the input, not FFmpeg or our disk, is at fault.
DECODE_ERROR_MARKERS = (
    "invalid data",
    "corrupt",
    "partial file",
    "error while decoding",
    "invalid nal",
    "missing picture",
    "moov atom not found",
    "error reading header",
    "truncat",
    "decode",
    "concealing",
    "end of file",
)
# A decode that stops this far short of the probed duration lost part of the file.
MIN_DECODED_FRACTION = 0.9


async def _begin(ctx: JobContext, status: AssetStatus) -> None:
    async with ctx.transaction() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        if asset.status is AssetStatus.cancelled:
            raise JobCancelled(ctx.asset_id)
        videos.mark_working(asset, status)


async def ingest(ctx: JobContext) -> None:
    """Check the object, probe it, refuse what is not media, plan the ladder."""
    await _begin(ctx, AssetStatus.ingesting)
    key = videos.source_key(ctx.asset_id)
    try:
        async with ctx.infra.storage.local_copy(key) as path:
            info = await _probe(ctx, path)
    except ObjectNotFound as exc:
        raise SourceMissing("the uploaded file is not in storage") from exc
    renditions = plan_ladder(info)
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
                "container": info.format_name,
            },
            [r.to_dict() for r in renditions],
        )
        videos.mark_working(asset, AssetStatus.transcoding)
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
        raise ProbeFailed(_probe_reason(exc.stderr_tail, path)) from exc
    return interpret_probe(
        data,
        max_duration=settings.max_duration_seconds,
        max_width=settings.max_width,
        max_height=settings.max_height,
    )


_LOG_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")


def _probe_reason(stderr_tail: str, path: Path) -> str:
    """ffprobe's own words, without addresses or our file paths."""
    if "not on whitelist" in stderr_tail:
        return "not a supported audio/video container"
    reasons: list[str] = []
    for line in stderr_tail.splitlines():
        text = _LOG_PREFIX.sub("", line.strip()).replace(f"{path}: ", "")
        if text and str(path) not in text and text not in reasons:
            reasons.append(text)
    detail = "; ".join(reasons[-3:])[:300]
    return f"not a readable media file ({detail})" if detail else "not a readable media file"


def media_info_of(asset: Asset) -> MediaInfo:
    return MediaInfo(
        format_name=asset.container or "",
        duration=asset.duration_seconds or 0.0,
        bitrate=asset.bitrate,
        width=asset.width,
        height=asset.height,
        frame_rate=asset.frame_rate,
        video_codec=asset.video_codec,
        audio_codec=asset.audio_codec,
    )


async def transcode(ctx: JobContext) -> None:
    """One FFmpeg process: decode once, write every rung as HLS with a master playlist."""
    async with ctx.transaction() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        if asset.status is AssetStatus.cancelled:
            raise JobCancelled(ctx.asset_id)
        videos.mark_working(asset, AssetStatus.transcoding)
        info = media_info_of(asset)
        renditions = [Rendition(**r) for r in asset.renditions]
    settings = ctx.infra.settings.media
    out_dir = ctx.work_dir / "hls"
    out_dir.mkdir(parents=True, exist_ok=True)
    decoded = 0.0

    async def on_progress(block: dict[str, str]) -> None:
        nonlocal decoded
        fraction = progress_fraction(block, info.duration)
        if fraction is None:
            return
        decoded = max(decoded, fraction)
        # Uploading the outputs is the last 5%.
        await ctx.report(min(fraction, 1.0) * 0.95)

    started = time.monotonic()
    try:
        async with ctx.infra.storage.local_copy(videos.source_key(ctx.asset_id)) as src:
            args = hls_ladder_args(
                src,
                out_dir,
                info,
                renditions,
                preset=settings.preset,
                segment_seconds=settings.segment_seconds,
            )
            await ctx.infra.media.run(
                args,
                on_progress=on_progress,
                cancel=ctx.cancel,
                stall_timeout=settings.stall_timeout_seconds,
                timeout=max(600.0, info.duration * 10),
            )
    except ObjectNotFound as exc:
        raise SourceMissing("the uploaded file is not in storage") from exc
    except FFmpegFailed as exc:
        raise _classify_ffmpeg_failure(exc) from exc
    except FFmpegTimeout as exc:
        raise LimitExceeded(f"transcoding took too long ({exc})") from exc
    except FFmpegStalled as exc:
        raise TransientError(f"FFmpeg stalled: {exc}") from exc
    elapsed = time.monotonic() - started
    if info.duration > 2 and decoded < MIN_DECODED_FRACTION:
        raise DecodeFailed(
            f"only {decoded * info.duration:.1f}s of {info.duration:.1f}s could be decoded"
        )
    if not (out_dir / MASTER_PLAYLIST).is_file():
        raise TranscodeFailed("FFmpeg wrote no master playlist")
    ctx.infra.metrics.ffmpeg_speed.labels("transcode").observe(info.duration / max(elapsed, 1e-6))

    prefix = videos.hls_prefix(ctx.asset_id)
    # A previous attempt may have left outputs: replace them, never mix two runs.
    await ctx.infra.storage.delete_prefix(prefix)
    await upload_directory(ctx.infra.storage, out_dir, prefix)
    async with ctx.finish() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        videos.mark_ready(asset, f"{prefix}/{MASTER_PLAYLIST}")
        await transcripts.after_transcode(session, ctx.infra.settings, asset)
    log.info("transcode.done", seconds=round(elapsed, 2), speed=round(info.duration / elapsed, 2))


def _classify_ffmpeg_failure(exc: FFmpegFailed) -> Exception:
    tail = exc.stderr_tail.lower()
    last = next((ln for ln in reversed(exc.stderr_tail.splitlines()) if ln.strip()), "")
    if any(marker in tail for marker in DECODE_ERROR_MARKERS):
        return DecodeFailed(f"the file is damaged and cannot be decoded ({last.strip()[:300]})")
    return TranscodeFailed(f"FFmpeg failed with exit code {exc.returncode}: {last.strip()[:300]}")


HANDLERS: dict[JobKind, Handler] = {
    JobKind.ingest: ingest,
    JobKind.transcode: transcode,
    JobKind.transcribe: transcribe,
}

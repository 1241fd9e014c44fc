"""media.transcode: one FFmpeg process decodes once and writes every rung as HLS, while
the segments are published as they appear (watch while it encodes); beside it, the
loudness analysis, posters and storyboard; after it, the normalised mp4 and mp3."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import structlog

from streamcore.adapters.ffmpeg import FFmpegFailed, FFmpegStalled, FFmpegTimeout
from streamcore.adapters.storage.base import ObjectNotFound, upload_directory
from streamcore.media import ffmpeg_args, loudness, storyboard
from streamcore.media.failures import (
    DecodeFailed,
    LimitExceeded,
    SourceMissing,
    TranscodeFailed,
    classify_ffmpeg_failure,
    stall_failure,
    timeout_failure,
)
from streamcore.media.ffmpeg_args import MASTER_PLAYLIST, VARIANT_PLAYLIST, hls_ladder_args
from streamcore.media.hls import playlist_segments
from streamcore.media.ladder import Rendition
from streamcore.media.probe import MediaInfo
from streamcore.media.progress import progress_fraction
from streamcore.models import AssetStatus
from streamcore.processing.media_info import media_info_of
from streamcore.processing.publisher import HlsPublisher
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.transcripts import service as transcripts
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

PUBLISH_INTERVAL = 0.1
# A decode that stops this far short of the probed duration lost part of the file.
MIN_DECODED_FRACTION = 0.9
# Share of the progress bar the ladder takes; derivatives and upload take the rest.
LADDER_SHARE = 0.95


async def run_ffmpeg(ctx: JobContext, args: list[str], **kwargs: Any) -> str:
    """Run FFmpeg for this job (cancellable, watched) and map its failures."""
    media = ctx.infra.settings.media
    try:
        return await ctx.infra.media.run(
            args, cancel=ctx.cancel, stall_timeout=media.stall_timeout_seconds, **kwargs
        )
    except FFmpegFailed as exc:
        raise classify_ffmpeg_failure(exc.returncode, exc.stderr_tail) from exc
    except FFmpegTimeout as exc:
        raise timeout_failure(str(exc)) from exc
    except FFmpegStalled as exc:
        raise stall_failure(str(exc)) from exc


@dataclass
class SideOutputs:
    """What the helpers beside the ladder produced."""

    loudness: dict[str, float] | None = None


async def _side_work(
    ctx: JobContext, src: Path, info: MediaInfo, out: Path, start: asyncio.Event
) -> SideOutputs:
    """The audio derivatives, both loudnorm passes: measure, then write the normalised
    mp3 (and the AAC track the mp4 will carry). Audio is cheap next to the ladder, so
    this runs beside it instead of after it, from `start`: once every variant has its
    first segment, so that it does not slow the first playable moment."""
    result = SideOutputs()
    if not info.has_audio:
        return result
    await start.wait()
    target = _target(ctx)
    stderr = await run_ffmpeg(
        ctx, ffmpeg_args.loudnorm_analyze_args(src, info, target), timeout=_limit(info)
    )
    result.loudness = loudness.parse_loudnorm(stderr)
    audio_filter = loudness.loudnorm_filter(target, result.loudness)
    der_dir = out / "derivatives"
    der_dir.mkdir(parents=True, exist_ok=True)
    args = ffmpeg_args.audio_derivatives_args(
        src, info, der_dir, audio_filter, for_mp4=info.has_video
    )
    await run_ffmpeg(ctx, args, timeout=_limit(info))
    return result


def _target(ctx: JobContext) -> loudness.LoudnessTarget:
    m = ctx.infra.settings.media
    return loudness.LoudnessTarget(m.loudness_target_lufs, m.loudness_true_peak, m.loudness_range)


def _limit(info: MediaInfo) -> float:
    return max(600.0, info.duration * 10)


async def _publish_loop(
    ctx: JobContext,
    publisher: HlsPublisher,
    on_playable: Callable[[], Awaitable[None]],
    started: asyncio.Event,
) -> None:
    """Publish every PUBLISH_INTERVAL; `started` is set once every variant has a
    segment (the asset plays, or would if it were not a republish)."""
    limit = ctx.infra.settings.media.max_output_bytes
    while True:
        if await publisher.sync():
            await on_playable()
        if publisher.every_variant_started:
            started.set()
        if publisher.bytes_written > limit:
            raise LimitExceeded(f"the renditions grew past {limit} bytes")
        await asyncio.sleep(PUBLISH_INTERVAL)


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    flat: list[BaseException] = []

    def walk(eg: BaseExceptionGroup[BaseException]) -> None:
        for exc in eg.exceptions:
            if isinstance(exc, BaseExceptionGroup):
                walk(exc)
            else:
                flat.append(exc)

    walk(group)
    real = [e for e in flat if not isinstance(e, asyncio.CancelledError)]
    return (real or flat)[0]


async def transcode(ctx: JobContext) -> None:
    """The ladder, published as it is written, then the derivatives; then `ready`."""
    async with ctx.transaction() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        if asset.status in (AssetStatus.cancelled, AssetStatus.deleting, AssetStatus.deleted):
            raise JobCancelled(ctx.asset_id)
        await lifecycle.start(session, asset, AssetStatus.transcoding)
        info = media_info_of(asset)
        renditions = [Rendition(**r) for r in asset.renditions]
        playing = lifecycle.is_playable(asset)
    storage = ctx.infra.storage
    if not playing:
        # A previous attempt may have left outputs nobody plays: never mix two runs.
        for prefix in layout.transcode_outputs(ctx.asset_id):
            await storage.delete_prefix(prefix)
    out = ctx.work_dir
    hls_dir = out / "hls"
    hls_dir.mkdir(parents=True, exist_ok=True)
    publisher = HlsPublisher(
        storage, hls_dir, layout.hls_prefix(ctx.asset_id), [r.name for r in renditions],
        republish=playing,
    )  # fmt: skip
    master_key = layout.master_key(ctx.asset_id)
    decoded = 0.0
    started = time.monotonic()

    async def on_progress(block: dict[str, str]) -> None:
        nonlocal decoded
        fraction = progress_fraction(block, info.duration)
        if fraction is not None:
            decoded = max(decoded, fraction)
            await ctx.report(fraction * LADDER_SHARE)

    async def on_playable() -> None:
        async with ctx.transaction() as session:
            asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
            await lifecycle.publish_playback(session, asset, master_key)
        log.info("transcode.playable", seconds=round(time.monotonic() - started, 2))

    media = ctx.infra.settings.media
    try:
        async with storage.local_copy(layout.source_key(ctx.asset_id)) as src:
            args = hls_ladder_args(
                src, hls_dir, info, renditions,
                preset=media.preset, segment_seconds=media.segment_seconds,
            )  # fmt: skip
            try:
                async with asyncio.TaskGroup() as tg:
                    ladder = tg.create_task(
                        run_ffmpeg(ctx, args, on_progress=on_progress, timeout=_limit(info))
                    )
                    first_segments = asyncio.Event()
                    side = tg.create_task(_side_work(ctx, src, info, out, first_segments))
                    publishing = tg.create_task(
                        _publish_loop(ctx, publisher, on_playable, first_segments)
                    )
                    await ladder
                    first_segments.set()
                    publishing.cancel()
            except BaseExceptionGroup as group:
                raise _first_error(group) from None
            ladder_seconds = time.monotonic() - started
            if info.duration > 2 and decoded < MIN_DECODED_FRACTION:
                raise DecodeFailed(
                    f"only {decoded * info.duration:.1f}s of {info.duration:.1f}s could be decoded"
                )
            if not (hls_dir / MASTER_PLAYLIST).is_file():
                raise TranscodeFailed("FFmpeg wrote no master playlist")
            if await publisher.sync(final=True):
                await on_playable()
            outputs = await _derivatives(ctx, info, out, renditions, side.result())
    except ObjectNotFound as exc:
        raise SourceMissing("the uploaded file is not in storage") from exc
    ctx.infra.metrics.ffmpeg_speed.labels("transcode").observe(
        info.duration / max(ladder_seconds, 1e-6)
    )
    async with ctx.finish() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        await lifecycle.mark_ready(session, asset, master_key, outputs)
        await transcripts.after_transcode(session, ctx.infra.settings, asset)
    log.info(
        "transcode.done",
        ladder_seconds=round(ladder_seconds, 2),
        total_seconds=round(time.monotonic() - started, 2),
        speed=round(info.duration / ladder_seconds, 2),
    )


async def _derivatives(
    ctx: JobContext,
    info: MediaInfo,
    out: Path,
    renditions: list[Rendition],
    side: SideOutputs,
) -> dict[str, Any]:
    """After the ladder: the mp4 (a remux of the top rung and the normalised audio),
    posters and the storyboard, all from our own renditions and side by side; then
    store them. Returns the keys for the asset row."""
    prefix = layout.asset_prefix(ctx.asset_id)
    der_dir = out / "derivatives"
    der_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"loudness": side.loudness}
    if info.has_audio:
        result["mp3"] = f"derivatives/{ffmpeg_args.MP3_NAME}"
    if info.has_video:
        await _video_derivatives(ctx, info, out, renditions)
        thumbs = out / "thumbnails"
        await upload_directory(ctx.infra.storage, thumbs, f"{prefix}/thumbnails")
        posters = sorted(p.name for p in thumbs.glob("poster-*.jpg"))
        result["mp4"] = f"derivatives/{ffmpeg_args.MP4_NAME}"
        result["posters"] = {
            p.removeprefix("poster-").removesuffix(".jpg"): f"thumbnails/{p}" for p in posters
        }
        result["storyboard"] = f"thumbnails/{storyboard.STORYBOARD_IMAGE}"
        result["storyboard_vtt"] = f"thumbnails/{storyboard.STORYBOARD_VTT}"
    # The AAC track lives on inside the mp4; only the finished files are stored.
    await anyio.to_thread.run_sync(
        lambda: (der_dir / ffmpeg_args.NORMALISED_AAC).unlink(missing_ok=True)
    )
    await upload_directory(ctx.infra.storage, der_dir, f"{prefix}/derivatives")
    await ctx.report(0.99, force=True)
    return result


async def _video_derivatives(
    ctx: JobContext, info: MediaInfo, out: Path, renditions: list[Rendition]
) -> None:
    hls = out / "hls"
    top = out / "top-rung.ts"
    await anyio.to_thread.run_sync(_join_segments, hls / renditions[0].name, top)
    low = top
    if len(renditions) > 1:
        low = out / "low-rung.ts"
        await anyio.to_thread.run_sync(_join_segments, hls / renditions[-1].name, low)
    thumbs = out / "thumbnails"
    thumbs.mkdir(parents=True, exist_ok=True)
    audio = out / "derivatives" / ffmpeg_args.NORMALISED_AAC
    plan = storyboard.plan_storyboard(info)
    limit = _limit(info)

    async def posters() -> None:
        await run_ffmpeg(ctx, ffmpeg_args.poster_args(top, info, thumbs), timeout=limit)
        if not any(thumbs.glob("poster-*.jpg")):
            # Dark from start to end of the search window: take the best of what is there.
            dark = ffmpeg_args.poster_args(top, info, thumbs, skip_dark=False)
            await run_ffmpeg(ctx, dark, timeout=limit)

    mux = ffmpeg_args.mp4_mux_args(top, audio if info.has_audio else None, out / "derivatives")
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(run_ffmpeg(ctx, mux, timeout=limit))
            tg.create_task(posters())
            tg.create_task(
                run_ffmpeg(ctx, ffmpeg_args.storyboard_args(low, thumbs, plan), timeout=limit)
            )
    except BaseExceptionGroup as group:
        raise _first_error(group) from None
    vtt = storyboard.storyboard_vtt(plan, info.duration)
    await anyio.to_thread.run_sync((thumbs / storyboard.STORYBOARD_VTT).write_text, vtt)


def _join_segments(variant_dir: Path, dest: Path) -> None:
    """MPEG-TS segments of one FFmpeg run concatenate byte for byte into one stream."""
    names = playlist_segments((variant_dir / VARIANT_PLAYLIST).read_text())
    with open(dest, "wb") as joined:
        for name in names:
            with open(variant_dir / name, "rb") as seg:
                while chunk := seg.read(1 << 20):
                    joined.write(chunk)

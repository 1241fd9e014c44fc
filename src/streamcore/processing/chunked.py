"""A long source in pieces: the plan made at ingest, media.transcode_chunk (every video
rung of one span, on any worker) and media.transcode_audio (the whole audio once, as
the audio rendition, with the loudness-normalised derivatives). Each piece stores its
outputs, then reports to the stitching (stitching.piece_done) in its final commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import NotSupported, ObjectNotFound
from streamcore.config import Settings
from streamcore.media import ffmpeg_args
from streamcore.media.chunks import (
    AUDIO_DIR,
    Span,
    audio_rendition_args,
    chunk_ladder_args,
    chunk_playlist,
    plan_chunks,
)
from streamcore.media.failures import SourceMissing, TranscodeFailed
from streamcore.media.hls import playlist_segments
from streamcore.media.ladder import Rendition
from streamcore.media.probe import MediaInfo
from streamcore.media.progress import progress_fraction
from streamcore.media.stitch import Segment, h264_codec, parse_media_playlist
from streamcore.models import Asset, AssetStatus, JobKind
from streamcore.processing import service as processing
from streamcore.processing import stitching
from streamcore.processing.media_info import media_info_of
from streamcore.processing.publisher import HlsPublisher
from streamcore.processing.repository import JobRepository
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.processing.transcode import PUBLISH_INTERVAL, _first_error, _side_work, run_ffmpeg
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

UPLOAD_PARALLEL = 8
GONE = (AssetStatus.cancelled, AssetStatus.deleting, AssetStatus.deleted, AssetStatus.failed)


def spans_for(settings: Settings, info: MediaInfo) -> list[Span]:
    """The chunks of a source, or [] when it is transcoded in a single pass (short,
    or no video: audio alone is cheap)."""
    if not info.has_video:
        return []
    m = settings.media
    return plan_chunks(
        info.duration,
        threshold=m.chunk_threshold_seconds,
        chunk_seconds=m.chunk_seconds,
        first_seconds=m.first_chunk_seconds,
        segment_seconds=m.segment_seconds,
    )


async def plan(
    session: AsyncSession, settings: Settings, asset: Asset, info: MediaInfo, run: str
) -> None:
    """In the ingest's final commit: one job per chunk and one for the audio."""
    spans = spans_for(settings, info)
    asset.chunk_plan = {
        "run": run,
        "spans": [[s.start, s.end] for s in spans],
        "audio": info.has_audio,
    }
    attempts = settings.worker.max_attempts

    async def add(kind: JobKind, params: dict[str, Any]) -> None:
        await processing.enqueue(session, asset.id, kind, max_attempts=attempts, params=params)

    # The first chunk, then the audio, then the rest: whatever the number of workers,
    # the two that make the video playable are taken first.
    for s in spans:
        await add(
            JobKind.transcode_chunk, {"run": run, "index": s.index, "start": s.start, "end": s.end}
        )
        if s.index == 0 and info.has_audio:
            await add(JobKind.transcode_audio, {"run": run})


async def _begin(ctx: JobContext) -> tuple[dict[str, Any], MediaInfo, list[Rendition], bool]:
    """Check that the video still wants this piece; (params, media info, rungs,
    whether it already plays)."""
    async with ctx.transaction() as session:
        job = await JobRepository(session).get(ctx.job_id)
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        if asset.status in GONE or job is None:
            raise JobCancelled(ctx.asset_id)
        await lifecycle.resume(session, asset)
        params = dict(job.params or {})
        renditions = [Rendition(**r) for r in asset.renditions]
        return params, media_info_of(asset), renditions, lifecycle.is_playable(asset)


@asynccontextmanager
async def _span_source(ctx: JobContext, seconds: float) -> AsyncIterator[tuple[str, bool]]:
    """Where FFmpeg reads the source from, and whether it is remote: the file itself on
    local storage, else a presigned URL (FFmpeg seeks with byte ranges, so a chunk
    reads about its own share), else a local copy when the store cannot presign."""
    storage = ctx.infra.storage
    key = layout.source_key(ctx.asset_id)
    path = storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise SourceMissing("the uploaded file is not in storage")
        yield str(path), False
        return
    if not await storage.exists(key):
        raise SourceMissing("the uploaded file is not in storage")
    try:
        url = await storage.presign_get(key, expires_in=int(max(3600, seconds * 20)))
    except NotSupported:
        async with storage.local_copy(key) as copy:
            yield str(copy), False
        return
    yield url, True


async def transcode_chunk(ctx: JobContext) -> None:
    params, info, renditions, _playing = await _begin(ctx)
    span = Span(int(params["index"]), float(params["start"]), float(params["end"]))
    media = ctx.infra.settings.media
    out = ctx.work_dir / "hls"
    for r in renditions:
        (out / r.name).mkdir(parents=True, exist_ok=True)

    async def on_progress(block: dict[str, str]) -> None:
        fraction = progress_fraction(block, span.duration)
        if fraction is not None:
            await ctx.report(fraction)

    async with _span_source(ctx, span.duration) as (source, remote):
        args = chunk_ladder_args(
            source, out, info, renditions, span,
            remote=remote, preset=media.preset, segment_seconds=media.segment_seconds,
        )  # fmt: skip
        await run_ffmpeg(ctx, args, on_progress=on_progress, timeout=max(600.0, span.duration * 20))
    result = await _store_chunk(ctx, out, renditions, span)
    async with ctx.finish() as session:
        job = await JobRepository(session).get(ctx.job_id)
        assert job is not None
        job.result = result
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        await stitching.piece_done(session, ctx.infra, asset, ctx.job_id)
    log.info("chunk.done", index=span.index, seconds=span.duration)


async def _store_chunk(
    ctx: JobContext, out: Path, renditions: list[Rendition], span: Span
) -> dict[str, Any]:
    """Upload the chunk's segments; what the stitching needs of them: each rung's
    (name, duration, bytes) in order and its codec."""
    segments: dict[str, list[Segment]] = {}
    codecs: dict[str, str] = {}
    for r in renditions:
        segments[r.name], codecs[r.name] = await anyio.to_thread.run_sync(
            _read_rung, out / r.name, span.index
        )
    prefix = layout.hls_prefix(ctx.asset_id)
    gate = asyncio.Semaphore(UPLOAD_PARALLEL)

    async def put(rung: str, name: str) -> None:
        async with gate:
            await ctx.infra.storage.put_file(f"{prefix}/{rung}/{name}", out / rung / name)

    async with asyncio.TaskGroup() as tg:
        for rung, segs in segments.items():
            for name, _d, _s in segs:
                tg.create_task(put(rung, name))
    return {"segments": segments, "codecs": codecs}


def _read_rung(rung_dir: Path, index: int) -> tuple[list[Segment], str]:
    playlist = rung_dir / chunk_playlist(index)
    if not playlist.is_file():
        raise TranscodeFailed(f"FFmpeg wrote no playlist for chunk {index}")
    listed = parse_media_playlist(playlist.read_text())
    if not listed:
        raise TranscodeFailed(f"chunk {index} has no segments")
    segs = [(name, round(d, 6), (rung_dir / name).stat().st_size) for name, d in listed]
    with open(rung_dir / listed[0][0], "rb") as first:
        codec = h264_codec(first.read(1 << 16))
    return segs, codec or ""


async def transcode_audio(ctx: JobContext) -> None:
    """The audio rendition, published while it encodes (the master goes out once it
    and the first chunk are there); beside it the loudness-normalised mp3 and the AAC
    track the mp4 will carry, kept for the stitch."""
    _params, info, renditions, playing = await _begin(ctx)
    media = ctx.infra.settings.media
    storage = ctx.infra.storage
    hls = ctx.work_dir / "hls"
    (hls / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    publisher = HlsPublisher(
        storage, hls, layout.hls_prefix(ctx.asset_id), [AUDIO_DIR], republish=playing
    )
    kbps = max(r.audio_kbps for r in renditions) or 128
    try:
        async with storage.local_copy(layout.source_key(ctx.asset_id)) as src:
            args = audio_rendition_args(src, hls, info, kbps, segment_seconds=media.segment_seconds)
            async with asyncio.TaskGroup() as tg:
                encode = tg.create_task(run_ffmpeg(ctx, args, timeout=max(600.0, info.duration)))
                # The derivatives wait for the rendition's first segments (playable first).
                first_out = asyncio.Event()
                side = tg.create_task(_side_work(ctx, src, info, ctx.work_dir, first_out))
                publishing = tg.create_task(_publish_audio(ctx, publisher, first_out))
                await encode
                first_out.set()
                publishing.cancel()
    except ObjectNotFound as exc:
        raise SourceMissing("the uploaded file is not in storage") from exc
    except BaseExceptionGroup as group:
        raise _first_error(group) from None
    await publisher.sync(final=True)
    der = ctx.work_dir / "derivatives"
    prefix = layout.asset_prefix(ctx.asset_id)
    await storage.put_file(
        f"{prefix}/derivatives/{ffmpeg_args.MP3_NAME}", der / ffmpeg_args.MP3_NAME
    )
    await storage.put_file(
        layout.key(ctx.asset_id, stitching.NORMALISED_AUDIO_PATH), der / ffmpeg_args.NORMALISED_AAC
    )
    async with ctx.finish() as session:
        job = await JobRepository(session).get(ctx.job_id)
        assert job is not None
        job.result = {"published": True, "loudness": side.result().loudness}
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        await stitching.piece_done(session, ctx.infra, asset, ctx.job_id)


async def _publish_audio(
    ctx: JobContext, publisher: HlsPublisher, told_event: asyncio.Event
) -> None:
    """Publish the growing audio playlist; the first time it names a segment, tell the
    stitching (the master may go out)."""
    told = False
    while True:
        await publisher.sync()
        if not told and playlist_segments(publisher.published_playlists.get(AUDIO_DIR, "")):
            told = True
            async with ctx.transaction() as session:
                job = await JobRepository(session).get(ctx.job_id)
                assert job is not None
                job.result = {**(job.result or {}), "published": True}
                asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
                await stitching.piece_done(session, ctx.infra, asset, None)
            told_event.set()
        await asyncio.sleep(PUBLISH_INTERVAL)

"""Job handler media.transcribe: extract 16 kHz mono audio, run the configured engine,
store JSON, text and WebVTT, and attach captions to the HLS master."""

from __future__ import annotations

import posixpath
import time
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.ffmpeg import FFmpegFailed, FFmpegStalled, FFmpegTimeout, ProbeError
from streamcore.adapters.storage.base import InvalidKey, ObjectNotFound
from streamcore.adapters.transcribe.base import (
    SAMPLE_RATE,
    AudioRejected,
    EngineMisconfigured,
    EngineUnavailable,
    Transcript,
)
from streamcore.adapters.transcribe.languages import language_name
from streamcore.media import hls, webvtt
from streamcore.media import transcript_formats as formats
from streamcore.media.failures import SourceMissing, TransientError, last_stderr_line, stall_failure
from streamcore.media.ffmpeg_args import extract_audio_args, segment_start_args
from streamcore.media.hls import resolve
from streamcore.media.probe import MediaInfo
from streamcore.media.progress import progress_fraction
from streamcore.models import Asset, AssetStatus, Job, JobKind
from streamcore.processing.media_info import media_info_of
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.processing.specs import JobSpec
from streamcore.transcripts import service as transcripts
from streamcore.transcripts.engines import engine_for
from streamcore.transcripts.errors import (
    AudioExtractionFailed,
    NotTranscribable,
    TranscriptionFailed,
)
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

# Shares of the job's progress: audio extraction, then the engine, then storing.
EXTRACT_SHARE = 0.1
ENGINE_SHARE = 0.85


def _master_key(asset: Asset) -> str:
    """The asset's HLS master playlist key, if it can be transcribed."""
    if asset.status is not AssetStatus.ready or asset.playback_key is None:
        raise NotTranscribable(f"the video is not ready (status: {asset.status.value})")
    if asset.audio_codec is None:
        raise NotTranscribable("the video has no audio track")
    return asset.playback_key


async def transcribe(ctx: JobContext) -> None:
    """Transcribe one ready asset and attach the result to it."""
    async with ctx.transaction() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        master_key = _master_key(asset)
        lifecycle.transcript_running(asset)
        info = media_info_of(asset)
    started = time.monotonic()
    wav = ctx.work_dir / "audio.wav"
    await _extract_audio(ctx, info, wav)

    async def on_progress(fraction: float) -> None:
        if ctx.cancel.is_set():
            raise JobCancelled(ctx.asset_id)
        await ctx.report(EXTRACT_SHARE + ENGINE_SHARE * fraction)

    settings = ctx.infra.settings.transcribe
    engine = engine_for(settings)
    try:
        result = await engine.transcribe(
            wav, language=settings.language or None, on_progress=on_progress
        )
    except EngineUnavailable as exc:
        raise TransientError(str(exc)) from exc
    except (EngineMisconfigured, AudioRejected) as exc:
        raise TranscriptionFailed(str(exc)) from exc
    elapsed = time.monotonic() - started
    if elapsed > 0:
        ctx.infra.metrics.ffmpeg_speed.labels("transcribe").observe(result.duration / elapsed)
    await _store(ctx, result, info.duration, master_key)
    log.info(
        "transcribe.done",
        engine=engine.name,
        language=result.language,
        segments=len(result.segments),
        seconds=round(elapsed, 2),
        speed=round(result.duration / max(elapsed, 1e-6), 2),
    )


async def _extract_audio(ctx: JobContext, info: MediaInfo, wav: Path) -> None:
    settings = ctx.infra.settings.media

    async def on_progress(block: dict[str, str]) -> None:
        fraction = progress_fraction(block, info.duration)
        if fraction is not None:
            await ctx.report(EXTRACT_SHARE * fraction)

    try:
        async with ctx.infra.storage.local_copy(layout.source_key(ctx.asset_id)) as src:
            await ctx.infra.media.run(
                extract_audio_args(src, wav, info, sample_rate=SAMPLE_RATE),
                on_progress=on_progress,
                cancel=ctx.cancel,
                stall_timeout=settings.stall_timeout_seconds,
                timeout=max(600.0, info.duration * 2),
            )
    except ObjectNotFound as exc:
        raise SourceMissing("the uploaded file is not in storage") from exc
    except FFmpegFailed as exc:
        last = last_stderr_line(exc.stderr_tail)
        raise AudioExtractionFailed(f"cannot decode the audio ({last})") from exc
    except FFmpegTimeout as exc:
        raise AudioExtractionFailed(f"audio extraction took too long ({exc})") from exc
    except FFmpegStalled as exc:
        raise stall_failure(str(exc)) from exc


async def _store(ctx: JobContext, result: Transcript, duration: float, master_key: str) -> None:
    """Files first, then (in the final transaction) the master playlist, the status and
    the event: a crash in between leaves files nothing points at yet."""
    storage = ctx.infra.storage
    asset_id = ctx.asset_id
    prefix = layout.transcript_prefix(asset_id)
    await storage.put_bytes(f"{prefix}/{transcripts.JSON_FILE}", formats.json_bytes(result))
    await storage.put_bytes(f"{prefix}/{transcripts.TEXT_FILE}", formats.to_text(result).encode())
    await storage.put_bytes(
        f"{prefix}/{transcripts.VTT_FILE}", webvtt.to_vtt(result.segments).encode()
    )

    lang = result.language or "und"
    # Beside the master, so the master refers to the captions by a relative URI.
    subs = posixpath.join(posixpath.dirname(master_key), hls.SUBS_DIR)
    await storage.delete_prefix(subs)
    offset = await _mpegts_offset(ctx, master_key)
    await storage.put_bytes(
        f"{subs}/{lang}.vtt", webvtt.to_vtt(result.segments, mpegts_offset=offset).encode()
    )
    playlist = hls.subtitle_playlist(f"{lang}.vtt", max(duration, result.duration))
    await storage.put_bytes(f"{subs}/{lang}.m3u8", playlist.encode())

    async with ctx.finish() as session:
        asset = await videos.get_asset(session, asset_id, for_update=True)
        master_key = _master_key(asset)
        master = (await storage.get_bytes(master_key)).decode("utf-8")
        master = hls.add_subtitles(
            master,
            uri=f"{hls.SUBS_DIR}/{lang}.m3u8",
            language=result.language,
            name=language_name(result.language),
        )
        await storage.put_bytes(master_key, master.encode())
        await lifecycle.transcript_ready(session, asset, result.language)
        await transcripts.emit_transcribed(
            session,
            asset,
            {
                "language": result.language,
                "duration": round(result.duration, 3),
                "engine": result.engine,
                "model": result.model,
                "segments": len(result.segments),
                "keys": {
                    "json": f"{prefix}/{transcripts.JSON_FILE}",
                    "text": f"{prefix}/{transcripts.TEXT_FILE}",
                    "vtt": f"{prefix}/{transcripts.VTT_FILE}",
                },
            },
        )


async def _mpegts_offset(ctx: JobContext, master_key: str) -> int:
    """Where the asset's time 0 sits in the MPEG-TS timeline of its segments: the
    start of the first segment of the first variant."""
    storage = ctx.infra.storage
    try:
        master = (await storage.get_bytes(master_key)).decode("utf-8")
        variant = hls.first_segment(master)
        variant_key = resolve(master_key, variant) if variant else None
        if variant_key is None:
            return hls.DEFAULT_MPEGTS_OFFSET
        playlist = (await storage.get_bytes(variant_key)).decode("utf-8")
        segment = hls.first_segment(playlist)
        segment_key = resolve(variant_key, segment) if segment else None
        if segment_key is None or not segment_key.endswith(".ts"):
            return hls.DEFAULT_MPEGTS_OFFSET
        async with storage.local_copy(segment_key) as path:
            probe = await ctx.infra.media.probe(segment_start_args(path), timeout=30)
    except (ObjectNotFound, InvalidKey, ProbeError, UnicodeDecodeError) as exc:
        log.warning("transcribe.segment_probe_failed", error=str(exc))
        return hls.DEFAULT_MPEGTS_OFFSET
    offset = hls.mpegts_offset(probe)
    return hls.DEFAULT_MPEGTS_OFFSET if offset is None else offset


async def _failed(session: AsyncSession, job: Job, error_class: str, message: str) -> None:
    """A failed transcription fails the transcript, never the (still playable) video."""
    await transcripts.record_failure(session, job.asset_id, error_class, message)


async def _stopped(session: AsyncSession, job: Job) -> bool:
    """A stopped transcription keeps the video and its outputs."""
    await transcripts.record_failure(
        session, job.asset_id, "Cancelled", "the transcription was stopped"
    )
    return False


SPECS = (JobSpec(JobKind.transcribe, transcribe, on_failure=_failed, on_cancel=_stopped),)

"""Stitching a chunked run. Every piece that finishes (piece_done, in its final commit,
with the video row locked so pieces finishing together take turns):
- publishes each rung's playlist over the contiguous prefix of finished chunks, and the
  master once the first chunk and the audio's first segments are out (watch while
  encoding: chunk 1 plays first, and the playlists only grow);
- when it is the last one, enqueues media.stitch in the same transaction.

media.stitch writes the final playlists (no re-encode), then the mp4 (joined from the
chunks' top rung, with the normalised audio), posters and storyboard, and `ready`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.storage.base import ObjectStorage
from streamcore.infra import Infra
from streamcore.media.chunks import target_duration
from streamcore.media.failures import TranscodeFailed
from streamcore.media.ffmpeg_args import MASTER_PLAYLIST, NORMALISED_AAC, VARIANT_PLAYLIST
from streamcore.media.ladder import Rendition
from streamcore.media.stitch import (
    FALLBACK_H264,
    Segment,
    Variant,
    master_playlist,
    media_playlist,
)
from streamcore.models import Asset, AssetStatus, Job, JobKind, JobStatus
from streamcore.processing import service as processing
from streamcore.processing.media_info import media_info_of
from streamcore.processing.repository import JobRepository
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.processing.transcode import SideOutputs, _derivatives
from streamcore.transcripts import service as transcripts
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos

log = structlog.get_logger(__name__)

# The normalised AAC track the audio job leaves for the stitch's mp4.
NORMALISED_AUDIO_PATH = f"{layout.WORK}/{NORMALISED_AAC}"
# The encoder's peak cap over the average (ladder_video_codec_args' maxrate).
MAXRATE_FACTOR = 1.07
PIECES = (JobKind.transcode_chunk, JobKind.transcode_audio, JobKind.stitch)


@dataclass
class Pieces:
    """The jobs of an asset's current chunked run."""

    count: int
    chunks: dict[int, Job] = field(default_factory=dict)
    audio: Job | None = None
    stitch: Job | None = None

    def prefix(self, finished: str | None) -> list[Job]:
        """The finished chunks from the first on, up to the first that is not."""
        out: list[Job] = []
        for i in range(self.count):
            job = self.chunks.get(i)
            if job is None or not _done(job, finished):
                break
            out.append(job)
        return out


def _done(job: Job, finished: str | None) -> bool:
    return job.status is JobStatus.succeeded or job.id == finished


async def pieces_of(session: AsyncSession, asset: Asset) -> Pieces:
    plan = asset.chunk_plan or {}
    run = plan.get("run")
    pieces = Pieces(count=len(plan.get("spans") or []))
    for job in await JobRepository(session).of_kinds(asset.id, PIECES):
        if (job.params or {}).get("run") != run:
            continue
        if job.kind is JobKind.transcode_chunk:
            pieces.chunks[int((job.params or {})["index"])] = job
        elif job.kind is JobKind.transcode_audio:
            pieces.audio = job
        else:
            pieces.stitch = job
    return pieces


async def piece_done(
    session: AsyncSession, infra: Infra, asset: Asset, finished: str | None
) -> None:
    """A piece finished (`finished`: its job id, still running in this transaction)
    or the audio's first segments are out (None). The caller holds the asset row."""
    plan = asset.chunk_plan
    if not plan:
        return
    pieces = await pieces_of(session, asset)
    prefix = pieces.prefix(finished)
    audio = pieces.audio
    audio_done = audio is None or _done(audio, finished)
    audio_out = audio_done or bool(audio is not None and (audio.result or {}).get("published"))
    ended = len(prefix) == pieces.count
    if prefix and audio_out:
        await write_playlists(infra, asset, [j.result or {} for j in prefix], ended=ended)
        if asset.playback_key is None and asset.status is AssetStatus.transcoding:
            await lifecycle.publish_playback(session, asset, layout.master_key(asset.id))
    if ended and audio_done and pieces.stitch is None:
        await processing.enqueue(
            session, asset.id, JobKind.stitch,
            max_attempts=infra.settings.worker.max_attempts, params={"run": plan["run"]},
        )  # fmt: skip


def rung_segments(results: list[dict[str, Any]], rung: str) -> list[Segment]:
    """One rung's segments over these chunks' results, in order."""
    return [(str(n), float(d), int(s)) for res in results for n, d, s in res["segments"][rung]]


async def write_playlists(
    infra: Infra, asset: Asset, results: list[dict[str, Any]], *, ended: bool
) -> None:
    """Each rung's playlist over these chunks (in order), then the master."""
    storage = infra.storage
    seg_seconds = infra.settings.media.segment_seconds
    renditions = [Rendition(**r) for r in asset.renditions]
    prefix = layout.hls_prefix(asset.id)
    variants: list[Variant] = []
    for r in renditions:
        segs = rung_segments(results, r.name)
        target = target_duration(seg_seconds, max(d for _n, d, _s in segs))
        text = media_playlist(segs, target=target, ended=ended)
        await storage.put_bytes(f"{prefix}/{r.name}/{VARIANT_PLAYLIST}", text.encode())
        codec = results[0].get("codecs", {}).get(r.name) or FALLBACK_H264
        cap = int(r.video_kbps * 1000 * MAXRATE_FACTOR)
        variants.append(
            Variant(r.name, r.width, r.height, cap, codec, asset.frame_rate, tuple(segs))
        )
    has_audio = bool((asset.chunk_plan or {}).get("audio"))
    audio_bps = max(r.audio_kbps for r in renditions) * 1000 if has_audio else None
    master = master_playlist(variants, audio_bps=audio_bps)
    await storage.put_bytes(f"{prefix}/{MASTER_PLAYLIST}", master.encode())


async def stitch(ctx: JobContext) -> None:
    async with ctx.transaction() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        if asset.status in (AssetStatus.cancelled, AssetStatus.deleting, AssetStatus.deleted):
            raise JobCancelled(ctx.asset_id)
        await lifecycle.resume(session, asset)
        pieces = await pieces_of(session, asset)
        prefix = pieces.prefix(None)
        if len(prefix) != pieces.count:
            raise TranscodeFailed("a chunk of the video is missing")
        results = [j.result or {} for j in prefix]
        loudness = ((pieces.audio.result or {}) if pieces.audio else {}).get("loudness")
        has_audio = pieces.audio is not None
        await write_playlists(ctx.infra, asset, results, ended=True)
        info = media_info_of(asset)
        renditions = [Rendition(**r) for r in asset.renditions]
    await ctx.report(0.96, force=True)
    out = ctx.work_dir
    await _fetch_rung(ctx, out, renditions[0].name, results)
    if len(renditions) > 1:
        await _fetch_rung(ctx, out, renditions[-1].name, results)
    (out / "derivatives").mkdir(parents=True, exist_ok=True)
    audio_key = layout.key(ctx.asset_id, NORMALISED_AUDIO_PATH)
    if has_audio:
        await _fetch(ctx.infra.storage, audio_key, out / "derivatives" / NORMALISED_AAC)
    outputs = await _derivatives(ctx, info, out, renditions, SideOutputs(loudness=loudness))
    async with ctx.finish() as session:
        asset = await videos.get_asset(session, ctx.asset_id, for_update=True)
        await lifecycle.mark_ready(session, asset, layout.master_key(ctx.asset_id), outputs)
        await transcripts.after_transcode(session, ctx.infra.settings, asset)
    await ctx.infra.storage.delete_prefix(layout.key(ctx.asset_id, layout.WORK))
    log.info("stitch.done", chunks=len(results))


async def _fetch_rung(ctx: JobContext, out: Path, rung: str, results: list[dict[str, Any]]) -> None:
    """One rung's segments on local disk with the stitched playlist beside them, as the
    single pass leaves them (the derivatives are made from there)."""
    rung_dir = out / "hls" / rung
    rung_dir.mkdir(parents=True, exist_ok=True)
    segs = rung_segments(results, rung)
    prefix = layout.hls_prefix(ctx.asset_id)
    for name, _d, _s in segs:
        await _fetch(ctx.infra.storage, f"{prefix}/{rung}/{name}", rung_dir / name)
    text = media_playlist(segs, target=ctx.infra.settings.media.segment_seconds, ended=True)
    await anyio.to_thread.run_sync((rung_dir / VARIANT_PLAYLIST).write_text, text)


async def _fetch(storage: ObjectStorage, key: str, dest: Path) -> None:
    """An object on local disk: a link to it on local storage, else a download."""
    local = storage.local_path(key)
    if local is not None:
        await anyio.to_thread.run_sync(dest.symlink_to, local)
        return
    async with await anyio.open_file(dest, "wb") as f:
        async for chunk in storage.iter_range(key):
            await f.write(chunk)

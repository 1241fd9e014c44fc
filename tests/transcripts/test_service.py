"""Requesting transcriptions and how their jobs end, in process on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from streamcore.errors import Conflict, ServiceUnavailable, Unprocessable
from streamcore.infra import Infra
from streamcore.models import (
    Asset,
    AssetStatus,
    Job,
    JobKind,
    JobStatus,
    OutboxEvent,
    TranscriptStatus,
)
from streamcore.processing.runner import JobRunner
from streamcore.projects import service as projects
from streamcore.transcripts import service as transcripts
from streamcore.videos import layout
from streamcore.videos import service as videos
from streamcore.worker import job_registry
from tests.seed import seed_asset


async def ready_asset(
    infra: Infra, *, audio: bool = True, auto_transcribe: bool = False, source: Path | None = None
) -> str:
    async with infra.transaction() as session:
        project = await projects.create_project(session, "p", auto_transcribe=auto_transcribe)
        asset = await seed_asset(session, project_id=project.id, status=AssetStatus.ready)
        asset.container = "mov,mp4,m4a,3gp,3g2,mj2"
        asset.duration_seconds = 18.0
        asset.audio_codec = "aac" if audio else None
        asset.video_codec = "h264"
        asset.playback_key = f"{layout.hls_prefix(asset.id)}/master.m3u8"
        asset_id = asset.id
    if source is not None:
        await infra.storage.put_file(layout.source_key(asset_id), source)
    return asset_id


async def load(infra: Infra, asset_id: str) -> tuple[Asset, list[Job]]:
    async with infra.transaction() as session:
        asset = await videos.get_asset(session, asset_id)
        jobs = (await session.execute(select(Job).where(Job.asset_id == asset_id))).scalars()
        return asset, list(jobs)


def runner(infra: Infra) -> JobRunner:
    """A runner of transcriptions only. The PostgreSQL database is shared by the run,
    so other tests' jobs may be queued too: assertions look at one asset's jobs."""
    return JobRunner(infra, {JobKind.transcribe: job_registry()[JobKind.transcribe]})


async def request(infra: Infra, asset_id: str) -> None:
    async with infra.transaction() as session:
        asset = await videos.get_asset(session, asset_id, for_update=True)
        await transcripts.request_transcription(session, infra.settings, asset)


async def test_a_second_request_while_pending_queues_nothing(infra: Infra) -> None:
    asset_id = await ready_asset(infra)
    await request(infra, asset_id)
    await request(infra, asset_id)
    asset, jobs = await load(infra, asset_id)
    assert asset.transcript_status is TranscriptStatus.pending
    assert [(j.kind, j.status) for j in jobs] == [(JobKind.transcribe, JobStatus.queued)]


async def test_requests_that_cannot_be_served(infra: Infra) -> None:
    with pytest.raises(Unprocessable, match="no audio"):
        await request(infra, await ready_asset(infra, audio=False))
    asset_id = await ready_asset(infra)
    async with infra.transaction() as session:
        (await videos.get_asset(session, asset_id)).status = AssetStatus.transcoding
    with pytest.raises(Conflict, match="status: transcoding"):
        await request(infra, asset_id)
    infra.settings.transcribe.engine = "openai"
    with pytest.raises(ServiceUnavailable, match="no API key"):
        await request(infra, asset_id)
    infra.settings.transcribe.enabled = False
    with pytest.raises(ServiceUnavailable, match="disabled"):
        await request(infra, asset_id)


async def test_after_transcode(infra: Infra) -> None:
    plain = await ready_asset(infra)
    auto = await ready_asset(infra, auto_transcribe=True)
    again = await ready_asset(infra)
    silent = await ready_asset(infra, auto_transcribe=True, audio=False)
    async with infra.transaction() as session:
        (await videos.get_asset(session, again)).transcript_status = TranscriptStatus.ready
    async with infra.transaction() as session:
        queued = {
            asset_id: await transcripts.after_transcode(
                session, infra.settings, await videos.get_asset(session, asset_id)
            )
            is not None
            for asset_id in (plain, auto, again, silent)
        }
    # A new master lost the captions of a ready transcript: it is made again.
    assert queued == {plain: False, auto: True, again: True, silent: False}
    infra.settings.transcribe.enabled = False
    async with infra.transaction() as session:
        asset = await videos.get_asset(session, auto)
        assert await transcripts.after_transcode(session, infra.settings, asset) is None


async def test_a_failed_transcription_fails_the_transcript_not_the_video(infra: Infra) -> None:
    asset_id = await ready_asset(infra)  # nothing in storage: the source is missing
    await request(infra, asset_id)
    await runner(infra).run_until_idle()
    asset, (job,) = await load(infra, asset_id)
    assert job.status is JobStatus.failed
    assert asset.status is AssetStatus.ready
    assert asset.error_class is None
    assert asset.transcript_status is TranscriptStatus.failed
    assert asset.transcript_error_class == "SourceMissing"


async def test_a_stopped_transcription_keeps_the_video(infra: Infra, speech: Path) -> None:
    asset_id = await ready_asset(infra, source=speech / "speech.mp4")
    master = f"{layout.hls_prefix(asset_id)}/master.m3u8"
    await infra.storage.put_bytes(master, b"#EXTM3U\n")
    await request(infra, asset_id)
    async with infra.transaction() as session:
        for job in (await session.execute(select(Job).where(Job.asset_id == asset_id))).scalars():
            job.cancel_requested = True
    await runner(infra).run_until_idle()
    asset, (job,) = await load(infra, asset_id)
    assert job.status is JobStatus.cancelled
    assert asset.status is AssetStatus.ready
    assert asset.transcript_status is TranscriptStatus.failed
    assert asset.transcript_error_class == "Cancelled"
    assert await infra.storage.exists(master)


async def test_emit_transcribed_records_an_outbox_event(infra: Infra) -> None:
    asset_id = await ready_asset(infra)
    async with infra.transaction() as session:
        asset = await videos.get_asset(session, asset_id)
        await transcripts.emit_transcribed(session, asset, {"language": "en"})
    async with infra.transaction() as session:
        query = select(OutboxEvent).where(
            OutboxEvent.key == asset_id, OutboxEvent.topic == transcripts.TRANSCRIBED_TOPIC
        )
        (event,) = (await session.execute(query)).scalars()
    assert event.topic == "media.transcribed"
    assert event.key == asset_id
    assert event.payload == {"asset_id": asset_id, "project_id": asset.project_id, "language": "en"}
    assert event.published_at is None

"""Kafka mode in process, on the real broker, PostgreSQL and Redis: the outbox relay,
retries with backoff into the DLQ and replay, cancel signals."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

from sqlalchemy import update

from streamcore.adapters.signals import RedisSignals
from streamcore.admin import service as admin
from streamcore.admin import tasks as admin_tasks
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.media.failures import TransientError
from streamcore.models import AssetSource, AssetStatus, Job, JobKind, JobStatus, OutboxEvent
from streamcore.processing.relay import OutboxRelay
from streamcore.processing.runner import JobCancelled, JobContext
from streamcore.projects import service as projects
from streamcore.transcripts import service as transcripts
from streamcore.videos import layout, lifecycle
from streamcore.videos import service as videos
from tests.bus.helpers import (
    kafka_services,
    load_job,
    make_jobs,
    read_topic,
    topics_of,
    wait_until,
)


async def test_relay_publishes_what_committed_even_after_a_crash(kafka_infra: Infra) -> None:
    # Committed, but the process "died" before publishing: no relay ran.
    [(asset_id, job_id)] = await make_jobs(kafka_infra)
    assert (await load_job(kafka_infra, job_id)).published_at is None

    relay = OutboxRelay(kafka_infra, kafka_infra.bus)  # type: ignore[arg-type]
    await relay.ensure_topics()
    assert await relay.publish_due() == 1
    assert await relay.publish_due() == 0  # stamped: published once
    assert (await load_job(kafka_infra, job_id)).published_at is not None

    records = await read_topic(kafka_infra.settings.bus.bootstrap_servers, relay.topics.ingest)
    assert records == [(asset_id, {"job_id": job_id, "asset_id": asset_id, "kind": "ingest",
                                   "attempt": 0})]  # fmt: skip


async def test_backoff_is_honoured_by_the_relay(kafka_infra: Infra) -> None:
    [(_, job_id)] = await make_jobs(kafka_infra)
    relay = OutboxRelay(kafka_infra, kafka_infra.bus)  # type: ignore[arg-type]
    await relay.ensure_topics()
    async with kafka_infra.transaction() as s:
        await s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(next_attempt_at=utcnow() + timedelta(hours=1))
        )
    assert await relay.publish_due() == 0  # not due: no message
    async with kafka_infra.transaction() as s:
        await s.execute(update(Job).where(Job.id == job_id).values(next_attempt_at=utcnow()))
    assert await relay.publish_due() == 1


async def test_always_transient_job_goes_dead_to_the_dlq_and_replay_runs_it(
    kafka_infra: Infra,
) -> None:
    calls: list[float] = []

    async def always_transient(ctx: JobContext) -> None:
        calls.append(time.monotonic())
        raise TransientError("storage is down")

    [(asset_id, job_id)] = await make_jobs(kafka_infra, max_attempts=3)
    topics = topics_of(kafka_infra)

    async def dead() -> bool:
        job = await load_job(kafka_infra, job_id)
        return job.status is JobStatus.dead and job.published_at is not None

    async with kafka_services(kafka_infra, {JobKind.ingest: always_transient}):
        await wait_until(dead, 30, "the job to be dead and dead-lettered")
        job = await load_job(kafka_infra, job_id)
        assert (job.attempts, job.error_class) == (3, "TransientError")
        assert len(calls) == 3
        # Exponential backoff with jitter between attempts (base 0.05 s here).
        gaps = [b - a for a, b in itertools.pairwise(calls)]
        assert gaps[0] >= 0.025
        assert gaps[1] >= 0.05
        async with kafka_infra.transaction() as s:
            asset = await videos.get_asset(s, asset_id)
            assert (asset.status, asset.error_class) == (AssetStatus.failed, "TransientError")

        dlq = await read_topic(
            kafka_infra.settings.bus.bootstrap_servers, topics.dlq(topics.ingest)
        )
        assert [(k, v["job_id"], v["error_class"]) for k, v in dlq] == [
            (asset_id, job_id, "TransientError")
        ]

        # Replay from the DLQ: queued again with fresh attempts, republished, run again.
        assert await admin_tasks.replay_dlq(kafka_infra, timeout=20) == [job_id]
        await wait_until(dead, 30, "the replayed job to be dead again")
        assert len(calls) == 6
        # The DLQ record was consumed by the replay: a second replay finds only the new one.
        assert await admin_tasks.replay_dlq(kafka_infra, timeout=20) == [job_id]
        await wait_until(dead, 30, "the second replay to finish")
        assert len(calls) == 9


async def test_redelivered_message_for_a_finished_job_does_nothing(kafka_infra: Infra) -> None:
    runs: list[str] = []

    async def ok(ctx: JobContext) -> None:
        runs.append(ctx.job_id)
        async with ctx.finish():
            pass

    [(_, job_id)] = await make_jobs(kafka_infra)
    async with kafka_services(kafka_infra, {JobKind.ingest: ok}) as services:

        async def done() -> bool:
            return (await load_job(kafka_infra, job_id)).status is JobStatus.succeeded

        await wait_until(done, 20, "the job to succeed")
        # The same message again (a duplicate publish, or a redelivery after a rebalance).
        job = await load_job(kafka_infra, job_id)
        await kafka_infra.bus.send([services.relay.message(job)])  # type: ignore[union-attr]

        async def lag_zero() -> bool:
            lag = await kafka_infra.bus.lag(  # type: ignore[union-attr]
                kafka_infra.settings.bus.group_id, [services.relay.topics.ingest]
            )
            return sum(lag[services.relay.topics.ingest].values()) == 0

        await wait_until(lag_zero, 20, "the duplicate to be consumed")
    assert runs == [job_id]
    assert (await load_job(kafka_infra, job_id)).attempts == 1


async def test_cancel_signal_over_redis_stops_the_running_job(kafka_infra: Infra) -> None:
    started = asyncio.Event()

    async def waits_for_cancel(ctx: JobContext) -> None:
        started.set()
        await asyncio.wait_for(ctx.cancel.wait(), 30)
        raise JobCancelled(ctx.job_id)

    [(asset_id, job_id)] = await make_jobs(kafka_infra)
    # The API side: another Infra's signals (another process in production).
    sender = RedisSignals(kafka_infra.settings.redis.url, kafka_infra.settings.redis.prefix)
    try:
        async with kafka_services(kafka_infra, {JobKind.ingest: waits_for_cancel}):
            signals = kafka_infra.signals
            assert isinstance(signals, RedisSignals)
            await asyncio.wait_for(started.wait(), 20)
            await signals.wait_subscribed()
            async with kafka_infra.transaction() as s:
                result = await admin.stop_video(s, asset_id)
            assert result.stopping_jobs == [job_id]
            t0 = time.monotonic()
            await sender.cancel(job_id)

            async def cancelled() -> bool:
                return (await load_job(kafka_infra, job_id)).status is JobStatus.cancelled

            await wait_until(cancelled, 10, "the job to be cancelled")
            assert time.monotonic() - t0 < 2
    finally:
        await sender.close()
    async with kafka_infra.transaction() as s:
        assert (await videos.get_asset(s, asset_id)).status is AssetStatus.cancelled


async def test_media_transcribed_events_reach_their_topic(kafka_infra: Infra) -> None:
    [(asset_id, _)] = await make_jobs(kafka_infra)
    async with kafka_infra.transaction() as s:
        asset = await videos.get_asset(s, asset_id)
        event = await transcripts.emit_transcribed(s, asset, {"language": "en", "words": 12})
    relay = OutboxRelay(kafka_infra, kafka_infra.bus)  # type: ignore[arg-type]
    await relay.ensure_topics()
    await relay.publish_due()
    assert await relay.publish_events() == 0  # stamped: published once
    records = await read_topic(kafka_infra.settings.bus.bootstrap_servers, relay.topics.transcribed)
    assert records == [
        (asset_id, {"asset_id": asset_id, "project_id": asset.project_id, "language": "en",
                    "words": 12})
    ]  # fmt: skip
    async with kafka_infra.transaction() as s:
        stored = await s.get(OutboxEvent, event.id)
        assert stored is not None
        assert stored.published_at is not None


async def test_video_events_reach_the_events_topic_in_commit_order(kafka_infra: Infra) -> None:
    async with kafka_infra.transaction() as s:
        project = await projects.create_project(s, "events")
        asset_id = (
            await videos.create_asset(s, project_id=project.id, source=AssetSource.upload)
        ).id
    steps = [
        lambda s, a: lifecycle.mark_uploaded(s, a, 100),
        lambda s, a: lifecycle.start(s, a, AssetStatus.ingesting),
        lambda s, a: lifecycle.start(s, a, AssetStatus.transcoding),
        lambda s, a: lifecycle.publish_playback(s, a, layout.master_key(a.id)),
        lambda s, a: lifecycle.mark_ready(s, a, layout.master_key(a.id), {}),
        lambda s, a: lifecycle.record_update(s, a),
    ]
    for step in steps:
        async with kafka_infra.transaction() as s:
            await step(s, await videos.get_asset(s, asset_id, for_update=True))
    # Two relays at once (two API nodes): the events still go out once, in order.
    relays = [OutboxRelay(kafka_infra, kafka_infra.bus) for _ in range(2)]  # type: ignore[arg-type]
    await relays[0].ensure_topics()
    await asyncio.gather(*(r.publish_due() for r in relays))
    await relays[0].publish_due()
    records = await read_topic(kafka_infra.settings.bus.bootstrap_servers, relays[0].topics.events)
    ours = [body for key, body in records if key == asset_id]
    assert [e["type"] for e in ours] == [
        "video.created", "video.uploaded", "video.processing", "video.processing",
        "video.playable", "video.ready", "video.updated",
    ]  # fmt: skip
    assert [e["data"]["status"] for e in ours][-3:] == ["transcoding", "ready", "ready"]
    assert all(e["video_id"] == asset_id and e["version"] == 1 for e in ours)
    assert len({e["id"] for e in ours}) == len(ours)

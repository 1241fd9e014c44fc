"""In-process Kafka-mode services for tests: the relay and a consumer pool around a
JobRunner with test handlers, on the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streamcore.adapters.bus.kafka import KafkaBus
from streamcore.infra import Infra
from streamcore.models import AssetStatus, Job, JobKind
from streamcore.processing import service as processing
from streamcore.processing.consumers import ConsumerPool
from streamcore.processing.relay import OutboxRelay, Topics
from streamcore.processing.runner import JobRunner
from streamcore.processing.specs import Handler
from streamcore.projects import service as projects
from tests.seed import seed_asset, specs


@dataclass
class Services:
    relay: OutboxRelay
    pool: ConsumerPool
    runner: JobRunner


@asynccontextmanager
async def kafka_services(
    infra: Infra, handlers: dict[JobKind, Handler], *, worker_id: str | None = None
) -> AsyncIterator[Services]:
    assert isinstance(infra.bus, KafkaBus)
    stop = asyncio.Event()
    runner = JobRunner(infra, specs(handlers), worker_id=worker_id)
    relay = OutboxRelay(infra, infra.bus)
    pool = ConsumerPool(runner, infra.bus, infra.settings.bus, relay.topics)
    await relay.ensure_topics()

    async def maintenance() -> None:
        while True:
            await runner.reclaim_stale()
            await asyncio.sleep(0.5)

    tasks = [
        asyncio.create_task(relay.run(stop)),
        asyncio.create_task(pool.run(stop)),
        asyncio.create_task(maintenance()),
    ]
    try:
        yield Services(relay, pool, runner)
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        runner.close()


async def make_jobs(
    infra: Infra, count: int = 1, *, kind: JobKind = JobKind.ingest, max_attempts: int = 3
) -> list[tuple[str, str]]:
    """(asset id, job id) pairs, written in one transaction like an upload writes them."""
    out = []
    async with infra.transaction() as s:
        project = await projects.create_project(s, "bus")
        for _ in range(count):
            asset = await seed_asset(s, project_id=project.id, status=AssetStatus.uploaded)
            job = await processing.enqueue(s, asset.id, kind, max_attempts=max_attempts)
            out.append((asset.id, job.id))
    return out


async def load_job(infra: Infra, job_id: str) -> Job:
    async with infra.transaction() as s:
        job = await s.get(Job, job_id)
        assert job is not None
        return job


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def read_topic(bootstrap: str, topic: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Every record of a topic, from the start (no group, nothing committed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[tuple[str | None, dict[str, Any]]] = []
        deadline = time.monotonic() + 10
        while True:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                break
            assert time.monotonic() < deadline, "topic not read to its end"
            for msgs in (await consumer.getmany(timeout_ms=500)).values():
                for m in msgs:
                    key = m.key.decode() if m.key is not None else None
                    out.append((key, json.loads(m.value or b"{}")))
        return out
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


def topics_of(infra: Infra) -> Topics:
    return Topics.from_settings(infra.settings)

"""The consumer pool scales with lag, between min and max, never past the partitions."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from streamcore.db.migrate import ensure_schema
from streamcore.infra import Infra, build_infra
from streamcore.models import JobKind, JobStatus
from streamcore.processing.runner import JobContext
from tests.bus.conftest import kafka_settings
from tests.bus.helpers import kafka_services, make_jobs, wait_until
from tests.fixtures.kafka import Broker

JOBS = 60
JOB_SECONDS = 0.25


async def _idle(infra: Infra) -> bool:
    async with infra.transaction() as s:
        from streamcore.processing import service as processing

        counts = await processing.job_counts(s)
    return counts.get(JobStatus.queued, 0) == 0 and counts.get(JobStatus.running, 0) == 0


async def test_pool_grows_with_lag_and_shrinks_when_idle(
    tmp_path: Path, own_pg_url: str, broker: Broker
) -> None:
    settings = kafka_settings(
        tmp_path,
        own_pg_url,
        broker,
        bus={
            "partitions": 3,
            "min_consumers": 1,
            "max_consumers": 5,  # capped by the 3 partitions
            "scale_interval_seconds": 0.5,
            "target_drain_seconds": 2,
            "idle_seconds": 1.5,
        },
    )
    infra = build_infra(settings)
    await ensure_schema(infra.engine, auto_migrate=infra.settings.database.auto_migrate)

    async def slow(ctx: JobContext) -> None:
        await asyncio.sleep(JOB_SECONDS)
        async with ctx.finish():
            pass

    try:
        async with kafka_services(infra, {JobKind.ingest: slow}) as services:
            await make_jobs(infra, JOBS)
            await wait_until(lambda: _idle(infra), 120, "the backlog to drain", interval=0.2)

            async def shrunk() -> bool:
                return len(services.pool.consumers) == 1

            await wait_until(shrunk, 30, "the pool to shrink back to min")
            history = services.pool.history
    finally:
        await infra.close()
    print("\nconsumer count over time (seconds, consumers, lag):")
    print("  " + ", ".join(f"({s.at}, {s.consumers}, {s.lag})" for s in history))
    counts = [s.consumers for s in history]
    assert max(counts) == 3  # grew while the lag did, up to the partition count
    assert counts[-1] == 1
    # Up one at a time.
    assert all(b - a <= 1 for a, b in itertools.pairwise(counts))

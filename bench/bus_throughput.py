"""Jobs per second through the job bus with a no-op handler (claim, finish, commit):
Kafka mode (outbox relay + a consumer pool, on a Tansu broker) against the embedded
database bus as the reference, on a throwaway PostgreSQL of its own (or the one in
STREAMCORE_TEST_PG_DSN).

    .venv/bin/python -m bench.bus_throughput [--jobs 500] [--consumers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bus.helpers import kafka_services, make_jobs
from tests.fixtures.kafka import start_broker
from tests.fixtures.services import postgres_database

from streamcore.config import Settings
from streamcore.db.migrate import ensure_schema
from streamcore.infra import Infra, build_infra
from streamcore.models import JobKind, JobStatus
from streamcore.processing import service as processing
from streamcore.processing.runner import JobContext, JobRunner
from streamcore.processing.specs import JobSpec
from streamcore.processing.tasks import cancel_video, fail_video


async def noop(ctx: JobContext) -> None:
    async with ctx.finish():
        pass


async def _drained(infra: Infra, jobs: int) -> bool:
    async with infra.transaction() as s:
        return (await processing.job_counts(s)).get(JobStatus.succeeded, 0) >= jobs


async def _wait_drained(infra: Infra, jobs: int) -> None:
    while True:
        if await _drained(infra, jobs):
            return
        await asyncio.sleep(0.05)


async def run_db(settings: Settings, jobs: int) -> float:
    infra = build_infra(settings)
    await ensure_schema(infra.engine, auto_migrate=infra.settings.database.auto_migrate)
    stop = asyncio.Event()
    runner = JobRunner(
        infra,
        {
            JobKind.ingest: JobSpec(
                JobKind.ingest, noop, on_failure=fail_video, on_cancel=cancel_video
            )
        },
    )
    task = asyncio.create_task(runner.run(stop))
    try:
        started = time.perf_counter()
        await make_jobs(infra, jobs)
        await _wait_drained(infra, jobs)
        return jobs / (time.perf_counter() - started)
    finally:
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await infra.close()


async def run_kafka(settings: Settings, jobs: int) -> float:
    infra = build_infra(settings)
    await ensure_schema(infra.engine, auto_migrate=infra.settings.database.auto_migrate)
    try:
        async with kafka_services(infra, {JobKind.ingest: noop}) as services:
            # Let the whole pool join the group before the clock starts.
            await make_jobs(infra, 1)
            await _wait_drained(infra, 1)
            assert len(services.pool.consumers) == settings.bus.min_consumers
            await asyncio.sleep(4)
            started = time.perf_counter()
            await make_jobs(infra, jobs)
            await _wait_drained(infra, jobs + 1)
            return jobs / (time.perf_counter() - started)
    finally:
        await infra.close()


def settings_for(data_dir: Path, url: str, **extra: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        secret_key="bench",
        database={"url": url},  # type: ignore[arg-type]
        log_level="WARNING",
        **extra,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--consumers", type=int, default=4)
    args = parser.parse_args()
    from streamcore.observability.logging import configure_logging

    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(Path(tmp))
        try:
            with postgres_database() as db_url:
                worker = {"concurrency": args.consumers}
                db_settings = settings_for(Path(tmp) / "db", db_url, worker=worker)
                db_rate = asyncio.run(run_db(db_settings, args.jobs))
            with postgres_database() as kafka_url:
                bus = {
                    "backend": "kafka",
                    "bootstrap_servers": broker.bootstrap,
                    "partitions": args.consumers,
                    "min_consumers": args.consumers,
                    "max_consumers": args.consumers,
                    "relay_interval_seconds": 0.2,
                    "request_timeout_ms": 5000,
                    "session_timeout_ms": 6000,
                    "heartbeat_interval_ms": 1000,
                    "rebalance_timeout_ms": 10000,
                }
                kafka_rate = asyncio.run(
                    run_kafka(settings_for(Path(tmp) / "kafka", kafka_url, bus=bus), args.jobs)
                )
        finally:
            broker.kill()
    print(f"no-op jobs, {args.jobs} jobs, {args.consumers} consumers/loops, PostgreSQL:")
    print(f"  embedded db bus : {db_rate:8.1f} jobs/s (reference)")
    print(f"  kafka bus       : {kafka_rate:8.1f} jobs/s ({kafka_rate / db_rate:.2f}x the db bus)")


if __name__ == "__main__":
    main()

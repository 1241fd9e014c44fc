"""Worker entrypoint: the same Infra as the API, running the job handlers.

Embedded bus: the JobRunner polls the jobs table. Kafka bus: a consumer pool feeds the
runner by job id, a maintenance loop gives jobs of dead workers back, and the outbox
relay (which API processes run too) publishes what was committed. Every worker keeps a
heartbeat row in `workers` so any process can show them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Coroutine
from typing import Any

import structlog

from streamcore.analytics import tasks as analytics_jobs
from streamcore.config import Settings
from streamcore.db.migrate import ensure_schema
from streamcore.infra import Infra, build_infra
from streamcore.observability.health import wait_until_ready
from streamcore.observability.logging import configure_logging
from streamcore.observability.metrics import serve_metrics
from streamcore.processing import chunk_tasks
from streamcore.processing import service as processing
from streamcore.processing import tasks as video_jobs
from streamcore.processing.consumers import ConsumerPool
from streamcore.processing.relay import OutboxRelay, Topics
from streamcore.processing.runner import JobRunner
from streamcore.processing.specs import JobRegistry, registry
from streamcore.processing.workdirs import sweep_work_dirs
from streamcore.projects.deletion import sweep_deleted
from streamcore.transcripts import tasks as transcript_jobs
from streamcore.uploads.cleanup import sweep_abandoned
from streamcore.videos import tasks as library_jobs
from streamcore.webhooks.delivery import Dispatcher
from streamcore.webhooks.fanout import run_kafka_fanout, run_outbox_fanout

log = structlog.get_logger(__name__)


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    infra = build_infra(settings)
    cfg = settings.worker
    stop_metrics = (
        serve_metrics(infra.metrics.registry, cfg.metrics_host, cfg.metrics_port)
        if cfg.metrics_port
        else None
    )
    if stop_metrics is not None:
        log.info("worker.metrics", url=f"http://{cfg.metrics_host}:{cfg.metrics_port}/metrics")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if not await _until_stopped(wait_until_ready(infra), stop):
            return
        await ensure_schema(infra.engine, auto_migrate=infra.settings.database.auto_migrate)
        task = asyncio.create_task(run_job_services(infra, stop, consume=True))
        await stop.wait()
        log.info("worker.stopping")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        if stop_metrics is not None:
            stop_metrics()
        await infra.close()


async def _until_stopped(step: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run step unless a stop signal comes first (a worker waiting for its database
    must still stop on SIGTERM); True when it ran to the end."""
    task = asyncio.create_task(step)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()
    return True


def job_registry() -> JobRegistry:
    """Every kind of job this worker runs, with its spec."""
    return registry(video_jobs.SPECS, chunk_tasks.SPECS, transcript_jobs.SPECS, library_jobs.SPECS)


async def run_job_services(infra: Infra, stop: asyncio.Event, *, consume: bool) -> None:
    """The relay (Kafka mode) and, when consume, the worker itself; until cancelled."""
    jobs: list[Coroutine[Any, Any, None]] = []
    broker = infra.bus.broker
    if broker is not None:
        jobs.append(OutboxRelay(infra, broker).run(stop))
    if consume:
        runner = JobRunner(infra, job_registry())
        pool = None
        if broker is not None:
            pool = ConsumerPool(
                runner,
                broker,
                infra.settings.bus,
                Topics.from_settings(infra.settings),
                others=lambda: _other_consumers(infra, runner.worker_id),
            )
            jobs += [pool.run(stop), _maintenance(runner, stop)]
        else:
            jobs.append(runner.run(stop))
        jobs.append(_heartbeat(infra, runner, pool, stop))
        jobs.append(_sweep_abandoned_uploads(infra, stop))
        jobs.append(_sweep_work_dirs(infra, stop))
        jobs += webhook_services(infra, stop)
        jobs += analytics_services(infra, stop)
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def webhook_services(infra: Infra, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """Events become deliveries (from the outbox rows, or from the events topic in
    Kafka mode) and the dispatcher attempts them."""
    dispatcher = Dispatcher(infra)
    broker = infra.bus.broker
    if broker is not None:
        fanout = run_kafka_fanout(infra, broker, stop, dispatcher.wake.set)
    else:
        fanout = run_outbox_fanout(infra, stop, dispatcher.wake.set)
    return [fanout, dispatcher.run(stop)]


def analytics_services(infra: Infra, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
    """The rollup (and retention sweep) and, in Kafka mode, the analytics topic's
    consumer that writes the API nodes' beacon batches."""
    jobs = [analytics_jobs.run_rollups(infra, stop)]
    broker = infra.bus.broker
    if broker is not None:
        jobs.append(analytics_jobs.run_kafka_ingest(infra, broker, stop))
    return jobs


async def _sweep_abandoned_uploads(infra: Infra, stop: asyncio.Event) -> None:
    """Every worker sweeps; SKIP LOCKED keeps two from taking the same upload."""
    interval = infra.settings.upload.sweep_interval_seconds
    while not stop.is_set():
        try:
            await sweep_abandoned(infra)
            # Deleted projects whose last purge ended without removing them.
            await sweep_deleted(infra)
        except Exception:
            log.warning("worker.sweep_failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def _sweep_work_dirs(infra: Infra, stop: asyncio.Event) -> None:
    """At start, then every lease period: what killed attempts left on this disk."""
    while not stop.is_set():
        try:
            await sweep_work_dirs(infra)
        except Exception:
            log.warning("worker.work_dir_sweep_failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), infra.settings.worker.lease_seconds)


async def _maintenance(runner: JobRunner, stop: asyncio.Event) -> None:
    """Jobs whose worker stopped heartbeating go back to the queue (and the relay)."""
    interval = runner.settings.lease_seconds / 4
    while not stop.is_set():
        try:
            await runner.reclaim_stale()
        except Exception:
            log.warning("worker.reclaim_failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def _alive_window(infra: Infra) -> float:
    return max(3 * infra.settings.worker.heartbeat_seconds, 10.0)


async def _other_consumers(infra: Infra, worker_id: str) -> int:
    async with infra.transaction() as session:
        nodes = await processing.live_workers(session, _alive_window(infra))
    return sum(n.consumers for n in nodes if n.id != worker_id)


async def _heartbeat(
    infra: Infra, runner: JobRunner, pool: ConsumerPool | None, stop: asyncio.Event
) -> None:
    identity = {"host": socket.gethostname()[:255], "pid": os.getpid(), "bus": infra.bus.name}
    try:
        while not stop.is_set():
            try:
                async with infra.transaction() as session:
                    await processing.report_worker(
                        session,
                        runner.worker_id,
                        **identity,
                        consumers=len(pool.consumers) if pool else runner.settings.concurrency,
                        running_jobs=len(runner.running),
                        partitions=pool.assignment() if pool else {},
                    )
            except Exception:
                log.warning("worker.heartbeat_failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), infra.settings.worker.heartbeat_seconds)
    finally:
        with contextlib.suppress(Exception):
            async with infra.transaction() as session:
                await processing.remove_worker(session, runner.worker_id)

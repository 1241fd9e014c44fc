"""Worker entrypoint: the same Infra as the API, running the job handlers."""

from __future__ import annotations

import asyncio
import signal

import structlog

from streamcore.app import ensure_schema
from streamcore.config import Settings
from streamcore.infra import build_infra
from streamcore.observability.logging import configure_logging
from streamcore.processing.runner import JobRunner
from streamcore.processing.tasks import HANDLERS

log = structlog.get_logger(__name__)


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    infra = build_infra(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await ensure_schema(infra)
        runner = JobRunner(infra, HANDLERS)
        task = asyncio.create_task(runner.run(stop))
        await stop.wait()
        log.info("worker.stopping")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await infra.close()

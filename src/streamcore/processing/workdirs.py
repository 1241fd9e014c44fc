"""Work directories of attempts that no live worker runs any more.

Each attempt works in `<data_dir>/work/<job id>-<attempt>`; the runner removes it when
the attempt ends, but a worker that is killed leaves it behind (often the size of the
source plus its renditions). A worker sweeps them when it starts and then every lease
period. Several workers may share one data directory, so a directory is only removed
when its attempt is no longer the running attempt of a job with a live lease.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from functools import partial
from pathlib import Path

import anyio.to_thread
import structlog

from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import JobStatus
from streamcore.processing.repository import JobRepository

log = structlog.get_logger(__name__)


def work_root(infra: Infra) -> Path:
    return infra.settings.data_dir / "work"


def _attempt_of(name: str) -> tuple[str, int] | None:
    job_id, sep, attempt = name.rpartition("-")
    if not sep or not job_id or not attempt.isdigit():
        return None
    return job_id, int(attempt)


async def sweep_work_dirs(infra: Infra) -> list[str]:
    """Remove the work directories of dead attempts; returns their names."""
    root = work_root(infra)
    names = await anyio.to_thread.run_sync(
        lambda: sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    )
    if not names:
        return []
    lease = timedelta(seconds=infra.settings.worker.lease_seconds)
    dead: list[str] = []
    async with infra.transaction() as session:
        jobs = JobRepository(session)
        for name in names:
            parsed = _attempt_of(name)
            if parsed is None:
                continue
            job = await jobs.get(parsed[0])
            alive = (
                job is not None
                and job.status is JobStatus.running
                and job.attempts == parsed[1]
                and job.heartbeat_at is not None
                and job.heartbeat_at > utcnow() - lease
            )
            if not alive:
                dead.append(name)
    for name in dead:
        await anyio.to_thread.run_sync(partial(shutil.rmtree, root / name, ignore_errors=True))
        log.info("worker.work_dir_swept", work_dir=name)
    return dead

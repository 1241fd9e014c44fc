"""Enqueueing, stopping and replaying work. Jobs are rows written in the caller's
transaction; Infra hands them to the bus after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.config import Settings
from streamcore.db.base import utcnow
from streamcore.db.session import AFTER_COMMIT, PENDING_JOBS
from streamcore.errors import Conflict, NotFound
from streamcore.models import AssetStatus, Job, JobKind, JobStatus, WorkerNode
from streamcore.processing.relay import Topics
from streamcore.processing.repository import JobRepository, WorkerRepository
from streamcore.videos import lifecycle
from streamcore.videos import service as videos

if TYPE_CHECKING:
    from streamcore.infra import Infra

# What a replayed job puts its asset back to.
REPLAY_STATUS = {
    JobKind.ingest: AssetStatus.uploaded,
    JobKind.transcode: AssetStatus.transcoding,
    JobKind.stitch: AssetStatus.transcoding,
}
RETRYABLE = frozenset({JobStatus.dead, JobStatus.failed, JobStatus.cancelled})


@dataclass
class StopResult:
    asset_id: str
    status: AssetStatus
    # Queued jobs cancelled on the spot.
    cancelled: list[str] = field(default_factory=list)
    # Running jobs told to stop; their workers finish the cancel.
    stopping: list[str] = field(default_factory=list)


async def enqueue(
    session: AsyncSession,
    asset_id: str,
    kind: JobKind,
    *,
    max_attempts: int,
    params: dict[str, Any] | None = None,
) -> Job:
    return await JobRepository(session).add(asset_id, kind, max_attempts, params)


async def job_counts(session: AsyncSession) -> dict[str, int]:
    return await JobRepository(session).count_by_status()


async def stop_asset(session: AsyncSession, asset_id: str) -> StopResult:
    """Cancel the asset's queued jobs now; ask the workers running the others to stop
    (signalled after commit). The asset is `cancelled` at once when nothing runs."""
    # Lock order as everywhere else: job rows, then the asset row.
    cancelled, stopping = await stop_jobs(session, asset_id)
    asset = await videos.get_asset(session, asset_id, for_update=True)
    result = StopResult(asset_id, asset.status, cancelled, stopping)
    if not result.stopping:
        if asset.status not in videos.WORKING_STATES and not result.cancelled:
            raise Conflict(f"the video is not being processed (status {asset.status})")
        await lifecycle.cancel(session, asset)
    await session.flush()
    result.status = asset.status
    return result


async def stop_jobs(session: AsyncSession, asset_id: str) -> tuple[list[str], list[str]]:
    """Cancel the asset's queued jobs and ask the workers running the others to stop
    (a cancel signal after commit kills their FFmpeg): (cancelled, stopping) job ids.
    Locks the job rows; the asset row is the caller's to lock next."""
    jobs = await JobRepository(session).active_for_asset(asset_id, for_update=True)
    cancelled: list[str] = []
    stopping: list[str] = []
    now = utcnow()
    for job in jobs:
        if job.status is JobStatus.queued:
            job.status = JobStatus.cancelled
            job.finished_at = now
            cancelled.append(job.id)
        else:
            job.cancel_requested = True
            stopping.append(job.id)
    for job_id in stopping:
        session.info.setdefault(AFTER_COMMIT, {})[f"cancel:{job_id}"] = _cancel_signal(job_id)
    return cancelled, stopping


async def active_jobs(session: AsyncSession, asset_id: str) -> list[Job]:
    """Queued or running jobs of the asset."""
    return list(await JobRepository(session).active_for_asset(asset_id))


def _cancel_signal(job_id: str) -> Callable[[Infra], Awaitable[None]]:
    async def send(infra: Infra) -> None:
        await infra.signals.cancel(job_id)

    return send


async def retry_job(session: AsyncSession, job_id: str) -> Job:
    """Put a dead, failed or cancelled job back in the queue with fresh attempts."""
    repo = JobRepository(session)
    job = await repo.get(job_id, for_update=True)
    if job is None:
        raise NotFound("job not found")
    if job.status not in RETRYABLE:
        raise Conflict(f"only dead, failed or cancelled jobs can be retried (not {job.status})")
    if job.kind in (JobKind.transcode_chunk, JobKind.transcode_audio):
        # Its siblings stopped when it failed the video: the whole run goes again.
        raise Conflict("one piece of a chunked transcode is not retried alone: reprocess the video")
    if any(other.id != job.id for other in await repo.active_for_asset(job.asset_id)):
        raise Conflict("the video has another job queued or running")
    if job.kind in REPLAY_STATUS:
        asset = await videos.get_asset(session, job.asset_id, for_update=True)
        await lifecycle.start(session, asset, REPLAY_STATUS[job.kind])
    repo.reset(job)
    await session.flush()
    session.info.setdefault(PENDING_JOBS, []).append(job.id)
    return job


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    return await JobRepository(session).get(job_id)


async def dead_jobs(session: AsyncSession, limit: int = 1000) -> list[Job]:
    return list(await JobRepository(session).with_status(JobStatus.dead, limit))


async def report_worker(session: AsyncSession, worker_id: str, **values: Any) -> None:
    """Upsert this worker's heartbeat row; forget workers silent for a day."""
    repo = WorkerRepository(session)
    await repo.upsert(worker_id, **values)
    await repo.prune(utcnow() - timedelta(days=1))


async def remove_worker(session: AsyncSession, worker_id: str) -> None:
    await WorkerRepository(session).remove(worker_id)


async def live_workers(session: AsyncSession, max_age_seconds: float) -> list[WorkerNode]:
    since = utcnow() - timedelta(seconds=max_age_seconds)
    return list(await WorkerRepository(session).alive(since))


def job_topics(settings: Settings) -> dict[JobKind, str]:
    """The topic each job kind travels on (Kafka mode; names for the stats otherwise)."""
    topics = Topics.from_settings(settings)
    return {kind: topics.for_kind(kind) for kind in JobKind}

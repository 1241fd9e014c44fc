"""Operating the platform: statistics, stopping a video, replaying dead jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.adapters.bus.base import BusUnavailable
from streamcore.admin.repository import StatsRepository
from streamcore.admin.schemas import (
    JobRead,
    StatsRead,
    StopRead,
    ThroughputRead,
    TopicLag,
    WorkerRead,
)
from streamcore.db.base import utcnow
from streamcore.infra import Infra
from streamcore.models import JobKind, JobStatus
from streamcore.processing import service as processing

THROUGHPUT_WINDOW_SECONDS = 60


async def stats(session: AsyncSession, infra: Infra) -> StatsRead:
    repo = StatsRepository(session)
    now = utcnow()
    alive_window = max(3 * infra.settings.worker.heartbeat_seconds, 10.0)
    workers = await processing.live_workers(session, alive_window)
    jobs = {status.value: 0 for status in JobStatus} | await repo.by_status()
    finished = await repo.finished_since(now - timedelta(seconds=THROUGHPUT_WINDOW_SECONDS))
    done = sum(finished.values())
    topics = processing.job_topics(infra.settings)
    lag, lag_error = await _lag(repo, infra, topics)
    return StatsRead(
        bus=infra.bus.name,
        group_id=infra.settings.bus.group_id if infra.bus.broker else None,
        workers=[WorkerRead.model_validate(w) for w in workers],
        active_consumers=sum(w.consumers for w in workers),
        lag=lag,
        total_lag=sum(t.total for t in lag),
        lag_error=lag_error,
        jobs=jobs,
        throughput=ThroughputRead(
            window_seconds=THROUGHPUT_WINDOW_SECONDS,
            finished=done,
            succeeded=finished.get(JobStatus.succeeded.value, 0),
            per_minute=done * 60 / THROUGHPUT_WINDOW_SECONDS,
        ),
        failures=await repo.failures_by_class(),
    )


async def _lag(
    repo: StatsRepository, infra: Infra, topics: dict[JobKind, str]
) -> tuple[list[TopicLag], str | None]:
    broker = infra.bus.broker
    if broker is None:
        due = await repo.due_by_kind(utcnow())
        return [
            TopicLag(
                topic=topic,
                partitions={0: due.get(kind.value, 0)},
                total=due.get(kind.value, 0),
            )
            for kind, topic in topics.items()
        ], None
    try:
        reading = await broker.lag(infra.settings.bus.group_id, list(topics.values()))
    except BusUnavailable as exc:
        return [], str(exc)[:300]
    return [
        TopicLag(topic=topic, partitions=parts, total=sum(parts.values()))
        for topic, parts in reading.items()
    ], None


async def stop_video(session: AsyncSession, video_id: str) -> StopRead:
    result = await processing.stop_asset(session, video_id)
    return StopRead(
        video_id=result.asset_id,
        status=result.status,
        cancelled_jobs=result.cancelled,
        stopping_jobs=result.stopping,
    )


async def retry_job(session: AsyncSession, job_id: str) -> JobRead:
    return JobRead.model_validate(await processing.retry_job(session, job_id))


async def list_jobs(
    session: AsyncSession, status: JobStatus | None, asset_id: str | None, limit: int
) -> list[JobRead]:
    jobs = await StatsRepository(session).jobs(status, asset_id, limit)
    return [JobRead.model_validate(j) for j in jobs]

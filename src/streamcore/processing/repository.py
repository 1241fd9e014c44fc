"""All SQL on the jobs table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.base import utcnow
from streamcore.db.session import PENDING_JOBS
from streamcore.models import Job, JobKind, JobStatus


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, asset_id: str, kind: JobKind, max_attempts: int) -> Job:
        job = Job(
            asset_id=asset_id,
            kind=kind,
            status=JobStatus.queued,
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=utcnow(),
            progress=0.0,
            cancel_requested=False,
        )
        self.session.add(job)
        await self.session.flush()
        self.session.info.setdefault(PENDING_JOBS, []).append(job.id)
        return job

    async def get(self, job_id: str) -> Job | None:
        return await self.session.get(Job, job_id)

    async def claim_next(
        self, worker_id: str, kinds: Sequence[JobKind], now: datetime | None = None
    ) -> Job | None:
        """Take the oldest due queued job. SKIP LOCKED on PostgreSQL lets workers claim
        side by side; SQLite serializes writers (BEGIN IMMEDIATE) so it needs nothing."""
        now = now or utcnow()
        stmt = (
            select(Job)
            .where(
                Job.status == JobStatus.queued,
                Job.next_attempt_at <= now,
                Job.kind.in_(list(kinds)),
            )
            .order_by(Job.next_attempt_at, Job.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        job = (await self.session.execute(stmt)).scalar_one_or_none()
        if job is None:
            return None
        job.status = JobStatus.running
        job.worker_id = worker_id
        job.attempts += 1
        job.heartbeat_at = now
        job.started_at = now
        job.progress = 0.0
        await self.session.flush()
        return job

    async def heartbeat(self, job_id: str, worker_id: str, attempt: int) -> bool:
        """Refresh the lease; False when the job is no longer ours."""
        result = await self.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.worker_id == worker_id,
                Job.attempts == attempt,
                Job.status == JobStatus.running,
            )
            .values(heartbeat_at=utcnow())
            .returning(Job.cancel_requested)
        )
        row = result.first()
        return row is not None

    async def owned(self, job_id: str, worker_id: str, attempt: int) -> Job | None:
        """The job row, locked, if this worker's claim on it still holds."""
        stmt = (
            select(Job)
            .where(
                Job.id == job_id,
                Job.worker_id == worker_id,
                Job.attempts == attempt,
                Job.status == JobStatus.running,
            )
            .with_for_update()
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_progress(self, job_id: str, progress: float) -> bool:
        """Store progress; returns whether a cancel was requested."""
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(progress=progress, heartbeat_at=utcnow())
            .returning(Job.cancel_requested)
        )
        row = result.first()
        return bool(row and row[0])

    async def stale_running(self, lease_seconds: float) -> Sequence[Job]:
        cutoff = utcnow() - timedelta(seconds=lease_seconds)
        stmt = (
            select(Job)
            .where(Job.status == JobStatus.running, Job.heartbeat_at < cutoff)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(select(Job.status, func.count()).group_by(Job.status))
        return {str(status): int(count) for status, count in rows.all()}

    async def active_for_asset(self, asset_id: str) -> Sequence[Job]:
        stmt = select(Job).where(
            Job.asset_id == asset_id, Job.status.in_([JobStatus.queued, JobStatus.running])
        )
        return (await self.session.execute(stmt)).scalars().all()

"""All SQL on the jobs table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.base import utcnow
from streamcore.db.session import ENQUEUED_KINDS, PENDING_JOBS
from streamcore.models import Job, JobKind, JobStatus, OutboxEvent, WorkerNode

# pg_advisory lock key of the event publisher ("scev" as an integer).
EVENT_PUBLISHER_LOCK = 0x73636576


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        asset_id: str,
        kind: JobKind,
        max_attempts: int,
        params: dict[str, Any] | None = None,
    ) -> Job:
        job = Job(
            asset_id=asset_id,
            kind=kind,
            params=params,
            status=JobStatus.queued,
            attempts=0,
            outages=0,
            max_attempts=max_attempts,
            next_attempt_at=utcnow(),
            progress=0.0,
            cancel_requested=False,
        )
        self.session.add(job)
        await self.session.flush()
        self.session.info.setdefault(PENDING_JOBS, []).append(job.id)
        self.session.info.setdefault(ENQUEUED_KINDS, []).append(kind.value)
        return job

    async def get(self, job_id: str, *, for_update: bool = False) -> Job | None:
        if not for_update:
            return await self.session.get(Job, job_id)
        stmt = select(Job).where(Job.id == job_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def with_status(self, status: JobStatus, limit: int) -> Sequence[Job]:
        stmt = select(Job).where(Job.status == status).order_by(Job.finished_at).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    @staticmethod
    def reset(job: Job) -> None:
        """A replay: queued now, with all its attempts back."""
        job.status = JobStatus.queued
        job.attempts = 0
        job.outages = 0
        job.worker_id = None
        job.next_attempt_at = utcnow()
        job.published_at = None
        job.cancel_requested = False
        job.progress = 0.0
        job.finished_at = None

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
        return await self._start(job, worker_id, now)

    async def _start(self, job: Job | None, worker_id: str, now: datetime) -> Job | None:
        """A claimed row becomes this worker's running attempt."""
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

    async def claim(self, job_id: str, worker_id: str, now: datetime | None = None) -> Job | None:
        """Take this job if it is queued and due (a bus message names it). A plain row
        lock, not SKIP LOCKED: the relay may still hold the row it just published, and
        skipping it would drop the message."""
        now = now or utcnow()
        stmt = (
            select(Job)
            .where(Job.id == job_id, Job.status == JobStatus.queued, Job.next_attempt_at <= now)
            .with_for_update()
        )
        job = (await self.session.execute(stmt)).scalar_one_or_none()
        return await self._start(job, worker_id, now)

    @staticmethod
    def requeue(job: Job, at: datetime) -> None:
        """Back to the queue, due at `at`; the relay owes it a new message."""
        job.status = JobStatus.queued
        job.worker_id = None
        job.next_attempt_at = at
        job.published_at = None

    async def unpublished(self, now: datetime, limit: int) -> Sequence[Job]:
        """Jobs owed a message: due queued ones, and dead ones (their DLQ record)."""
        stmt = (
            select(Job)
            .where(
                Job.published_at.is_(None),
                or_(
                    (Job.status == JobStatus.queued) & (Job.next_attempt_at <= now),
                    Job.status == JobStatus.dead,
                ),
            )
            .order_by(Job.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def published_before(self, before: datetime, limit: int) -> Sequence[Job]:
        """Queued jobs whose message went out before `before` and was never acted on."""
        stmt = (
            select(Job)
            .where(Job.status == JobStatus.queued, Job.published_at < before)
            .order_by(Job.published_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def forget_published(self) -> int:
        """Every queued job is owed a message again (the broker lost its log)."""
        result = await self.session.execute(
            update(Job)
            .where(Job.status == JobStatus.queued, Job.published_at.is_not(None))
            .values(published_at=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def heartbeat(self, job_id: str, worker_id: str, attempt: int) -> bool | None:
        """Refresh the lease: None when the job is no longer ours, else whether a stop
        was requested."""
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
        return None if row is None else bool(row[0])

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

    async def of_kinds(self, asset_id: str, kinds: Sequence[JobKind]) -> Sequence[Job]:
        """Every job of the asset of these kinds, any status, oldest first."""
        stmt = (
            select(Job)
            .where(Job.asset_id == asset_id, Job.kind.in_(list(kinds)))
            .order_by(Job.created_at, Job.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def active_for_asset(self, asset_id: str, *, for_update: bool = False) -> Sequence[Job]:
        stmt = select(Job).where(
            Job.asset_id == asset_id, Job.status.in_([JobStatus.queued, JobStatus.running])
        )
        if for_update:
            stmt = stmt.order_by(Job.id).with_for_update()
        return (await self.session.execute(stmt)).scalars().all()


class WorkerRepository:
    """Heartbeat rows of worker processes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, worker_id: str, **values: Any) -> None:
        node = await self.session.get(WorkerNode, worker_id)
        if node is None:
            node = WorkerNode(id=worker_id, started_at=utcnow())
            self.session.add(node)
        for key, value in values.items():
            setattr(node, key, value)
        node.heartbeat_at = utcnow()
        await self.session.flush()

    async def remove(self, worker_id: str) -> None:
        await self.session.execute(delete(WorkerNode).where(WorkerNode.id == worker_id))

    async def prune(self, before: datetime) -> None:
        await self.session.execute(delete(WorkerNode).where(WorkerNode.heartbeat_at < before))

    async def alive(self, since: datetime) -> Sequence[WorkerNode]:
        stmt = select(WorkerNode).where(WorkerNode.heartbeat_at >= since).order_by(WorkerNode.id)
        return (await self.session.execute(stmt)).scalars().all()


class OutboxEventRepository:
    """Domain events (the outbox_events table) the relay owes to the bus."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_publisher(self) -> bool:
        """One publisher of events at a time, for this transaction: two relays taking
        batches side by side could send one video's events out of order. SQLite
        transactions already run one at a time."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        got = await self.session.scalar(
            select(func.pg_try_advisory_xact_lock(EVENT_PUBLISHER_LOCK))
        )
        return bool(got)

    async def unpublished(self, limit: int) -> Sequence[OutboxEvent]:
        stmt = (
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

"""Read-only aggregates over the jobs table for the admin statistics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import FINAL_JOB_STATUSES, Job, JobStatus


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_status(self) -> dict[str, int]:
        rows = await self.session.execute(select(Job.status, func.count()).group_by(Job.status))
        return {str(status): int(count) for status, count in rows.all()}

    async def finished_since(self, since: datetime) -> dict[str, int]:
        rows = await self.session.execute(
            select(Job.status, func.count())
            .where(Job.finished_at >= since, Job.status.in_(list(FINAL_JOB_STATUSES)))
            .group_by(Job.status)
        )
        return {str(status): int(count) for status, count in rows.all()}

    async def failures_by_class(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(Job.error_class, func.count())
            .where(Job.status.in_([JobStatus.failed, JobStatus.dead]))
            .group_by(Job.error_class)
        )
        return {str(cls or "unknown"): int(count) for cls, count in rows.all()}

    async def due_by_kind(self, now: datetime) -> dict[str, int]:
        """Embedded mode's lag: queued jobs that are due."""
        rows = await self.session.execute(
            select(Job.kind, func.count())
            .where(Job.status == JobStatus.queued, Job.next_attempt_at <= now)
            .group_by(Job.kind)
        )
        return {str(kind): int(count) for kind, count in rows.all()}

    async def jobs(self, status: JobStatus | None, asset_id: str | None, limit: int) -> list[Job]:
        stmt = select(Job).order_by(Job.created_at).limit(limit)
        if status is not None:
            stmt = stmt.where(Job.status == status)
        if asset_id is not None:
            stmt = stmt.where(Job.asset_id == asset_id)
        return list((await self.session.execute(stmt)).scalars().all())

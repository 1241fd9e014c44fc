"""Enqueueing work. Jobs are rows written in the caller's transaction; Infra publishes
them after commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Job, JobKind
from streamcore.processing.repository import JobRepository


async def enqueue(session: AsyncSession, asset_id: str, kind: JobKind, *, max_attempts: int) -> Job:
    return await JobRepository(session).add(asset_id, kind, max_attempts)


async def job_counts(session: AsyncSession) -> dict[str, int]:
    return await JobRepository(session).count_by_status()

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from streamcore.admin import service
from streamcore.admin.dependencies import AdminDep
from streamcore.admin.schemas import JobRead, StatsRead, StopRead
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import Conflict, Forbidden, NotFound, Unauthorized, error_responses
from streamcore.inputs import ID_PATTERN, PathId
from streamcore.models import JobStatus

router = APIRouter(prefix="/admin", tags=["admin"])

AUTH_ERRORS = (Unauthorized, Forbidden)


@router.get("/stats", response_model=StatsRead, responses=error_responses(*AUTH_ERRORS))
async def get_stats(session: SessionDep, infra: InfraDep, admin: AdminDep) -> StatsRead:
    """Workers, active consumers, lag per topic and partition, jobs and failures."""
    return await service.stats(session, infra)


@router.post(
    "/video/{video_id}/stop",
    response_model=StopRead,
    responses=error_responses(*AUTH_ERRORS, NotFound, Conflict),
)
async def stop_video(video_id: PathId, session: SessionDep, admin: AdminDep) -> StopRead:
    """Stop processing a video: queued jobs are cancelled, running ones killed."""
    return await service.stop_video(session, video_id)


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobRead,
    responses=error_responses(*AUTH_ERRORS, NotFound, Conflict),
)
async def retry_job(job_id: PathId, session: SessionDep, admin: AdminDep) -> JobRead:
    """Put a dead, failed or cancelled job back in the queue with fresh attempts."""
    return await service.retry_job(session, job_id)


@router.get("/jobs", response_model=list[JobRead], responses=error_responses(*AUTH_ERRORS))
async def list_jobs(
    session: SessionDep,
    admin: AdminDep,
    status: JobStatus | None = None,
    video_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobRead]:
    """Jobs, newest first, optionally of one status (e.g. `dead`) or one video."""
    return await service.list_jobs(session, status, video_id, limit)

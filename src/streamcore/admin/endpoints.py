"""Platform administration: super-admins only."""

from __future__ import annotations

from fastapi import APIRouter

from streamcore.admin.schemas import StatsRead
from streamcore.auth.dependencies import SuperAdminDep
from streamcore.deps import SessionDep
from streamcore.errors import Forbidden, Unauthorized, error_responses
from streamcore.processing import service as processing

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/stats", response_model=StatsRead, responses=error_responses(Unauthorized, Forbidden))
async def stats(session: SessionDep, principal: SuperAdminDep) -> StatsRead:
    """Processing statistics: job counts by status."""
    return StatsRead(jobs=await processing.job_counts(session))

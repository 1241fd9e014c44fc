from __future__ import annotations

from fastapi import APIRouter, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import Conflict, Forbidden, NotFound, Unauthorized, error_responses
from streamcore.inputs import PathId
from streamcore.reprocess import service
from streamcore.videos import service as videos
from streamcore.videos.schemas import VideoRead

router = APIRouter(tags=["uploads"])


@router.post(
    "/reprocess/{project_id}/{video_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VideoRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def reprocess(
    project_id: PathId,
    video_id: PathId,
    session: SessionDep,
    infra: InfraDep,
    principal: PrincipalDep,
) -> VideoRead:
    """Process a ready, failed or cancelled video again from its original upload."""
    await authorize(session, principal, project_id, Action.upload, not_found="video not found")
    asset = await service.reprocess(
        session, project_id, video_id, max_attempts=infra.settings.worker.max_attempts
    )
    return videos.to_read(asset, None)

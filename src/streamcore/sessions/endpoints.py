from __future__ import annotations

from fastapi import APIRouter, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import SessionDep
from streamcore.errors import Forbidden, NotFound, Unauthorized, error_responses
from streamcore.projects import service as projects
from streamcore.sessions import service
from streamcore.sessions.schemas import SessionCreate, SessionRead

router = APIRouter(tags=["sessions"])


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def create_session(
    body: SessionCreate, session: SessionDep, principal: PrincipalDep
) -> SessionRead:
    """Create a recording session in a project."""
    project = await projects.get_project(session, body.project_id)
    await authorize(session, principal, project.id, Action.upload)
    rec = await service.create_session(session, project.id, body.name)
    return SessionRead.model_validate(rec)


@router.get(
    "/sessions/{session_id}",
    response_model=SessionRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def get_session(session_id: str, session: SessionDep, principal: PrincipalDep) -> SessionRead:
    """Get a recording session."""
    rec = await service.get_session(session, session_id)
    await authorize(session, principal, rec.project_id, Action.read, not_found="session not found")
    return SessionRead.model_validate(rec)

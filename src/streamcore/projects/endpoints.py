from __future__ import annotations

from fastapi import APIRouter, status

from streamcore.auth.dependencies import Action, PrincipalDep, authorize
from streamcore.deps import SessionDep
from streamcore.errors import NotFound, error_responses
from streamcore.projects import service
from streamcore.projects.schemas import ProjectCreate, ProjectRead

router = APIRouter(tags=["projects"])


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectRead,
    responses=error_responses(NotFound),
)
async def create_project(
    body: ProjectCreate, session: SessionDep, principal: PrincipalDep
) -> ProjectRead:
    """Create a project."""
    project = await service.create_project(
        session, body.name, body.organization_id, auto_transcribe=body.auto_transcribe
    )
    return ProjectRead.model_validate(project)


@router.get("/projects", response_model=list[ProjectRead])
async def list_projects(session: SessionDep, principal: PrincipalDep) -> list[ProjectRead]:
    """List the projects the caller can see."""
    projects = await service.list_projects(session)
    visible = []
    for p in projects:
        try:
            await authorize(session, principal, p.id, Action.read)
        except NotFound:
            continue
        visible.append(ProjectRead.model_validate(p))
    return visible

from __future__ import annotations

from fastapi import APIRouter, status

from streamcore.auth.dependencies import PrincipalDep, UserDep
from streamcore.deps import SessionDep
from streamcore.errors import Forbidden, NotFound, Unauthorized, error_responses
from streamcore.organizations import service as organizations
from streamcore.projects import service
from streamcore.projects.schemas import ProjectCreate, ProjectRead

router = APIRouter(tags=["projects"])


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def create_project(
    body: ProjectCreate, session: SessionDep, principal: UserDep
) -> ProjectRead:
    """Create a project in an organization the caller owns (default: their first)."""
    organization_id = await organizations.organization_for_new_project(
        session, principal, body.organization_id, personal_name="Personal organization"
    )
    project = await service.create_project(
        session, body.name, organization_id, auto_transcribe=body.auto_transcribe
    )
    return ProjectRead.model_validate(project)


@router.get("/projects", response_model=list[ProjectRead], responses=error_responses(Unauthorized))
async def list_projects(session: SessionDep, principal: PrincipalDep) -> list[ProjectRead]:
    """List the projects the caller can see."""
    projects = await service.list_visible(session, principal)
    return [ProjectRead.model_validate(p) for p in projects]

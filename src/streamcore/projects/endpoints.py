from __future__ import annotations

from fastapi import APIRouter, status

from streamcore.auth.dependencies import Action, PrincipalDep, UserDep, authorize
from streamcore.deps import SessionDep
from streamcore.errors import BadRequest, Forbidden, NotFound, Unauthorized, error_responses
from streamcore.organizations import service as organizations
from streamcore.projects import deletion, service
from streamcore.projects.schemas import ProjectCreate, ProjectDeletion, ProjectRead, ProjectUpdate

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


@router.get(
    "/projects/{project_id}",
    response_model=ProjectRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def get_project(project_id: str, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    """A project and its settings."""
    await authorize(session, principal, project_id, Action.read)
    return ProjectRead.model_validate(await service.get_project(session, project_id))


@router.patch(
    "/projects/{project_id}",
    response_model=ProjectRead,
    responses=error_responses(BadRequest, Unauthorized, Forbidden, NotFound),
)
async def update_project(
    project_id: str, body: ProjectUpdate, session: SessionDep, principal: PrincipalDep
) -> ProjectRead:
    """Rename a project or change its settings (auto_transcribe, playback_ttl_seconds)."""
    await authorize(session, principal, project_id, Action.manage)
    project = await service.get_project(session, project_id)
    fields = body.model_dump(include=body.model_fields_set)
    return ProjectRead.model_validate(await service.update_project(session, project, fields))


@router.delete(
    "/projects/{project_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ProjectDeletion,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_project(
    project_id: str, session: SessionDep, principal: PrincipalDep
) -> ProjectDeletion:
    """Delete a project: at once for every caller (its keys stop working, its sessions
    end); every video is deleted as by `DELETE /videos/{id}`, then the rest goes."""
    await authorize(session, principal, project_id, Action.manage)
    count = await deletion.delete_project(session, await service.get_project(session, project_id))
    return ProjectDeletion(id=project_id, videos_deleting=count)

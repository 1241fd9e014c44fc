from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.auth.principal import Action, Principal, PrincipalKind, scope_actions
from streamcore.errors import BadRequest, NotFound
from streamcore.models import Organization, Project
from streamcore.projects.repository import ProjectRepository

DEFAULT_ORGANIZATION = "Default organization"


async def default_organization(session: AsyncSession) -> Organization:
    repo = ProjectRepository(session)
    org = await repo.first_organization()
    if org is None:
        org = await repo.add_organization(Organization(name=DEFAULT_ORGANIZATION))
    return org


async def create_project(
    session: AsyncSession,
    name: str,
    organization_id: str | None = None,
    *,
    auto_transcribe: bool = False,
) -> Project:
    repo = ProjectRepository(session)
    if organization_id is None:
        org = await default_organization(session)
    else:
        found = await repo.get_organization(organization_id)
        if found is None:
            raise NotFound("organization not found")
        org = found
    return await repo.add(
        Project(name=name, organization_id=org.id, auto_transcribe=auto_transcribe)
    )


async def find_project(session: AsyncSession, project_id: str) -> Project | None:
    return await ProjectRepository(session).get(project_id)


async def get_project(session: AsyncSession, project_id: str) -> Project:
    project = await ProjectRepository(session).get(project_id)
    if project is None:
        raise NotFound("project not found")
    return project


async def list_projects(session: AsyncSession) -> Sequence[Project]:
    return await ProjectRepository(session).list()


async def list_visible(session: AsyncSession, principal: Principal) -> Sequence[Project]:
    """A super-admin sees every project, a user those of their organizations, an API
    key its own project (when its scopes let it read)."""
    repo = ProjectRepository(session)
    if principal.kind is PrincipalKind.api_key:
        if principal.project_id is None or Action.read not in scope_actions(principal.scopes):
            return []
        project = await repo.get(principal.project_id)
        return [project] if project is not None else []
    if principal.is_superadmin:
        return await repo.list()
    return await repo.list_for_user(principal.id)


async def playback_ttl(session: AsyncSession, project_id: str) -> int | None:
    """The project's playback token TTL (None: the server's default)."""
    project = await ProjectRepository(session).get(project_id, deleted=True)
    return project.playback_ttl_seconds if project is not None else None


async def update_project(
    session: AsyncSession, project: Project, fields: dict[str, Any]
) -> Project:
    """Set the fields given (name, auto_transcribe, playback_ttl_seconds)."""
    for name, value in fields.items():
        if name in ("name", "auto_transcribe") and value is None:
            raise BadRequest(f"{name} cannot be null")
        setattr(project, name, value)
    await session.flush()
    return project

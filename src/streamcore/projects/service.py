from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.errors import NotFound
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


async def get_project(session: AsyncSession, project_id: str) -> Project:
    project = await ProjectRepository(session).get(project_id)
    if project is None:
        raise NotFound("project not found")
    return project


async def list_projects(session: AsyncSession) -> Sequence[Project]:
    return await ProjectRepository(session).list()

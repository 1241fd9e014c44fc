from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Membership, Organization, Project


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, project_id: str, *, deleted: bool = False, for_update: bool = False
    ) -> Project | None:
        """The project; a deleted one (its videos being purged) only when asked."""
        stmt = select(Project).where(Project.id == project_id)
        if not deleted:
            stmt = stmt.where(Project.deleted_at.is_(None))
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list(self, limit: int = 200) -> Sequence[Project]:
        stmt = (
            select(Project)
            .where(Project.deleted_at.is_(None))
            .order_by(Project.created_at)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def deleted(self, limit: int) -> Sequence[Project]:
        stmt = select(Project).where(Project.deleted_at.is_not(None)).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def remove(self, project: Project) -> None:
        """Delete the row; the database cascades to its sessions, keys and videos."""
        await self.session.delete(project)
        await self.session.flush()

    async def list_for_user(self, user_id: str, limit: int = 1000) -> Sequence[Project]:
        stmt = (
            select(Project)
            .join(Membership, Membership.organization_id == Project.organization_id)
            .where(Membership.user_id == user_id, Project.deleted_at.is_(None))
            .order_by(Project.created_at)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def add(self, project: Project) -> Project:
        self.session.add(project)
        await self.session.flush()
        return project

    async def get_organization(self, organization_id: str) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def first_organization(self) -> Organization | None:
        stmt = select(Organization).order_by(Organization.created_at).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_organization(self, org: Organization) -> Organization:
        self.session.add(org)
        await self.session.flush()
        return org

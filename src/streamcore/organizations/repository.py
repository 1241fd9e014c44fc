"""All SQL on organizations and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Invitation, MemberRole, Membership, Organization, User


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, organization_id: str) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def add(self, org: Organization) -> Organization:
        self.session.add(org)
        await self.session.flush()
        return org

    async def list_all(self, limit: int = 500) -> Sequence[Organization]:
        stmt = select(Organization).order_by(Organization.created_at).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def list_for_user(
        self, user_id: str, limit: int = 500
    ) -> Sequence[tuple[Organization, MemberRole]]:
        stmt = (
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Organization.created_at)
            .limit(limit)
        )
        return [(org, role) for org, role in (await self.session.execute(stmt)).all()]

    async def first_owned(self, user_id: str) -> Organization | None:
        stmt = (
            select(Organization)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id, Membership.role == MemberRole.owner)
            .order_by(Membership.created_at, Organization.created_at)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, organization_id: str, user_id: str, *, for_update: bool = False
    ) -> Membership | None:
        stmt = select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def role(self, organization_id: str, user_id: str) -> MemberRole | None:
        stmt = select(Membership.role).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add(self, membership: Membership) -> Membership:
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def delete(self, membership: Membership) -> None:
        await self.session.delete(membership)
        await self.session.flush()

    async def list_with_users(
        self, organization_id: str, limit: int = 1000
    ) -> Sequence[tuple[Membership, User]]:
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organization_id == organization_id)
            .order_by(Membership.created_at)
            .limit(limit)
        )
        return [(m, u) for m, u in (await self.session.execute(stmt)).all()]

    async def owners(self, organization_id: str, *, for_update: bool = False) -> Sequence[str]:
        """User ids of the owners; locked, so two owners cannot remove each other at once."""
        stmt = select(Membership.user_id).where(
            Membership.organization_id == organization_id, Membership.role == MemberRole.owner
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalars().all()


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, invitation: Invitation) -> Invitation:
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def get(self, invitation_id: str, *, for_update: bool = False) -> Invitation | None:
        stmt = select(Invitation).where(Invitation.id == invitation_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def pending(self, organization_id: str, email: str, now: datetime) -> Invitation | None:
        stmt = select(Invitation).where(
            Invitation.organization_id == organization_id,
            Invitation.email == email,
            Invitation.expires_at > now,
        )
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def list_for_organization(
        self, organization_id: str, now: datetime, limit: int = 1000
    ) -> Sequence[Invitation]:
        stmt = (
            select(Invitation)
            .where(Invitation.organization_id == organization_id, Invitation.expires_at > now)
            .order_by(Invitation.created_at)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def list_for_email(
        self, email: str, now: datetime, limit: int = 500
    ) -> Sequence[tuple[Invitation, Organization]]:
        stmt = (
            select(Invitation, Organization)
            .join(Organization, Organization.id == Invitation.organization_id)
            .where(Invitation.email == email, Invitation.expires_at > now)
            .order_by(Invitation.created_at)
            .limit(limit)
        )
        return [(i, o) for i, o in (await self.session.execute(stmt)).all()]

    async def delete(self, invitation: Invitation) -> None:
        await self.session.delete(invitation)
        await self.session.flush()

    async def email_of(self, user_id: str) -> str | None:
        """The address of an active account (who may accept invitations to it)."""
        stmt = select(User.email).where(User.id == user_id, User.is_active.is_(True))
        return (await self.session.execute(stmt)).scalar_one_or_none()

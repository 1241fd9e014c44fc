"""Invitations: an owner invites an email address, the account with that address
accepts. The owner's answer is the same whether or not such an account exists (or is
already a member), so inviting cannot probe for accounts; nobody joins without
accepting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.auth.principal import Principal
from streamcore.db.base import utcnow
from streamcore.errors import Conflict, NotFound
from streamcore.models import Invitation, MemberRole, Membership, Organization
from streamcore.organizations.repository import (
    InvitationRepository,
    MembershipRepository,
    OrganizationRepository,
)
from streamcore.organizations.service import owned_organization

log = structlog.get_logger(__name__)

NOT_FOUND = "invitation not found"


async def invite(
    session: AsyncSession,
    principal: Principal,
    organization_id: str,
    email: str,
    role: MemberRole,
    ttl_seconds: int,
) -> Invitation:
    """A new invitation, or the pending one for the same address renewed."""
    org = await owned_organization(session, principal, organization_id)
    repo = InvitationRepository(session)
    now = utcnow()
    expires_at = now.replace(microsecond=0) + timedelta(seconds=ttl_seconds)
    pending = await repo.pending(org.id, email, now)
    if pending is not None:
        pending.role, pending.expires_at = role, expires_at
        await session.flush()
        return pending
    invitation = await repo.add(
        Invitation(
            organization_id=org.id,
            email=email,
            role=role,
            invited_by=principal.id,
            expires_at=expires_at,
        )
    )
    log.info("organizations.invited", organization_id=org.id, invitation_id=invitation.id)
    return invitation


async def list_for_organization(
    session: AsyncSession, principal: Principal, organization_id: str
) -> Sequence[Invitation]:
    org = await owned_organization(session, principal, organization_id)
    return await InvitationRepository(session).list_for_organization(org.id, utcnow())


async def revoke(
    session: AsyncSession, principal: Principal, organization_id: str, invitation_id: str
) -> None:
    org = await owned_organization(session, principal, organization_id)
    repo = InvitationRepository(session)
    invitation = await repo.get(invitation_id, for_update=True)
    if invitation is None or invitation.organization_id != org.id:
        raise NotFound(NOT_FOUND)
    await repo.delete(invitation)


async def mine(
    session: AsyncSession, principal: Principal
) -> Sequence[tuple[Invitation, Organization]]:
    """Pending invitations to the caller's own address."""
    repo = InvitationRepository(session)
    email = await repo.email_of(principal.id)
    return [] if email is None else await repo.list_for_email(email, utcnow())


async def _addressed_to(
    session: AsyncSession, principal: Principal, invitation_id: str
) -> Invitation:
    """The invitation if it is pending and addressed to the caller; anyone else's,
    expired or missing ones read the same."""
    repo = InvitationRepository(session)
    invitation = await repo.get(invitation_id, for_update=True)
    email = await repo.email_of(principal.id)
    if invitation is None or email is None or invitation.email != email:
        raise NotFound(NOT_FOUND)
    if invitation.expires_at <= utcnow():
        raise NotFound(NOT_FOUND)
    return invitation


async def accept(
    session: AsyncSession, principal: Principal, invitation_id: str
) -> tuple[Organization, MemberRole]:
    invitation = await _addressed_to(session, principal, invitation_id)
    members = MembershipRepository(session)
    org_id, role = invitation.organization_id, invitation.role
    await InvitationRepository(session).delete(invitation)
    if await members.get(org_id, principal.id) is not None:
        raise Conflict("already a member of the organization")
    await members.add(Membership(organization_id=org_id, user_id=principal.id, role=role))
    org = await OrganizationRepository(session).get(org_id)
    assert org is not None  # the invitation's foreign key cascades with it
    log.info("organizations.joined", organization_id=org_id, user_id=principal.id)
    return org, role


async def decline(session: AsyncSession, principal: Principal, invitation_id: str) -> None:
    invitation = await _addressed_to(session, principal, invitation_id)
    await InvitationRepository(session).delete(invitation)

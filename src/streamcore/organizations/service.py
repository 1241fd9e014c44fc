"""Organizations and their members. Owners manage members; every member sees the
organization; nobody else learns it exists (NotFound, never Forbidden)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.auth.principal import Principal
from streamcore.errors import Conflict, Forbidden, NotFound
from streamcore.models import MemberRole, Membership, Organization, User
from streamcore.organizations.repository import MembershipRepository, OrganizationRepository

NOT_FOUND = "organization not found"


async def create_organization(session: AsyncSession, name: str, owner_id: str) -> Organization:
    org = await OrganizationRepository(session).add(Organization(name=name))
    await MembershipRepository(session).add(
        Membership(organization_id=org.id, user_id=owner_id, role=MemberRole.owner)
    )
    return org


async def role_of(session: AsyncSession, organization_id: str, user_id: str) -> MemberRole | None:
    return await MembershipRepository(session).role(organization_id, user_id)


async def first_owned(session: AsyncSession, user_id: str) -> Organization | None:
    return await OrganizationRepository(session).first_owned(user_id)


async def memberships(
    session: AsyncSession, user_id: str
) -> Sequence[tuple[Organization, MemberRole]]:
    return await OrganizationRepository(session).list_for_user(user_id)


async def list_organizations(
    session: AsyncSession, principal: Principal
) -> list[tuple[Organization, MemberRole | None]]:
    """The caller's organizations with their role; a super-admin sees every one."""
    repo = OrganizationRepository(session)
    mine: list[tuple[Organization, MemberRole | None]] = list(
        await repo.list_for_user(principal.id)
    )
    if not principal.is_superadmin:
        return mine
    roles = {org.id: role for org, role in mine}
    return [(org, roles.get(org.id)) for org in await repo.list_all()]


async def visible_organization(
    session: AsyncSession, principal: Principal, organization_id: str
) -> tuple[Organization, MemberRole | None]:
    """The organization and the caller's role in it; NotFound unless a member."""
    org = await OrganizationRepository(session).get(organization_id)
    if org is None:
        raise NotFound(NOT_FOUND)
    role = await role_of(session, org.id, principal.id)
    if role is None and not principal.is_superadmin:
        raise NotFound(NOT_FOUND)
    return org, role


async def owned_organization(
    session: AsyncSession, principal: Principal, organization_id: str
) -> Organization:
    """The organization if the caller may manage it (owner or super-admin)."""
    org, role = await visible_organization(session, principal, organization_id)
    if role is not MemberRole.owner and not principal.is_superadmin:
        raise Forbidden("only an owner of the organization can do this")
    return org


async def organization_for_new_project(
    session: AsyncSession, principal: Principal, requested: str | None, personal_name: str
) -> str:
    """Where a new project goes: the requested organization if the caller owns it, else
    the caller's first owned one, else a new personal organization."""
    if requested is not None:
        return (await owned_organization(session, principal, requested)).id
    org = await first_owned(session, principal.id)
    if org is None:
        org = await create_organization(session, personal_name, principal.id)
    return org.id


async def list_members(
    session: AsyncSession, principal: Principal, organization_id: str
) -> Sequence[tuple[Membership, User]]:
    org, _ = await visible_organization(session, principal, organization_id)
    return await MembershipRepository(session).list_with_users(org.id)


async def add_member(
    session: AsyncSession,
    principal: Principal,
    organization_id: str,
    user: User,
    role: MemberRole,
) -> Membership:
    org = await owned_organization(session, principal, organization_id)
    repo = MembershipRepository(session)
    if await repo.get(org.id, user.id) is not None:
        raise Conflict("already a member of the organization")
    return await repo.add(Membership(organization_id=org.id, user_id=user.id, role=role))


async def remove_member(
    session: AsyncSession, principal: Principal, organization_id: str, user_id: str
) -> None:
    org = await owned_organization(session, principal, organization_id)
    repo = MembershipRepository(session)
    owners = await repo.owners(org.id, for_update=True)
    membership = await repo.get(org.id, user_id, for_update=True)
    if membership is None:
        raise NotFound("member not found")
    if membership.role is MemberRole.owner and len(owners) <= 1:
        raise Conflict("an organization keeps at least one owner")
    await repo.delete(membership)

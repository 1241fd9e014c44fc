from __future__ import annotations

from fastapi import APIRouter, Response, status

from streamcore.auth import service as auth
from streamcore.auth.dependencies import UserDep
from streamcore.deps import SessionDep
from streamcore.errors import Conflict, Forbidden, NotFound, Unauthorized, error_responses
from streamcore.inputs import PathId
from streamcore.models import MemberRole
from streamcore.organizations import service
from streamcore.organizations.schemas import (
    MemberCreate,
    MemberRead,
    OrganizationCreate,
    OrganizationRead,
)

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationRead,
    responses=error_responses(Unauthorized, Forbidden),
)
async def create_organization(
    body: OrganizationCreate, session: SessionDep, principal: UserDep
) -> OrganizationRead:
    """Create an organization; the caller becomes its owner."""
    org = await service.create_organization(session, body.name, principal.id)
    return OrganizationRead(
        id=org.id, name=org.name, role=MemberRole.owner, created_at=org.created_at
    )


@router.get(
    "", response_model=list[OrganizationRead], responses=error_responses(Unauthorized, Forbidden)
)
async def list_organizations(session: SessionDep, principal: UserDep) -> list[OrganizationRead]:
    """The organizations the caller belongs to, with their role."""
    return [
        OrganizationRead(id=org.id, name=org.name, role=role, created_at=org.created_at)
        for org, role in await service.list_organizations(session, principal)
    ]


@router.get(
    "/{organization_id}/members",
    response_model=list[MemberRead],
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def list_members(
    organization_id: PathId, session: SessionDep, principal: UserDep
) -> list[MemberRead]:
    """The organization's members and their roles."""
    return [
        MemberRead(user_id=u.id, email=u.email, role=m.role, created_at=m.created_at)
        for m, u in await service.list_members(session, principal, organization_id)
    ]


@router.post(
    "/{organization_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def add_member(
    organization_id: PathId, body: MemberCreate, session: SessionDep, principal: UserDep
) -> MemberRead:
    """Add an existing user to the organization as owner or collaborator (owners only)."""
    await service.owned_organization(session, principal, organization_id)
    user = await auth.find_user_by_email(session, body.email)
    m = await service.add_member(session, principal, organization_id, user, body.role)
    return MemberRead(user_id=user.id, email=user.email, role=m.role, created_at=m.created_at)


@router.delete(
    "/{organization_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def remove_member(
    organization_id: PathId, user_id: PathId, session: SessionDep, principal: UserDep
) -> Response:
    """Remove a member (owners only; the last owner stays)."""
    await service.remove_member(session, principal, organization_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

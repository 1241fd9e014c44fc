from __future__ import annotations

from fastapi import APIRouter, Response, status

from streamcore.auth.dependencies import UserDep
from streamcore.deps import InfraDep, SessionDep
from streamcore.errors import Conflict, Forbidden, NotFound, Unauthorized, error_responses
from streamcore.inputs import PathId
from streamcore.models import MemberRole
from streamcore.organizations import invitations, service
from streamcore.organizations.schemas import (
    InvitationCreate,
    InvitationRead,
    MemberRead,
    OrganizationCreate,
    OrganizationRead,
    ReceivedInvitationRead,
)

router = APIRouter(prefix="/organizations", tags=["organizations"])
received_router = APIRouter(prefix="/invitations", tags=["organizations"])


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
    "/{organization_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def invite(
    organization_id: PathId,
    body: InvitationCreate,
    session: SessionDep,
    infra: InfraDep,
    principal: UserDep,
) -> InvitationRead:
    """Invite an email address (owners only); the same answer whether or not it has an
    account. The account with that address sees it at `GET /invitations` and accepts."""
    invitation = await invitations.invite(
        session,
        principal,
        organization_id,
        body.email,
        body.role,
        infra.settings.auth.invitation_ttl_seconds,
    )
    return InvitationRead.model_validate(invitation)


@router.get(
    "/{organization_id}/invitations",
    response_model=list[InvitationRead],
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def list_invitations(
    organization_id: PathId, session: SessionDep, principal: UserDep
) -> list[InvitationRead]:
    """Pending invitations of the organization (owners only)."""
    found = await invitations.list_for_organization(session, principal, organization_id)
    return [InvitationRead.model_validate(i) for i in found]


@router.delete(
    "/{organization_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def revoke_invitation(
    organization_id: PathId, invitation_id: PathId, session: SessionDep, principal: UserDep
) -> Response:
    """Withdraw a pending invitation (owners only)."""
    await invitations.revoke(session, principal, organization_id, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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


@received_router.get(
    "",
    response_model=list[ReceivedInvitationRead],
    responses=error_responses(Unauthorized, Forbidden),
)
async def my_invitations(session: SessionDep, principal: UserDep) -> list[ReceivedInvitationRead]:
    """Pending invitations to the caller's email address."""
    return [
        ReceivedInvitationRead(
            **InvitationRead.model_validate(i).model_dump(), organization_name=org.name
        )
        for i, org in await invitations.mine(session, principal)
    ]


@received_router.post(
    "/{invitation_id}/accept",
    response_model=OrganizationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def accept_invitation(
    invitation_id: PathId, session: SessionDep, principal: UserDep
) -> OrganizationRead:
    """Join the organization of an invitation addressed to the caller."""
    org, role = await invitations.accept(session, principal, invitation_id)
    return OrganizationRead(id=org.id, name=org.name, role=role, created_at=org.created_at)


@received_router.delete(
    "/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def decline_invitation(
    invitation_id: PathId, session: SessionDep, principal: UserDep
) -> Response:
    """Decline an invitation addressed to the caller."""
    await invitations.decline(session, principal, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

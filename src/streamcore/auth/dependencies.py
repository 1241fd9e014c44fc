"""The one authentication dependency every protected route sits behind, and the
per-project access check routes call.

`get_principal` accepts `Authorization: Bearer <access JWT>`, `Authorization: Bearer
sk_...` or `X-API-Key: sk_...`; anything else is a 401 with `WWW-Authenticate: Bearer`.
Routes then call `await authorize(session, principal, project_id, Action.x)`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.auth import service
from streamcore.auth.principal import Action, Principal, PrincipalKind, Scope
from streamcore.deps import InfraDep
from streamcore.infra import Infra

__all__ = [
    "Action",
    "Principal",
    "PrincipalDep",
    "PrincipalKind",
    "Scope",
    "SuperAdminDep",
    "UserDep",
    "authorize",
    "get_principal",
    "verify_credentials",
]

# Declared for OpenAPI (the /docs "Authorize" dialog); the raw headers are verified below.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="An access token from `POST /auth/login`, or an API key (`sk_...`).",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="APIKeyHeader",
    description="A project API key (`sk_...`).",
)


async def verify_credentials(
    infra: Infra, *, authorization: str | None, api_key: str | None
) -> Principal:
    """The one verifier, shared by HTTP and the Socket.IO handshake: an `Authorization`
    value (`Bearer <JWT>` or `Bearer sk_...`) or an `X-API-Key` value in, a Principal
    out, or Unauthorized (TooManyRequests for a key over its rate).

    It runs in a short transaction of its own, committed (a key's last_used_at): the
    caller's own work may hold none open at all (uploads stream for minutes)."""
    async with infra.transaction() as session:
        return await service.verify_credentials(
            session, infra, authorization=authorization, api_key=api_key
        )


async def get_principal(
    request: Request,
    infra: InfraDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    _api_key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal:
    return await verify_credentials(
        infra,
        authorization=request.headers.get("authorization"),
        api_key=request.headers.get("x-api-key"),
    )


async def get_user(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    return service.require_user(principal)


async def get_superadmin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    return service.require_superadmin(principal)


async def authorize(
    session: AsyncSession,
    principal: Principal,
    project_id: str,
    action: Action,
    *,
    not_found: str = "project not found",
) -> None:
    """Raise NotFound (the project is invisible to the caller) or Forbidden (visible,
    but the action is not allowed) unless principal may do action on the project.
    Routes about an object inside a project pass the detail their own 404 would give
    (`not_found="video not found"`), so a foreign id reads exactly like a missing one."""
    await service.authorize(session, principal, project_id, action, not_found=not_found)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
# A user's login (API keys get 403), and a super-admin's.
UserDep = Annotated[Principal, Depends(get_user)]
SuperAdminDep = Annotated[Principal, Depends(get_superadmin)]

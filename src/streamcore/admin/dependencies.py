"""Who may use the admin API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from streamcore.auth.dependencies import Principal, PrincipalDep


async def require_admin(principal: PrincipalDep) -> Principal:
    """The caller, if allowed to operate the platform. Today every caller is the local
    operator; the access-control work makes this check the super-admin role (and
    answer 403 otherwise) without the routes changing."""
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]

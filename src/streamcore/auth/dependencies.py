"""The one authentication dependency every route sits behind.

Until accounts land, streamcore runs single-tenant: every caller is the local operator
with access to everything. The access-control work replaces `get_principal` (JWT and
API key verification) and `authorize` (per-project roles and scopes); routes do not
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.infra import Infra


class Action(StrEnum):
    read = "read"
    upload = "upload"
    stream = "stream"
    manage = "manage"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    kind: str
    id: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


LOCAL_OPERATOR = Principal(kind="local", id="operator")


async def verify_credentials(
    infra: Infra, *, authorization: str | None, api_key: str | None
) -> Principal:
    """The one verifier, shared by HTTP and the Socket.IO handshake: a bearer JWT or an
    API key in, a Principal out, or Unauthorized."""
    return LOCAL_OPERATOR


async def get_principal(request: Request) -> Principal:
    infra: Infra = request.app.state.infra
    return await verify_credentials(
        infra,
        authorization=request.headers.get("authorization"),
        api_key=request.headers.get("x-api-key"),
    )


async def authorize(
    session: AsyncSession, principal: Principal, project_id: str, action: Action
) -> None:
    """Raise NotFound (the project is invisible to the caller) or Forbidden (visible,
    but the action is not allowed) unless principal may do action on the project."""
    return None


PrincipalDep = Annotated[Principal, Depends(get_principal)]

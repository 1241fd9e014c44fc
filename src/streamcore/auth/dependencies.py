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


async def get_principal(request: Request) -> Principal:
    return LOCAL_OPERATOR


def authorize(principal: Principal, project_id: str, action: Action) -> None:
    """Raise NotFound/Forbidden when principal may not do action on the project."""
    return None


PrincipalDep = Annotated[Principal, Depends(get_principal)]

"""FastAPI dependencies shared by every domain: Infra, the request's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.infra import Infra


def get_infra(request: Request) -> Infra:
    infra: Infra = request.app.state.infra
    return infra


async def get_session(infra: Annotated[Infra, Depends(get_infra)]) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the endpoint returns cleanly."""
    async with infra.transaction() as session:
        yield session


InfraDep = Annotated[Infra, Depends(get_infra)]
# scope="function": commit before the response is sent. FastAPI's default for yield
# dependencies ("request") commits afterwards, so a client could act on a 201 whose
# transaction has not committed yet (seen on PostgreSQL) or that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

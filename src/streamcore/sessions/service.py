from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.db.base import utcnow
from streamcore.errors import Conflict, NotFound
from streamcore.models import RecordingSession
from streamcore.sessions.repository import SessionRepository


async def create_session(session: AsyncSession, project_id: str, name: str) -> RecordingSession:
    rec = RecordingSession(project_id=project_id, name=name)
    session.add(rec)
    await session.flush()
    return rec


async def get_session(
    session: AsyncSession, session_id: str, *, for_update: bool = False
) -> RecordingSession:
    rec = await SessionRepository(session).get(session_id, for_update=for_update)
    if rec is None:
        raise NotFound("session not found")
    return rec


def require_open(rec: RecordingSession) -> None:
    """An ended session takes no joins and no recordings (409)."""
    if rec.ended_at is not None:
        raise Conflict("the session has ended")


async def list_sessions(
    session: AsyncSession, project_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> Sequence[RecordingSession]:
    return await SessionRepository(session).page(project_id, after, limit)


async def update_session(
    session: AsyncSession, rec: RecordingSession, *, name: str | None, ended: bool | None
) -> RecordingSession:
    """Rename it, or end it (for good: an ended session cannot be reopened)."""
    if ended is False and rec.ended_at is not None:
        raise Conflict("an ended session cannot be reopened")
    if name is not None:
        rec.name = name
    if ended and rec.ended_at is None:
        rec.ended_at = utcnow()
    await session.flush()
    return rec


async def end_all(session: AsyncSession, project_id: str) -> None:
    await SessionRepository(session).end_all(project_id, utcnow())

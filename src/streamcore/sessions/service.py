from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.errors import NotFound
from streamcore.models import RecordingSession


async def create_session(session: AsyncSession, project_id: str, name: str) -> RecordingSession:
    rec = RecordingSession(project_id=project_id, name=name)
    session.add(rec)
    await session.flush()
    return rec


async def get_session(session: AsyncSession, session_id: str) -> RecordingSession:
    rec = await session.get(RecordingSession, session_id)
    if rec is None:
        raise NotFound("session not found")
    return rec

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import RecordingSession


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, session_id: str, *, for_update: bool = False) -> RecordingSession | None:
        stmt = select(RecordingSession).where(RecordingSession.id == session_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(
        self, project_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[RecordingSession]:
        """Newest first by (created_at, id), strictly after the position `after`."""
        rs = RecordingSession
        stmt = select(rs).where(rs.project_id == project_id)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(rs.created_at < at, and_(rs.created_at == at, rs.id < last_id)))
        stmt = stmt.order_by(rs.created_at.desc(), rs.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def end_all(self, project_id: str, now: datetime) -> None:
        await self.session.execute(
            update(RecordingSession)
            .where(RecordingSession.project_id == project_id, RecordingSession.ended_at.is_(None))
            .values(ended_at=now)
            .execution_options(synchronize_session=False)
        )

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import UploadLog


class UploadLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: UploadLog) -> None:
        self.session.add(entry)
        await self.session.flush()

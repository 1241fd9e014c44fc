from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Upload, UploadLog, UploadState


class UploadLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: UploadLog) -> None:
        self.session.add(entry)
        await self.session.flush()


class UploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, upload: Upload) -> None:
        self.session.add(upload)
        await self.session.flush()

    async def get(self, upload_id: str, *, for_update: bool = False) -> Upload | None:
        stmt = select(Upload).where(Upload.id == upload_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def expired_open(self, before: datetime, limit: int) -> Sequence[Upload]:
        """Open uploads whose expiry passed before `before`, locked for the sweeper."""
        stmt = (
            select(Upload)
            .where(Upload.state == UploadState.open, Upload.expires_at < before)
            .order_by(Upload.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def of_asset(self, asset_id: str, *, for_update: bool = False) -> Sequence[Upload]:
        stmt = select(Upload).where(Upload.asset_id == asset_id).order_by(Upload.id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalars().all()

    async def latest_for_asset(self, asset_id: str, *, for_update: bool = False) -> Upload | None:
        stmt = (
            select(Upload)
            .where(Upload.asset_id == asset_id)
            .order_by(Upload.created_at.desc())
            .limit(1)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def advance(
        self, upload_id: str, old_offset: int, new_offset: int, chunk_keys: list[str]
    ) -> bool:
        """Move an open upload from old_offset to new_offset; False when another request
        moved it first (compare-and-set, so no lock is held while bytes stream in)."""
        result = await self.session.execute(
            update(Upload)
            .where(
                Upload.id == upload_id,
                Upload.offset_bytes == old_offset,
                Upload.state == UploadState.open,
            )
            .values(offset_bytes=new_offset, chunk_keys=chunk_keys)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

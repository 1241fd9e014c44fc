from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from streamcore.models import Asset, AssetSource, AssetStatus


class AssetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, asset_id: str, *, for_update: bool = False) -> Asset | None:
        stmt = select(Asset).where(Asset.id == asset_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add(self, asset: Asset) -> Asset:
        self.session.add(asset)
        await self.session.flush()
        return asset

    async def bytes_used(self, project_id: str) -> int:
        """Bytes the project's assets hold (cancelled ones hold none)."""
        stmt = select(func.coalesce(func.sum(Asset.size_bytes), 0)).where(
            Asset.project_id == project_id, Asset.status != AssetStatus.cancelled
        )
        return int((await self.session.execute(stmt)).scalar_one() or 0)

    async def list_for_project(self, project_id: str, limit: int = 100) -> Sequence[Asset]:
        stmt = (
            select(Asset)
            .where(Asset.project_id == project_id)
            .order_by(Asset.created_at.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def stale_awaiting(
        self, source: AssetSource, before: datetime, limit: int
    ) -> Sequence[Asset]:
        """Assets of `source` still awaiting their bytes, untouched since `before`."""
        stmt = (
            select(Asset)
            .where(
                Asset.source == source,
                Asset.status == AssetStatus.awaiting_upload,
                Asset.updated_at < before,
            )
            .order_by(Asset.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def set_progress(
        self, asset_id: str, progress: float, eta_seconds: float | None
    ) -> Asset | None:
        """Store progress of a transcoding asset; returns it (None if not transcoding)."""
        await self.session.execute(
            update(Asset)
            .where(Asset.id == asset_id, Asset.status == AssetStatus.transcoding)
            .values(progress=progress, eta_seconds=eta_seconds)
            .execution_options(synchronize_session=False)
        )
        asset = await self.get(asset_id)
        if asset is not None:
            await self.session.refresh(asset, ["progress", "eta_seconds"])
        return asset

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, tuple_, update
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


@dataclass(frozen=True)
class VideoQuery:
    """Filters of the library listing; None means "any"."""

    project_ids: Sequence[str] | None = None
    session_id: str | None = None
    statuses: Sequence[AssetStatus] | None = None
    sources: Sequence[AssetSource] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    text: str | None = None
    external_id: str | None = None
    include_deleted: bool = False


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class LibraryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, query: VideoQuery, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[Asset]:
        """Up to limit assets, newest first by (created_at, id), strictly after the
        position `after` (keyset: rows inserted meanwhile never shift a page)."""
        stmt = select(Asset)
        if query.project_ids is not None:
            stmt = stmt.where(Asset.project_id.in_(list(query.project_ids)))
        if query.session_id is not None:
            stmt = stmt.where(Asset.session_id == query.session_id)
        if query.statuses:
            stmt = stmt.where(Asset.status.in_(list(query.statuses)))
        elif not query.include_deleted:
            stmt = stmt.where(Asset.status != AssetStatus.deleted)
        if query.sources:
            stmt = stmt.where(Asset.source.in_(list(query.sources)))
        if query.created_after is not None:
            stmt = stmt.where(Asset.created_at > query.created_after)
        if query.created_before is not None:
            stmt = stmt.where(Asset.created_at < query.created_before)
        if query.external_id is not None:
            stmt = stmt.where(Asset.external_id == query.external_id)
        if query.text:
            pattern = _like(query.text)
            stmt = stmt.where(
                or_(
                    Asset.title.ilike(pattern, escape="\\"),
                    Asset.filename.ilike(pattern, escape="\\"),
                )
            )
        if after is not None:
            # A row-value comparison: both databases walk the (created_at, id) index
            # from the position, where an OR of two conditions may scan.
            at, last_id = after
            stmt = stmt.where(tuple_(Asset.created_at, Asset.id) < tuple_(at, last_id))
        stmt = stmt.order_by(Asset.created_at.desc(), Asset.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def external_id_owner(self, project_id: str, external_id: str) -> str | None:
        """The id of the project's video holding external_id, if any."""
        stmt = select(Asset.id).where(
            Asset.project_id == project_id, Asset.external_id == external_id
        )
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def status_of(self, asset_id: str) -> AssetStatus | None:
        stmt = select(Asset.status).where(Asset.id == asset_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def ids_of_project(self, project_id: str, *, live_only: bool) -> Sequence[str]:
        stmt = select(Asset.id).where(Asset.project_id == project_id)
        if live_only:
            stmt = stmt.where(Asset.status.not_in([AssetStatus.deleting, AssetStatus.deleted]))
        return (await self.session.execute(stmt)).scalars().all()

    async def count_undeleted(self, project_id: str) -> int:
        stmt = select(func.count()).where(
            Asset.project_id == project_id, Asset.status != AssetStatus.deleted
        )
        return int((await self.session.execute(stmt)).scalar_one())

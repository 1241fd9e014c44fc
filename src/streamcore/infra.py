"""Infra: everything that talks to the outside world, built once per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from streamcore.adapters.bus.db import DatabaseBus
from streamcore.adapters.ffmpeg import FFmpegRunner
from streamcore.adapters.storage.azure import AzureBlobStorage, AzureConfig
from streamcore.adapters.storage.base import ObjectStorage
from streamcore.adapters.storage.local import LocalStorage
from streamcore.adapters.storage.s3 import S3Config, S3Storage
from streamcore.config import Settings
from streamcore.db.session import PENDING_JOBS, create_engine, create_sessionmaker
from streamcore.observability.metrics import Metrics
from streamcore.stream.tokens import TokenCodec


@dataclass
class Infra:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: ObjectStorage
    bus: DatabaseBus
    media: FFmpegRunner
    tokens: TokenCodec
    metrics: Metrics = field(default_factory=Metrics)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends cleanly, then the jobs it
        enqueued are published (the outbox rule: never publish what did not commit)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            job_ids: list[str] = session.info.pop(PENDING_JOBS, [])
        if job_ids:
            await self.bus.publish(job_ids)

    async def close(self) -> None:
        await self.bus.close()
        await self.storage.close()
        await self.engine.dispose()


def build_storage(settings: Settings) -> ObjectStorage:
    """The object store STREAMCORE_STORAGE__BACKEND names; remote ones download to
    <data_dir>/tmp when a local copy is needed."""
    cfg = settings.storage
    tmp_dir = settings.data_dir / "tmp"
    if cfg.backend == "s3":
        return S3Storage(
            S3Config(
                bucket=cfg.s3_bucket,
                endpoint_url=cfg.s3_endpoint_url or None,
                public_endpoint_url=cfg.s3_public_endpoint_url or None,
                region=cfg.s3_region,
                access_key_id=cfg.s3_access_key_id or None,
                secret_access_key=cfg.s3_secret_access_key or None,
                addressing_style=cfg.s3_addressing_style,
                create_bucket=cfg.s3_create_bucket,
                part_bytes=cfg.part_bytes,
                tmp_dir=tmp_dir,
                retries=cfg.retries,
            )
        )
    if cfg.backend == "azure":
        return AzureBlobStorage(
            AzureConfig(
                account_name=cfg.azure_account_name,
                account_key=cfg.azure_account_key,
                account_url=cfg.azure_account_url,
                container=cfg.azure_container,
                create_container=cfg.azure_create_container,
                part_bytes=cfg.part_bytes,
                tmp_dir=tmp_dir,
                retries=cfg.retries,
            )
        )
    return LocalStorage(settings.local_storage_root)


def build_infra(settings: Settings) -> Infra:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, echo=settings.database.echo)
    return Infra(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        storage=build_storage(settings),
        bus=DatabaseBus(),
        media=FFmpegRunner(settings.media.ffmpeg, settings.media.ffprobe),
        tokens=TokenCodec.from_secret(settings.resolved_secret()),
    )

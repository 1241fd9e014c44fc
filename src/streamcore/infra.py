"""Infra: everything that talks to the outside world, built once per process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from streamcore.adapters.bus.db import DatabaseBus
from streamcore.adapters.bus.kafka import KafkaBus
from streamcore.adapters.ffmpeg import FFmpegRunner
from streamcore.adapters.realtime import LocalRealtime
from streamcore.adapters.signals import LocalSignals, RedisSignals, Signals
from streamcore.adapters.storage.base import ObjectStorage
from streamcore.adapters.storage.local import LocalStorage
from streamcore.config import Settings
from streamcore.db.session import AFTER_COMMIT, PENDING_JOBS, create_engine, create_sessionmaker
from streamcore.observability.metrics import Metrics
from streamcore.stream.tokens import TokenCodec

log = structlog.get_logger(__name__)

# Run after a commit with the Infra; keyed so one transaction queues one per object.
AfterCommit = Callable[["Infra"], Awaitable[None]]


@dataclass
class Infra:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: ObjectStorage
    bus: DatabaseBus | KafkaBus
    media: FFmpegRunner
    tokens: TokenCodec
    signals: Signals = field(default_factory=LocalSignals)
    realtime: LocalRealtime = field(default_factory=LocalRealtime)
    metrics: Metrics = field(default_factory=Metrics)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends cleanly, then the jobs it
        enqueued are handed to the bus (the outbox rule: never publish what did not
        commit). The jobs table keeps them until published, so a crash here loses nothing."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            job_ids: list[str] = session.info.pop(PENDING_JOBS, [])
            callbacks: dict[str, AfterCommit] = session.info.pop(AFTER_COMMIT, {})
        if job_ids:
            await self.bus.notify(job_ids)
        for callback in callbacks.values():
            try:
                await callback(self)
            except Exception:
                log.warning("after_commit.failed", exc_info=True)

    async def close(self) -> None:
        await self.bus.close()
        await self.signals.close()
        await self.realtime.close()
        await self.engine.dispose()


def build_infra(settings: Settings) -> Infra:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, echo=settings.database.echo)
    return Infra(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        storage=LocalStorage(settings.local_storage_root),
        bus=build_bus(settings),
        media=FFmpegRunner(settings.media.ffmpeg, settings.media.ffprobe),
        tokens=TokenCodec.from_secret(settings.resolved_secret()),
        signals=build_signals(settings),
    )


def build_bus(settings: Settings) -> DatabaseBus | KafkaBus:
    bus = settings.bus
    if bus.backend == "kafka":
        return KafkaBus(bus.bootstrap_servers, request_timeout_ms=bus.request_timeout_ms)
    return DatabaseBus()


def build_signals(settings: Settings) -> Signals:
    if settings.redis.url:
        return RedisSignals(settings.redis.url, settings.redis.channel_prefix)
    return LocalSignals()

"""Infra: everything that talks to the outside world, built once per process."""

from __future__ import annotations

import contextvars
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from streamcore.adapters.bus.base import Bus
from streamcore.adapters.bus.db import DatabaseBus
from streamcore.adapters.bus.kafka import KafkaBus
from streamcore.adapters.fetch import FetchPolicy, parse_networks
from streamcore.adapters.ffmpeg import FFmpegRunner
from streamcore.adapters.presence import MemoryPresence, Presence, RedisPresence
from streamcore.adapters.ratelimit import RateLimiter, build_rate_limiter
from streamcore.adapters.realtime import LocalRealtime, Realtime, RedisRealtime
from streamcore.adapters.signals import LocalSignals, RedisSignals, Signals
from streamcore.adapters.storage.azure import AzureBlobStorage, AzureConfig
from streamcore.adapters.storage.base import ObjectStorage
from streamcore.adapters.storage.local import LocalStorage
from streamcore.adapters.storage.s3 import S3Config, S3Storage
from streamcore.adapters.webhook_http import WebhookClient
from streamcore.config import Settings
from streamcore.db.session import (
    AFTER_COMMIT,
    ENQUEUED_KINDS,
    PENDING_JOBS,
    create_engine,
    create_sessionmaker,
)
from streamcore.models import JobKind
from streamcore.observability.metrics import Metrics
from streamcore.security.access_tokens import AccessTokenCodec
from streamcore.security.passwords import Passwords
from streamcore.security.stream_tokens import TokenCodec

log = structlog.get_logger(__name__)

# Run after a commit with the Infra; keyed so one transaction queues one per object.
AfterCommit = Callable[["Infra"], Awaitable[None]]


SLOW_TRANSACTION_SECONDS = 5.0
_OPEN_SESSION: contextvars.ContextVar[AsyncSession | None] = contextvars.ContextVar(
    "open_session", default=None
)


def _callers(depth: int = 6) -> list[str]:
    """The streamcore functions on the stack, innermost first (for slow transactions)."""
    frames = traceback.extract_stack()[:-2]
    ours = [
        f for f in frames if "/streamcore/" in f.filename and not f.filename.endswith("infra.py")
    ]
    return [
        f"{f.filename.rsplit('/streamcore/', 1)[1]}:{f.lineno}:{f.name}" for f in ours[::-1][:depth]
    ]


@dataclass
class Infra:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: ObjectStorage
    bus: Bus
    media: FFmpegRunner
    tokens: TokenCodec
    access_tokens: AccessTokenCodec
    passwords: Passwords
    ratelimiter: RateLimiter
    realtime: Realtime = field(default_factory=LocalRealtime)
    presence: Presence = field(default_factory=MemoryPresence)
    signals: Signals = field(default_factory=LocalSignals)
    metrics: Metrics = field(default_factory=Metrics)
    webhooks: WebhookClient = field(
        default_factory=lambda: WebhookClient(FetchPolicy(max_bytes=0), 4096)
    )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends cleanly, then the jobs it
        enqueued are handed to the bus (the outbox rule: never publish what did not
        commit). The jobs table keeps them until published, so a crash here loses nothing."""
        opened = time.monotonic()
        outer = _OPEN_SESSION.get()
        if outer is not None and outer.in_transaction():
            # A transaction opened inside one that has begun waits for the outer one's
            # lock on SQLite: a deadlock until the busy timeout ("database is locked").
            log.warning("db.nested_transaction", where=" < ".join(_callers()))
        async with self.sessionmaker() as session:
            token = _OPEN_SESSION.set(session)
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                _OPEN_SESSION.reset(token)
                held = time.monotonic() - opened
                if held > SLOW_TRANSACTION_SECONDS:
                    # On SQLite a transaction holds the one write lock: every other
                    # request waits behind it. Say where it was.
                    log.warning(
                        "db.slow_transaction",
                        seconds=round(held, 2),
                        where=" < ".join(_callers()),
                    )
            job_ids: list[str] = session.info.pop(PENDING_JOBS, [])
            for kind in session.info.pop(ENQUEUED_KINDS, []):
                self.metrics.jobs_enqueued.labels(kind).inc()
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
        await self.ratelimiter.close()
        await self.signals.close()
        await self.realtime.close()
        await self.presence.close()
        await self.storage.close()
        await self.webhooks.close()
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
    redis_url, prefix = settings.redis.url, settings.redis.prefix
    return Infra(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        storage=build_storage(settings),
        bus=build_bus(settings),
        media=FFmpegRunner(settings.media.ffmpeg, settings.media.ffprobe),
        tokens=TokenCodec.from_secret(
            settings.stream.token_secret or settings.resolved_secret(),
            settings.stream.verify_secrets,
        ),
        access_tokens=AccessTokenCodec.from_secret(
            settings.resolved_secret(),
            settings.auth.access_token_ttl_seconds,
            settings.previous_secret_keys,
        ),
        passwords=Passwords(
            memory_kib=settings.auth.argon2_memory_kib,
            time_cost=settings.auth.argon2_time_cost,
            parallelism=settings.auth.argon2_parallelism,
        ),
        ratelimiter=build_rate_limiter(redis_url, prefix),
        realtime=RedisRealtime(redis_url, prefix) if redis_url else LocalRealtime(),
        presence=RedisPresence(redis_url, prefix) if redis_url else MemoryPresence(),
        signals=build_signals(settings),
        metrics=Metrics(job_kinds=tuple(kind.value for kind in JobKind)),
        webhooks=build_webhook_client(settings),
    )


def build_webhook_client(settings: Settings) -> WebhookClient:
    """SSRF rules of URL import, with the webhook allow-list (empty: public only)."""
    cfg = settings.webhooks
    policy = FetchPolicy(
        max_bytes=cfg.max_response_bytes,
        max_redirects=0,
        connect_timeout=cfg.timeout_seconds,
        read_timeout=cfg.timeout_seconds,
        allow=parse_networks(cfg.allow_networks),
    )
    return WebhookClient(policy, cfg.max_response_bytes)


def build_bus(settings: Settings) -> Bus:
    bus = settings.bus
    if bus.backend == "kafka":
        return KafkaBus(bus.bootstrap_servers, request_timeout_ms=bus.request_timeout_ms)
    return DatabaseBus()


def build_signals(settings: Settings) -> Signals:
    if settings.redis.url:
        return RedisSignals(settings.redis.url, settings.redis.prefix)
    return LocalSignals()

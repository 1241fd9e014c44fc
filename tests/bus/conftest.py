from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamcore.config import Settings
from streamcore.infra import Infra, build_infra
from tests.fixtures.kafka import Broker
from tests.fixtures.services import postgres_database


def kafka_settings(
    data_dir: Path, database_url: str, broker: Broker, redis_url: str = "", **overrides: Any
) -> Settings:
    """Kafka-mode settings on a topic prefix and group of their own, with short timers."""
    tag = uuid.uuid4().hex[:8]
    bus: dict[str, Any] = {
        "backend": "kafka",
        "bootstrap_servers": broker.bootstrap,
        "topics": {"prefix": f"t{tag}."},
        "group_id": f"g{tag}",
        "partitions": 4,
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
        "rebalance_timeout_ms": 10000,
        "request_timeout_ms": 3000,
        "relay_interval_seconds": 0.2,
        "topic_check_seconds": 1.0,
        "scale_interval_seconds": 0.5,
        "min_consumers": 1,
        "max_consumers": 1,
    }
    bus.update(overrides.pop("bus", {}))
    worker: dict[str, Any] = {
        "lease_seconds": 4,
        "heartbeat_seconds": 1,
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.5,
    }
    worker.update(overrides.pop("worker", {}))
    return Settings(
        data_dir=data_dir,
        secret_key="test-secret",
        database={"url": database_url},  # type: ignore[arg-type]
        bus=bus,  # type: ignore[arg-type]
        worker=worker,  # type: ignore[arg-type]
        redis={"url": redis_url, "prefix": f"sc{tag}"},  # type: ignore[arg-type]
        **overrides,
    )


@pytest.fixture
def own_pg_url() -> Iterator[str]:
    """A database of this test alone: the relay publishes every due job it finds."""
    with postgres_database() as url:
        yield url


@pytest.fixture
async def kafka_infra(
    tmp_path: Path, own_pg_url: str, broker: Broker, redis_url: str
) -> AsyncIterator[Infra]:
    """In-process Infra in Kafka mode on PostgreSQL and Redis signals (no relay or
    consumers running)."""
    from streamcore.db.migrate import ensure_schema

    built = build_infra(kafka_settings(tmp_path, own_pg_url, broker, redis_url))
    await ensure_schema(built.engine)
    try:
        yield built
    finally:
        await built.close()
